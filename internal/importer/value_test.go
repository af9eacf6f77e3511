package importer

import (
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/width"

	"kehu/internal/kehu"
)

func TestParseAmount(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1234.5", 123450}, {"1,234.50", 123450}, {"¥1,234.50", 123450}, {"￥12", 1200}, {"1234.5元", 123450},
		{"RMB 1,234", 123400}, {"-12.3", -1230}, {"(12.30)", -1230}, {"12.5万", 12_500_000}, {"1.2亿", 12_000_000_000},
		{"-¥5", -500}, {"0", 0}, {"0.01", 1}, {"12.3456万", 12345600}, {"+7", 700}, {"1,000,000", 100_000_000},
	} {
		got, err := ParseAmount(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "abc", "1.234", "12..3", "1e5", "99999999999999999999", "12万元x", "--1"} {
		if got, err := ParseAmount(bad); err == nil {
			t.Errorf("ParseAmount(%q) = %d, want an error", bad, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := kehu.Date{Year: 2023, Month: 7, Day: 15}
	for _, in := range []string{"2023-07-15", "2023/7/15", "2023.07.15", "20230715", "2023年7月15日", "45122",
		"2023-07-15 00:00:00", "2023-07-15T08:00:00Z"} {
		got, err := ParseDate(in)
		if err != nil || got != want {
			t.Errorf("ParseDate(%q) = %v, %v", in, got, err)
		}
	}
	// Excel's serial 59 is 1900-02-28, 61 is 1900-03-01; 60 does not exist.
	if d, err := ParseDate("59"); err != nil || d.String() != "1900-02-28" {
		t.Errorf("serial 59: %v %v", d, err)
	}
	if d, err := ParseDate("61"); err != nil || d.String() != "1900-03-01" {
		t.Errorf("serial 61: %v %v", d, err)
	}
	for _, bad := range []string{"60", "2023-02-30", "15/07/2023x", "yesterday", ""} {
		if d, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", bad, d)
		}
	}
}

func TestParseTime(t *testing.T) {
	loc := kehu.LoadShanghai()
	want := time.Date(2024, 3, 1, 2, 30, 0, 0, time.UTC) // 10:30 in Beijing
	for _, in := range []string{"2024-03-01 10:30:00", "2024/3/1 10:30", "2024-03-01T10:30:00+08:00", "20240301103000",
		"2024年3月1日 10时30分00秒", "45352.4375"} {
		got, err := ParseTime(in, loc)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTime("soon", loc); err == nil {
		t.Error("ParseTime accepted a word")
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  张三 ":          "张三",
		"１３８１２３４５６７８":    "13812345678",
		"\u3000Ａ１\u00a0": "A1",
		"\ufeff客户号":      "客户号",
		"（备注）":           "(备注)",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]int64{"12.5%": 1250, "12.5": 1250, "0.125": 1250, "100": 10000, "1": 100} {
		if got, err := ParsePercentBP(in); err != nil || got != want {
			t.Errorf("ParsePercentBP(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestHeaderMapping(t *testing.T) {
	m, err := SuggestMapping(KindCustomers, []string{"客户号", "姓名*", "证件类型", "证件号码（18位）", "手机号码", "性别",
		"出生日期", " 地址 ", "机构号", "客户经理", "风险等级", "备注"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"source_id", "name", "id_type", "id_number", "mobile", "gender", "birth_date", "address", "org_id",
		"owner_id", "risk_level", ""}
	for i := range want {
		if m.Columns[i] != want[i] {
			t.Errorf("column %d mapped to %q, want %q", i, m.Columns[i], want[i])
		}
	}
	if miss := m.Missing(KindCustomers, "source_system"); len(miss) != 0 {
		t.Errorf("missing %v", miss)
	}
	m, err = SuggestMapping(KindCustomers, []string{"编号", "姓名"}, map[string]string{"编号": "source_id"})
	if err != nil || m.Columns[0] != "source_id" {
		t.Errorf("override: %v %v", m.Columns, err)
	}
	if _, err := SuggestMapping(KindCustomers, []string{"x"}, map[string]string{"x": "salary"}); err == nil {
		t.Error("an override to an unknown column was accepted")
	}
}

// TestNarrowingRunes checks needsNarrowing against the transformer over
// every rune: each one width.Narrow changes must be reported, so skipping
// the transformer for the others changes no value.
func TestNarrowingRunes(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		if width.Narrow.String(s) != s && !needsNarrowing(s) {
			t.Errorf("U+%04X is narrowed but needsNarrowing says no", r)
		}
	}
}
