package lift_test

import (
	"math"
	"testing"

	"kehu/internal/lift"
)

// The holdout is a fixed function of (seed, id), nested in pct, near pct
// percent of a large population, and independent between seeds.
func TestInControl(t *testing.T) {
	const n = 20000
	in, both := 0, 0
	for id := int64(1); id <= n; id++ {
		a := lift.InControl(7, id, 10)
		if a != lift.InControl(7, id, 10) {
			t.Fatalf("customer %d: not deterministic", id)
		}
		if a && !lift.InControl(7, id, 20) {
			t.Fatalf("customer %d held out at 10%% but not at 20%%", id)
		}
		if lift.InControl(7, id, 0) {
			t.Fatalf("customer %d held out at 0%%", id)
		}
		if a {
			in++
			if lift.InControl(8, id, 10) {
				both++
			}
		}
	}
	if in < n*9/100 || in > n*11/100 {
		t.Errorf("%d of %d held out at 10%%", in, n)
	}
	if both > in*15/100 {
		t.Errorf("seeds 7 and 8 share %d of %d held out", both, in)
	}
}

func TestCompute(t *testing.T) {
	// 40/1000 treatment, 2/100 control: lift 2 points, 20 incremental
	// conversions worth ¥100 each; 1000 messages at ¥0.05.
	e := lift.Compute(lift.Groups{Treatment: 1000, Control: 100, ConvertedTreatment: 40, ConvertedControl: 2},
		lift.Economics{Contacts: 1000, CostPer: 5, ValuePer: 10000})
	if e.RateTreatment != 0.04 || e.RateControl != 0.02 || !e.Lift.Defined || math.Abs(e.Lift.Difference-0.02) > 1e-12 {
		t.Fatalf("rates %+v", e)
	}
	if e.Lift.Low >= 0.02 || e.Lift.High <= 0.02 || e.Lift.Method != lift.MethodNewcombe {
		t.Errorf("interval %+v", e.Lift)
	}
	if e.Cost != 5000 || e.Value != 400000 || math.Abs(e.Incremental-20) > 1e-9 || e.IncrementalValue != 200000 {
		t.Errorf("economics %+v", e)
	}
	if e.ROI == nil || math.Abs(*e.ROI-39) > 1e-9 || e.ROIBasis != lift.BasisIncremental {
		t.Errorf("ROI %v %s", e.ROI, e.ROIBasis)
	}
	// Without a control group the ROI is read from every buyer; without a
	// cost there is none.
	e = lift.Compute(lift.Groups{Treatment: 10, ConvertedTreatment: 1}, lift.Economics{Contacts: 10, CostPer: 100, ValuePer: 2000})
	if e.Lift.Defined || e.ROIBasis != lift.BasisAttributed || e.ROI == nil || *e.ROI != 1 {
		t.Errorf("no control: %+v", e)
	}
	if e = lift.Compute(lift.Groups{Treatment: 10}, lift.Economics{}); e.ROI != nil {
		t.Errorf("no cost: %+v", e)
	}
}

func TestReasonsByCount(t *testing.T) {
	got := lift.ReasonsByCount(map[string]int64{"b": 2, "a": 2, "c": 5})
	if len(got) != 3 || got[0] != "c" || got[1] != "a" || got[2] != "b" {
		t.Errorf("%v", got)
	}
}
