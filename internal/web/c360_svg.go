package web

import (
	"math"

	"kehu/internal/c360"
	"kehu/internal/customer"
)

// The 360's charts are drawn on the server as inline SVG: no script library,
// nothing for the strict CSP to allow, and the page still prints. Geometry
// is computed here; the template only places the shapes, and CSS classes
// colour them.

// trendChart is the AUM trend as bars in a 600×180 viewBox.
type trendChart struct {
	Bars  []trendBar
	Max   int64
	Empty bool
}

type trendBar struct {
	X, Y, W, H float64
	LabelX     float64
	Month      string // MM
	Year       string // YYYY on January and the first bar
	AUM        int64
	Current    bool
}

const (
	trendW, trendH   = 600.0, 180.0
	trendTop, trendB = 12.0, 150.0 // plot area from top to the baseline
)

func newTrendChart(points []c360.MonthlyAUM) trendChart {
	c := trendChart{}
	for _, p := range points {
		c.Max = max(c.Max, p.AUM)
	}
	if len(points) == 0 || c.Max <= 0 {
		c.Empty = true
		return c
	}
	slot := trendW / float64(len(points))
	for i, p := range points {
		h := 0.0
		if p.AUM > 0 {
			h = math.Max(1, float64(p.AUM)/float64(c.Max)*(trendB-trendTop))
		}
		b := trendBar{X: float64(i)*slot + slot*0.15, W: slot * 0.7, H: h, Y: trendB - h,
			LabelX: float64(i)*slot + slot/2, Month: p.Month[5:], AUM: p.AUM, Current: i == len(points)-1}
		if i == 0 || p.Month[5:] == "01" {
			b.Year = p.Month[:4]
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// relGraph is the relationship network: the customer in the middle, the
// related customers on a circle around, edges labelled with what each is to
// the customer. Nodes in the viewer's scope link to their 360.
type relGraph struct {
	Center relNode
	Nodes  []relNode
	Empty  bool
}

type relNode struct {
	ID                   int64
	Name                 string
	Corporate, Visible   bool
	X, Y                 float64
	LabelX, LabelY       float64 // edge label, between the centre and the node
	Relation, RelationEN string
	Label                string
}

const (
	graphW, graphH = 640.0, 360.0
	graphR         = 130.0
)

func newRelGraph(c customer.Customer, rels []c360.Relationship, relationLabel func(string) string) relGraph {
	g := relGraph{Center: relNode{ID: c.ID, Name: c.Name, Corporate: c.Type == customer.Corporate,
		X: graphW / 2, Y: graphH / 2}}
	if len(rels) == 0 {
		g.Empty = true
		return g
	}
	n := float64(len(rels))
	for i, r := range rels {
		// Start at the top and go clockwise; a lone relative sits to the right.
		a := -math.Pi/2 + 2*math.Pi*float64(i)/n
		if len(rels) == 1 {
			a = 0
		}
		x, y := g.Center.X+graphR*1.6*math.Cos(a), g.Center.Y+graphR*math.Sin(a)
		g.Nodes = append(g.Nodes, relNode{ID: r.CustomerID, Name: r.Name, Corporate: r.Type == customer.Corporate,
			Visible: r.Visible, X: round1(x), Y: round1(y), LabelX: round1((g.Center.X + x) / 2),
			LabelY: round1((g.Center.Y+y)/2 - 4), Relation: r.Relation, Label: relationLabel(r.Relation)})
	}
	return g
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
