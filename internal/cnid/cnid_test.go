package cnid

import (
	"testing"
	"time"
)

func TestParseResident(t *testing.T) {
	// 11010519491231002X is the worked example of GB 11643-1999.
	tests := []struct {
		in      string
		wantErr bool
		male    bool
	}{
		{"11010519491231002X", false, false},
		{"11010519491231002x", false, false},
		{"110105194912310021", true, false},
		{"11010519490231002X", true, false}, // February 31st
		{"1101051949123100", true, false},
		{"A1010519491231002X", true, false},
	}
	for _, tt := range tests {
		r, err := ParseResident(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseResident(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && r.Male != tt.male {
			t.Errorf("ParseResident(%q).Male = %v", tt.in, r.Male)
		}
	}
}

func TestBuildResidentRoundTrip(t *testing.T) {
	birth := time.Date(1985, 7, 9, 0, 0, 0, 0, time.UTC)
	for seq := 0; seq < 1000; seq += 37 {
		n := BuildResident("440305", birth, seq)
		r, err := ParseResident(n)
		if err != nil {
			t.Fatalf("BuildResident gave invalid %s: %v", n, err)
		}
		if r.Male != (seq%2 == 1) || !r.BirthDate.Equal(birth) || r.RegionCode != "440305" {
			t.Fatalf("round trip of %s lost data: %+v", n, r)
		}
	}
}

func TestUSCC(t *testing.T) {
	// Real published codes (company registrations are public records).
	for _, code := range []string{"91350100M000100Y43", "91110000100017643K"} {
		if err := ValidUSCC(code); err != nil {
			t.Errorf("ValidUSCC(%s) = %v", code, err)
		}
	}
	if err := ValidUSCC("91350100M000100Y44"); err == nil {
		t.Error("wrong check character accepted")
	}
	if err := ValidUSCC("91350100M000100I43"); err == nil {
		t.Error("letter I accepted")
	}
	built := BuildUSCC("91", "310115", "MA1FL0T2X")
	if err := ValidUSCC(built); err != nil {
		t.Errorf("BuildUSCC gave invalid %s: %v", built, err)
	}
}

func TestValidMobile(t *testing.T) {
	for in, ok := range map[string]bool{"13812345678": true, "19912345678": true, "12812345678": false,
		"1381234567": false, "1381234567a": false, "+8613812345": false} {
		if (ValidMobile(in) == nil) != ok {
			t.Errorf("ValidMobile(%q) ok=%v", in, !ok)
		}
	}
}

func FuzzParseResident(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResident(s)
		if err == nil {
			if c, _ := ResidentCheckDigit(r.Number[:17]); c != r.Number[17] {
				t.Fatalf("accepted %q with a wrong check digit", s)
			}
		}
	})
}

func FuzzValidUSCC(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Fuzz(func(t *testing.T, s string) { _ = ValidUSCC(s) })
}
