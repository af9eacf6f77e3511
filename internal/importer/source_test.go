package importer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"kehu/internal/kehu"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll opens a file and returns its header, rows and encoding.
func readAll(t *testing.T, path string) ([]string, []Row, string) {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer src.Close()
	var rows []Row
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		rows = append(rows, r)
	}
	return src.Header(), rows, src.Encoding()
}

func TestEncodings(t *testing.T) {
	text := "客户号,姓名\nC1,张三\nC2,李四\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, content, enc string
	}{
		{"utf8.csv", text, EncodingUTF8},
		{"bom.csv", "\ufeff" + text, EncodingUTF8BOM},
		{"gbk.csv", gbk, EncodingGB18030},
		{"crlf.csv", strings.ReplaceAll(text, "\n", "\r\n"), EncodingUTF8},
		{"tab.csv", strings.ReplaceAll(text, ",", "\t"), EncodingUTF8},
	} {
		header, rows, enc := readAll(t, writeFile(t, c.name, []byte(c.content)))
		if enc != c.enc || strings.Join(header, "|") != "客户号|姓名" || len(rows) != 2 || rows[1].Cells[1] != "李四" ||
			rows[1].Line != 3 {
			t.Errorf("%s: enc %s header %q rows %+v", c.name, enc, header, rows)
		}
	}
}

func TestRefusedFiles(t *testing.T) {
	utf16 := []byte{0xFF, 0xFE, 'a', 0, ',', 0, 'b', 0}
	xls := []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"utf16.csv":   {utf16, "UTF-16"},
		"old.xls":     {xls, ".xlsx"},
		"empty.csv":   {nil, "empty"},
		"binary.csv":  {[]byte("a,b\n\x00\x01\x02"), "binary"},
		"broken.xlsx": {[]byte("PK\x03\x04garbage"), "cannot be opened"},
	} {
		_, err := OpenFile(writeFile(t, name, c.b))
		if kehu.ErrorCode(err) != kehu.EINVALID || !strings.Contains(kehu.ErrorMessage(err), c.want) {
			t.Errorf("%s: %v, want EINVALID saying %q", name, err, c.want)
		}
	}
}

func TestRaggedAndCutOff(t *testing.T) {
	content := "a,b,c\n1,2,3\n4,5\n6,7,8,9\n\"x\ny\",2,3\n10,11,1"
	_, rows, _ := readAll(t, writeFile(t, "ragged.csv", []byte(content)))
	if len(rows) != 5 {
		t.Fatalf("rows %+v", rows)
	}
	if len(rows[1].Cells) != 2 || rows[1].Problem != "" || rows[1].Line != 3 {
		t.Errorf("short row: %+v (the column count is checked against the header by the parser)", rows[1])
	}
	if rows[3].Line != 5 || rows[3].Cells[0] != "x\ny" {
		t.Errorf("a quoted cell spanning lines: %+v", rows[3])
	}
	if rows[4].Problem != "" || rows[4].Line != 7 {
		t.Errorf("a complete last row without a line break is fine: %+v", rows[4])
	}
	cut := "a,b,c\n1,2,3\n4,5"
	_, rows, _ = readAll(t, writeFile(t, "cut.csv", []byte(cut)))
	if len(rows) != 2 || !strings.Contains(rows[1].Problem, "cut off") || rows[1].Line != 3 {
		t.Errorf("cut off: %+v", rows)
	}
	quoted := "a,b\n1,2\n\"3,4\n"
	_, rows, _ = readAll(t, writeFile(t, "cutq.csv", []byte(quoted)))
	if len(rows) != 2 || !strings.Contains(rows[1].Problem, "ends inside a quoted cell") {
		t.Errorf("cut inside quotes: %+v", rows)
	}
	// Valid UTF-8 for the whole first MiB decides the encoding; a later
	// row in another encoding is a bad row, not mangled text.
	var b strings.Builder
	b.WriteString("a,b\n")
	for b.Len() <= sampleBytes {
		b.WriteString("1,张三\n")
	}
	b.WriteString("2,\xd5\xc5\xc8\xfd\n3,ok\n")
	_, rows, enc := readAll(t, writeFile(t, "mixed.csv", []byte(b.String())))
	last := rows[len(rows)-2]
	if enc != EncodingUTF8 || !strings.Contains(last.Problem, "UTF-8") || rows[len(rows)-1].Problem != "" {
		t.Errorf("mixed encoding: %s %+v %+v", enc, last, rows[len(rows)-1])
	}
}

func TestLineTooLong(t *testing.T) {
	content := "a,b\n" + strings.Repeat("x", maxLineBytes+10) + ",1\n"
	src, err := OpenFile(writeFile(t, "long.csv", []byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Next(); kehu.ErrorCode(err) != kehu.EINVALID || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("a 1 MiB line: %v", err)
	}
}

func TestXLSX(t *testing.T) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	_ = sw.SetRow("A1", []any{"账号", "余额", "开户日期"})
	_ = sw.SetRow("A2", []any{"6222020000000001", 1234.5, 45122})
	// Row 3 left empty on purpose: blank rows are skipped, numbering kept.
	_ = sw.SetRow("A4", []any{"6222020000000002", "1,000.00", "2024-01-02"})
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	header, rows, enc := readAll(t, p)
	if enc != EncodingXLSX || strings.Join(header, "|") != "账号|余额|开户日期" || len(rows) != 2 {
		t.Fatalf("xlsx: %s %q %+v", enc, header, rows)
	}
	if rows[0].Line != 2 || rows[1].Line != 4 || rows[0].Cells[1] != "1234.5" {
		t.Errorf("rows %+v", rows)
	}
	if d, err := ParseDate(rows[0].Cells[2]); err != nil || d.String() != "2023-07-15" {
		t.Errorf("an Excel date serial %q: %v %v", rows[0].Cells[2], d, err)
	}
}
