package audit_test

import (
	"testing"

	"kehu/internal/audit"
)

func TestMaskChange(t *testing.T) {
	for _, tc := range []struct{ in, want audit.Change }{
		{audit.Change{Field: "mobile", Old: "13800000001", New: "13912345678"}, audit.Change{Field: "mobile", Old: "138****0001", New: "139****5678"}},
		{audit.Change{Field: "id_number", New: "110101199003070016"}, audit.Change{Field: "id_number", New: "110***********0016"}},
		{audit.Change{Field: "account_no", New: "6222020000000001"}, audit.Change{Field: "account_no", New: "6222 **** **** 0001"}},
		{audit.Change{Field: "birth_date", Old: "1985-03-07", New: "1985-03-08"}, audit.Change{Field: "birth_date", Old: "1985-**-**", New: "1985-**-**"}},
		{audit.Change{Field: "name", Old: "张伟", New: "张玮"}, audit.Change{Field: "name", Old: "张*", New: "张*"}},
		{audit.Change{Field: "level", Old: "gold", New: "platinum"}, audit.Change{Field: "level", Old: "gold", New: "platinum"}},
		{audit.Change{Field: "mobile", Old: "", New: "13800000001"}, audit.Change{Field: "mobile", New: "138****0001"}},
	} {
		if got := audit.MaskChange(tc.in); got != tc.want {
			t.Errorf("MaskChange(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
