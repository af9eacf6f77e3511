package region

import "testing"

func TestLookup(t *testing.T) {
	tests := []struct {
		code, name, full string
		level            Level
		exists           bool
	}{
		{"330106", "西湖区", "浙江省杭州市西湖区", County, true},
		{"330100", "杭州市", "浙江省杭州市", City, true},
		{"330000", "浙江省", "浙江省", Province, true},
		{"110108", "海淀区", "北京市海淀区", County, true},
		{"441900", "东莞市", "广东省东莞市东莞市", County, true}, // a city without counties lists itself
		{"429004", "仙桃市", "湖北省仙桃市", County, true},
		{"320576", "苏州工业园区", "江苏省苏州市苏州工业园区", County, false}, // statistical zone
	}
	for _, tt := range tests {
		r, ok := Lookup(tt.code)
		if !ok || r.Name != tt.name || r.Level != tt.level {
			t.Errorf("Lookup(%s) = %+v, %v", tt.code, r, ok)
		}
		if got := Exists(tt.code); got != tt.exists {
			t.Errorf("Exists(%s) = %v", tt.code, got)
		}
		if got := FullName(tt.code); got != tt.full {
			t.Errorf("FullName(%s) = %q, want %q", tt.code, got, tt.full)
		}
	}
	for _, bad := range []string{"", "33", "330199", "999999", "310103", "abcdef"} {
		if Exists(bad) {
			t.Errorf("Exists(%q) = true", bad)
		}
	}
}

func TestLists(t *testing.T) {
	if n := len(Provinces()); n != 31 {
		t.Errorf("%d provinces, want 31", n)
	}
	if n := len(Cities("330000")); n != 11 {
		t.Errorf("浙江 has %d cities, want 11", n)
	}
	hz := Counties("330100")
	if len(hz) != 13 || hz[0].Code != "330102" {
		t.Errorf("杭州 counties = %v", hz)
	}
	for _, c := range Counties("3205") {
		if c.Functional || c.Code == "320576" {
			t.Errorf("Counties lists functional zone %v", c)
		}
	}
	all := 0
	for _, p := range Provinces() {
		cs := CountiesOfProvince(p.Code)
		if len(cs) == 0 {
			t.Errorf("province %s has no counties", p.Name)
		}
		for _, c := range cs {
			if pr, ok := ProvinceOf(c.Code); !ok || pr.Code != p.Code {
				t.Errorf("ProvinceOf(%s) = %v", c.Code, pr)
			}
			if _, ok := CityOf(c.Code); !ok {
				t.Errorf("CityOf(%s) missing", c.Code)
			}
		}
		all += len(cs)
	}
	if all < 2800 {
		t.Errorf("only %d counties", all)
	}
	// The lists are copies: changing one does not change the table.
	hz[0].Name = "x"
	if Counties("330100")[0].Name != "上城区" {
		t.Error("Counties returned the table's own slice")
	}
}

func TestShortName(t *testing.T) {
	for code, want := range map[string]string{"330100": "杭州", "330000": "浙江", "450000": "广西", "650000": "新疆",
		"330106": "西湖", "310115": "浦东", "330381": "瑞安", "150000": "内蒙古"} {
		r, _ := Lookup(code)
		if got := r.ShortName(); got != want {
			t.Errorf("ShortName(%s %s) = %q, want %q", code, r.Name, got, want)
		}
	}
}
