package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"kehu/internal/kehu"
)

// Encodings a file may be detected as.
const (
	EncodingUTF8    = "utf-8"
	EncodingUTF8BOM = "utf-8-bom"
	EncodingGB18030 = "gb18030" // GB18030 is a superset of GBK and GB2312
	EncodingXLSX    = "xlsx"
)

// Row is one record of a file: its first physical line (1 = the header)
// and its cells as read, before any mapping.
type Row struct {
	Line  int64
	Cells []string
	// Problem is set when the row could not be read as a record (a broken
	// quote, a row cut off at the end of the file); Cells may be partial.
	Problem string
}

// Source reads the records of a file one at a time, in bounded memory
// whatever the file's size.
type Source interface {
	// Header returns the first record: the column names.
	Header() []string
	// Next returns the next data row, or io.EOF after the last. A returned
	// row with Problem set is a bad row; an error is a failure of the file
	// as a whole (unreadable, not CSV at all).
	Next() (Row, error)
	// Encoding names what was detected: utf-8, utf-8-bom, gb18030 or xlsx.
	Encoding() string
	Close() error
}

// maxLineBytes bounds a physical line (a quoted cell may span lines; each
// line is bounded). A file without line breaks is not a table, and reading
// it whole would defeat the bounded memory.
const maxLineBytes = 1 << 20

// sampleBytes is how much of a CSV file decides its encoding.
const sampleBytes = 1 << 20

// OpenFile opens a CSV or XLSX file for reading, detecting which it is from
// its first bytes (not its name): an XLSX file is a ZIP archive. The legacy
// binary .xls format is refused with a message saying what to do.
func OpenFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, kehu.Errorf(kehu.EINVALID, "cannot open the file: %v", err)
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		f.Close()
		return openXLSX(path)
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		f.Close()
		return nil, kehu.Errorf(kehu.EINVALID, "this is an Excel 97-2003 (.xls) or encrypted workbook, which cannot be "+
			"read: save it as .xlsx (without a password) or as CSV")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, kehu.Errorf(kehu.EINVALID, "cannot read the file: %v", err)
	}
	src, err := newCSVSource(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// csvSource reads delimited text. The encoding is decided from the first
// MiB: UTF-8 (with or without BOM) when it is valid UTF-8, else GB18030.
// A later cell that is not valid UTF-8 in a UTF-8 file makes its row bad
// rather than being silently mangled.
type csvSource struct {
	file     *os.File
	lines    *lineGuard
	r        *csv.Reader
	header   []string
	encoding string
	fails    int        // consecutive unreadable records
	ahead    *lookahead // the record read ahead, once reading started
}

func newCSVSource(f *os.File) (*csvSource, error) {
	br := bufio.NewReaderSize(f, sampleBytes)
	sample, err := br.Peek(sampleBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, kehu.Errorf(kehu.EINVALID, "cannot read the file: %v", err)
	}
	enc, err := detectEncoding(sample, errors.Is(err, io.EOF))
	if err != nil {
		return nil, err
	}
	var in io.Reader = br
	switch enc {
	case EncodingUTF8BOM:
		_, _ = br.Discard(3)
	case EncodingGB18030:
		in = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	s := &csvSource{file: f, encoding: enc}
	s.lines = &lineGuard{r: in}
	s.r = csv.NewReader(s.lines)
	s.r.FieldsPerRecord = -1 // ragged rows are reported per row, not fatal
	s.r.ReuseRecord = false
	s.r.Comma = sniffComma(sample)
	header, err := s.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, kehu.Errorf(kehu.EINVALID, "the file is empty: the first line must name the columns")
		}
		return nil, fileError(err)
	}
	s.header = header
	return s, nil
}

// detectEncoding decides the encoding of a CSV file from its first bytes.
// complete says the sample is the whole file (so a rune cut at the end of
// the sample is an error, not an artefact of sampling).
func detectEncoding(sample []byte, complete bool) (string, error) {
	switch {
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}), bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		return "", kehu.Errorf(kehu.EINVALID, "the file is UTF-16 (\"Unicode text\" in Excel): save it as "+
			"\"CSV UTF-8\" instead")
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		return EncodingUTF8BOM, nil
	}
	if bytes.IndexByte(sample, 0) >= 0 {
		return "", kehu.Errorf(kehu.EINVALID, "the file holds binary data (NUL bytes): it is not a CSV or XLSX file")
	}
	check := sample
	if !complete {
		// The sample may end inside a multi-byte character.
		for i := 0; i < utf8.UTFMax && len(check) > 0 && !utf8.FullRune(check[max(0, len(check)-utf8.UTFMax):]); i++ {
			check = check[:len(check)-1]
		}
		if cut := lastRuneStart(check); cut >= 0 && !utf8.FullRune(check[cut:]) {
			check = check[:cut]
		}
	}
	if utf8.Valid(check) {
		return EncodingUTF8, nil
	}
	return EncodingGB18030, nil
}

// lastRuneStart returns the index of the first byte of the last rune in b.
func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return -1
}

// sniffComma picks the delimiter of the header line: a comma unless the line
// holds more tabs (a "Text (Tab delimited)" save) or semicolons.
func sniffComma(sample []byte) rune {
	line := sample
	if i := bytes.IndexByte(sample, '\n'); i >= 0 {
		line = sample[:i]
	}
	best, n := ',', bytes.Count(line, []byte{','})
	for _, c := range []rune{'\t', ';', '|'} {
		if k := bytes.Count(line, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

func (s *csvSource) Header() []string { return s.header }
func (s *csvSource) Encoding() string { return s.encoding }
func (s *csvSource) Close() error     { return s.file.Close() }

// maxConsecutiveFailures is how many unreadable records in a row make the
// file as a whole unreadable (a binary file, the wrong delimiter).
const maxConsecutiveFailures = 1000

// Next reads the next record. A quote error is a bad row and reading goes
// on; the encoding check happens here for UTF-8 files. One record is read
// ahead so the last row of a file that was cut off can be named as such.
func (s *csvSource) Next() (Row, error) {
	if s.ahead == nil {
		r, err := s.read()
		s.ahead = &lookahead{r, err}
	}
	cur := *s.ahead
	if cur.err != nil {
		return Row{}, cur.err
	}
	next, err := s.read()
	s.ahead = &lookahead{next, err}
	last := errors.Is(err, io.EOF)
	switch {
	case last && cur.row.Problem == errQuoteProblem:
		cur.row.Problem = "the file ends inside a quoted cell started on this line: was it cut off?"
	case last && cur.row.Problem == "" && len(cur.row.Cells) < len(s.header) && !s.lines.endedWithNewline():
		cur.row.Problem = fmt.Sprintf("the file ends in the middle of this row (%d of %d columns): was it cut off?",
			len(cur.row.Cells), len(s.header))
	}
	return cur.row, nil
}

// lookahead is the record read ahead.
type lookahead struct {
	row Row
	err error
}

// errQuoteProblem marks a quote error until it is known whether the file
// ended inside the quoted cell.
const errQuoteProblem = "a quoted cell is not closed properly (a \" inside a quoted cell must be doubled)"

// read returns the next non-blank record.
func (s *csvSource) read() (Row, error) {
	for {
		rec, err := s.r.Read()
		row := Row{Cells: rec}
		if err == nil {
			line, _ := s.r.FieldPos(0)
			row.Line = int64(line)
		}
		var pe *csv.ParseError
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return Row{}, io.EOF
		case errors.Is(err, errLineTooLong):
			return Row{}, fileError(err)
		case errors.As(err, &pe):
			s.fails++
			if s.fails > maxConsecutiveFailures {
				return Row{}, kehu.Errorf(kehu.EINVALID, "more than %d unreadable rows in a row: this is not a CSV "+
					"file (or not comma-, tab- or semicolon-separated)", maxConsecutiveFailures)
			}
			row.Line = int64(pe.StartLine)
			row.Problem = csvProblem(pe)
			return row, nil
		default:
			return Row{}, fileError(err)
		}
		s.fails = 0
		if len(rec) == 1 && rec[0] == "" {
			continue // a blank line
		}
		if s.encoding != EncodingGB18030 {
			for _, c := range rec {
				if !utf8.ValidString(c) {
					row.Problem = "the row is not valid UTF-8 although the file starts as UTF-8 (mixed encodings?)"
					return row, nil
				}
			}
		}
		return row, nil
	}
}

// csvProblem describes a CSV syntax error in a row.
func csvProblem(pe *csv.ParseError) string {
	if errors.Is(pe.Err, csv.ErrQuote) {
		return errQuoteProblem
	}
	if errors.Is(pe.Err, csv.ErrBareQuote) {
		return fmt.Sprintf("a quote (\") is unbalanced near column %d; quote the whole cell and double quotes inside it", pe.Column)
	}
	return "the row cannot be read: " + pe.Err.Error()
}

func fileError(err error) error {
	if errors.Is(err, errLineTooLong) {
		return kehu.Errorf(kehu.EINVALID, "a line is longer than %d KiB: this is not a table of records", maxLineBytes>>10)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return kehu.Errorf(kehu.EINVALID, "line %d cannot be read: %v", pe.StartLine, pe.Err)
	}
	return kehu.Errorf(kehu.EINVALID, "cannot read the file: %v", err)
}

// errLineTooLong stops a file whose line exceeds maxLineBytes.
var errLineTooLong = errors.New("line too long")

// lineGuard passes bytes through, failing when a physical line grows past
// maxLineBytes, and remembers whether the input ended with a line break.
type lineGuard struct {
	r       io.Reader
	run     int  // bytes since the last '\n'
	last    byte // the last byte read
	anyRead bool
}

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			g.run = 0
		} else if g.run++; g.run > maxLineBytes {
			return 0, errLineTooLong
		}
	}
	if n > 0 {
		g.last, g.anyRead = p[n-1], true
	}
	return n, err
}

func (g *lineGuard) endedWithNewline() bool { return g.anyRead && (g.last == '\n' || g.last == '\r') }

// LastLine estimates the last line number of a file without parsing it: the
// line breaks of a CSV file plus one (a quoted cell spanning lines counts
// its breaks too), the last row of an XLSX worksheet's dimension. Progress
// bars divide by it.
func LastLine(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if bytes.HasPrefix(head[:n], []byte("PK\x03\x04")) {
		return xlsxLastRow(path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	var lines int64 = 1
	for {
		n, err := f.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// EstimateRows returns about how many data rows the file at path holds,
// without parsing it: the line breaks of a CSV file (a quoted cell spanning
// lines counts more than once), 0 for a workbook. It decides whether a load
// is large (docs/IMPORT.md "Large loads"), so an overestimate is harmless.
func EstimateRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, kehu.Errorf(kehu.EINVALID, "cannot open the file: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var lines int64
	first := true
	for {
		n, err := f.Read(buf)
		if first && n >= 4 && bytes.HasPrefix(buf[:n], []byte("PK\x03\x04")) {
			return 0, nil
		}
		first = false
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			return max(0, lines-1), nil // the header
		}
		if err != nil {
			return 0, kehu.Errorf(kehu.EINVALID, "cannot read the file: %v", err)
		}
	}
}
