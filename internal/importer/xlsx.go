package importer

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"

	"kehu/internal/kehu"
)

// xlsxSource reads the first worksheet of a workbook through excelize's row
// iterator, which streams the sheet's XML (from a temporary file once it is
// larger than 16 MiB) instead of loading the sheet. Cells are read raw: a
// date cell is its serial number and a number has no display format, so the
// columns parse them the same way whatever the cell style says.
type xlsxSource struct {
	file   *excelize.File
	rows   *excelize.Rows
	header []string
	row    int64 // the worksheet row last returned (1-based)
}

// xlsxLimits bound what excelize may unpack: a zip bomb is refused instead
// of filling the disk. 4 GiB covers a 2 GiB workbook's XML.
var xlsxLimits = excelize.Options{RawCellValue: true, UnzipSizeLimit: 16 << 30, UnzipXMLSizeLimit: 16 << 20,
	TmpDir: os.TempDir()}

func openXLSX(path string) (Source, error) {
	f, err := excelize.OpenFile(path, xlsxLimits)
	if err != nil {
		return nil, kehu.Errorf(kehu.EINVALID, "the workbook cannot be opened (damaged, password-protected or not "+
			"an XLSX file): %v", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, kehu.Errorf(kehu.EINVALID, "the workbook has no worksheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, kehu.Errorf(kehu.EINVALID, "worksheet %q cannot be read: %v", sheets[0], err)
	}
	s := &xlsxSource{file: f, rows: rows}
	for {
		cells, err := s.next()
		if errors.Is(err, io.EOF) {
			s.Close()
			return nil, kehu.Errorf(kehu.EINVALID, "worksheet %q is empty: its first row must name the columns", sheets[0])
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		if !blank(cells) {
			s.header = cells
			return s, nil
		}
	}
}

// next returns the cells of the next worksheet row.
func (s *xlsxSource) next() ([]string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, kehu.Errorf(kehu.EINVALID, "worksheet row %d cannot be read: %v", s.row+1, err)
		}
		return nil, io.EOF
	}
	s.row++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, kehu.Errorf(kehu.EINVALID, "worksheet row %d cannot be read: %v", s.row, err)
	}
	return cells, nil
}

func (s *xlsxSource) Header() []string { return s.header }
func (s *xlsxSource) Encoding() string { return EncodingXLSX }

// Next returns the next non-empty row; the line number is the worksheet's
// row number, as Excel shows it.
func (s *xlsxSource) Next() (Row, error) {
	for {
		cells, err := s.next()
		if err != nil {
			return Row{}, err
		}
		if !blank(cells) {
			return Row{Line: s.row, Cells: s.fit(cells)}, nil
		}
	}
}

// fit pads a row to the header's width: a worksheet does not store empty
// cells at the end of a row, so a short row is not a ragged one. Empty cells
// beyond the header are dropped; non-empty ones are kept (and reported).
func (s *xlsxSource) fit(cells []string) []string {
	for len(cells) < len(s.header) {
		cells = append(cells, "")
	}
	for len(cells) > len(s.header) && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	return cells
}

func (s *xlsxSource) Close() error {
	err := s.rows.Close()
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	return err
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// xlsxLastRow reads the first worksheet's dimension ("A1:M5000" → 5000).
func xlsxLastRow(path string) (int64, error) {
	f, err := excelize.OpenFile(path, xlsxLimits)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return 0, errors.New("no worksheet")
	}
	dim, err := f.GetSheetDimension(sheets[0])
	if err != nil {
		return 0, err
	}
	_, last, ok := strings.Cut(dim, ":")
	if !ok {
		return 1, nil
	}
	_, row, err := excelize.CellNameToCoordinates(last)
	return int64(row), err
}
