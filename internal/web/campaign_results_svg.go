package web

import (
	"math"
	"strconv"

	"kehu/internal/campaign"
	"kehu/internal/lift"
)

// The results page's charts are inline SVG drawn on the server, like the
// 360's AUM trend (c360_svg.go): the geometry is computed here, the
// template places the shapes and CSS colours them, so the strict CSP needs
// nothing and the page prints.

// hbar is one horizontal bar: a labelled count with its share.
type hbar struct {
	Label   string // catalogue key
	Code    string // a suppression reason's code (the label's tail)
	Y, W    float64
	LabelY  float64
	ValueX  float64
	Count   int64
	Percent string // of the first bar (funnel) or of the total (reasons)
}

// hbarChart is a list of bars in a 600-wide viewBox of Height.
type hbarChart struct {
	Bars   []hbar
	Height float64
	Empty  bool
	// Prefix words a reason chart's codes (the shared results_suppression
	// template); empty for the funnel, whose bars carry their label.
	Prefix string
}

const (
	barLeft, barWidth = 170.0, 330.0 // bars start after the labels and end before the values
	barRow, barThick  = 34.0, 22.0
)

func newHBars(labels, codes []string, counts []int64, of int64) hbarChart {
	c := hbarChart{Height: float64(len(counts))*barRow + 8, Empty: of <= 0}
	if c.Empty {
		return c
	}
	for i, n := range counts {
		w := float64(n) / float64(of) * barWidth
		if n > 0 {
			w = math.Max(w, 1)
		}
		y := float64(i)*barRow + 6
		c.Bars = append(c.Bars, hbar{Label: labels[i], Code: codes[i], Y: y, W: w, LabelY: y + barThick*0.72,
			ValueX: barLeft + w + 6, Count: n, Percent: percent(n, of)})
	}
	return c
}

func percent(n, of int64) string {
	if of <= 0 {
		return ""
	}
	return strconv.FormatFloat(float64(n)*100/float64(of), 'f', 1, 64) + "%"
}

// funnelChart is audience → not suppressed → sent (or tasks) → delivered →
// converted, each bar a share of the audience. Channels without messages
// skip delivery.
func funnelChart(ch string, n campaign.Numbers) hbarChart {
	keys := []string{"audience", "not_suppressed", "sent", "delivered", "converted"}
	counts := []int64{n.Audience, n.Treatment - n.SuppressedTotal, n.Sent, n.Delivered, n.ConvertedTreatment}
	if !campaign.IsMessage(ch) {
		keys = []string{"audience", "not_suppressed", "tasks", "converted"}
		counts = []int64{n.Audience, n.Treatment - n.SuppressedTotal, n.Tasks, n.ConvertedTreatment}
	}
	labels := make([]string, len(keys))
	for i, k := range keys {
		labels[i] = "campaign_report.funnel." + k
	}
	return newHBars(labels, keys, counts, n.Audience)
}

// suppressionChart is one bar per reason, largest first, as a share of
// every suppression.
func suppressionChart(n campaign.Numbers) hbarChart {
	return reasonChart("campaign_report.reason.", n.Suppressed, n.SuppressedTotal)
}

// reasonChart is one bar per code of counts (labelled under prefix),
// largest first, as a share of total: the suppressions of a campaign or a
// journey.
func reasonChart(prefix string, counts map[string]int64, total int64) hbarChart {
	codes := lift.ReasonsByCount(counts)
	labels, ns := make([]string, len(codes)), make([]int64, len(codes))
	for i, code := range codes {
		labels[i], ns[i] = prefix+code, counts[code]
	}
	c := newHBars(labels, codes, ns, total)
	c.Prefix = prefix
	return c
}

// rateBar is one group's conversion rate as a column with its 95% Wilson
// interval as an error bar.
type rateBar struct {
	Label             string // catalogue key
	Group             string
	X, Y, W, H        float64
	CX, CILow, CIHigh float64 // the error bar: centre x, y of the low and high ends
	CapL, CapR        float64 // the ends of its caps
	Rate, Low, High   string  // as percentages
	Converted, Size   int64
}

// conversionChart compares the treatment's and the control's rates in a
// 600×220 viewBox; Lift is the difference with its Newcombe interval.
type conversionChart struct {
	Bars      []rateBar
	Lift      lift.Lift
	LiftText  [3]string // difference, low, high as percentages
	Top       string    // the scale's top as a percentage
	NoControl bool
}

const (
	convTop, convBase = 16.0, 190.0
	convCol           = 90.0
)

func newConversionChart(n campaign.Numbers) conversionChart {
	return rateChart("campaign_report.conversion.", lift.Groups{Treatment: n.Treatment, Control: n.Control,
		ConvertedTreatment: n.ConvertedTreatment, ConvertedControl: n.ConvertedControl}, n.Lift)
}

// rateChart draws the two groups' conversion rates of g, each labelled
// under prefix ("treatment", "control"), with their Wilson intervals, and
// carries the lift l: the chart of a campaign or a journey.
func rateChart(prefix string, g lift.Groups, l lift.Lift) conversionChart {
	c := conversionChart{Lift: l, NoControl: g.Control == 0}
	type group struct {
		key     string
		x, size int64
	}
	groups := []group{{lift.Treatment, g.ConvertedTreatment, g.Treatment}, {lift.Control, g.ConvertedControl, g.Control}}
	top := 0.0
	for _, g := range groups {
		_, hi := lift.Wilson(g.x, g.size, lift.Z95)
		top = math.Max(top, hi)
	}
	top = niceTop(top)
	c.Top = ratePct(top)
	y := func(v float64) float64 { return convBase - v/top*(convBase-convTop) }
	for i, g := range groups {
		lo, hi := lift.Wilson(g.x, g.size, lift.Z95)
		r := lift.Rate(g.x, g.size)
		x := 150 + float64(i)*200
		c.Bars = append(c.Bars, rateBar{Label: prefix + g.key, Group: g.key, X: x, W: convCol, Y: y(r), H: convBase - y(r),
			CX: x + convCol/2, CILow: y(lo), CIHigh: y(hi), CapL: x + convCol/2 - 12, CapR: x + convCol/2 + 12, Rate: ratePct(r), Low: ratePct(lo), High: ratePct(hi),
			Converted: g.x, Size: g.size})
	}
	c.LiftText = [3]string{ratePct(l.Difference), ratePct(l.Low), ratePct(l.High)}
	return c
}

// niceTop rounds a rate up to a round scale top (at least 1%).
func niceTop(v float64) float64 {
	for _, t := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1} {
		if v <= t {
			return t
		}
	}
	return 1
}

func ratePct(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }
