package campaign_test

import (
	"math"
	"testing"

	"kehu/internal/campaign"
)

func near(a, b float64) bool { return math.Abs(a-b) < 0.00005 }

// The worked examples of Newcombe (1998), "Interval estimation for the
// difference between independent proportions: comparison of eleven
// methods", Statistics in Medicine 17:873–890, Table II: method 1 (Wald) and
// method 10 (hybrid score, no continuity correction), to four decimals.
func TestDifferenceCI(t *testing.T) {
	for _, c := range []struct {
		x1, n1, x2, n2         int64
		waldLo, waldHi         float64
		newcombeLo, newcombeHi float64
	}{
		{56, 70, 48, 80, 0.0575, 0.3425, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.2605, 0.9395, 0.1705, 0.8090},
		{6, 7, 2, 7, 0.1481, 0.9947, 0.0582, 0.8062},
		{5, 56, 0, 29, 0.0146, 0.1640, -0.0381, 0.1926},
	} {
		lo, hi := campaign.WaldCI(c.x1, c.n1, c.x2, c.n2)
		if !near(lo, c.waldLo) || !near(hi, c.waldHi) {
			t.Errorf("Wald %d/%d − %d/%d: (%.4f, %.4f), want (%.4f, %.4f)", c.x1, c.n1, c.x2, c.n2, lo, hi, c.waldLo, c.waldHi)
		}
		l := campaign.DifferenceCI(c.x1, c.n1, c.x2, c.n2)
		if !l.Defined || !near(l.Low, c.newcombeLo) || !near(l.High, c.newcombeHi) {
			t.Errorf("Newcombe %d/%d − %d/%d: (%.4f, %.4f), want (%.4f, %.4f)", c.x1, c.n1, c.x2, c.n2, l.Low, l.High,
				c.newcombeLo, c.newcombeHi)
		}
	}
	if l := campaign.DifferenceCI(3, 10, 0, 0); l.Defined {
		t.Errorf("no control group: %+v", l)
	}
	// Wilson 0/10: (0, 0.2775).
	if lo, hi := campaign.Wilson(0, 10, campaign.Z95); lo != 0 || !near(hi, 0.2775) {
		t.Errorf("Wilson 0/10: (%.4f, %.4f)", lo, hi)
	}
}
