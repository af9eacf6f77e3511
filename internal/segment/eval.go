package segment

import (
	"slices"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// Facts is what the in-memory evaluator knows about one customer: the
// customer row's attributes, the products held, the recent transactions and
// channel events, tags, consents and contact preferences. Real-time
// consumers (journeys) fill it from the event they handle plus the store
// (store.SegmentStore.Facts); the property test fills it from generated data.
// Unknown values are zero: empty strings, a zero date, risk level 0, owner 0.
type Facts struct {
	ID             int64
	Type           string
	Gender         string
	BirthDate      kehu.Date
	RegionCode     string
	Industry       string
	Status         string
	CreatedAt      time.Time
	OrgPath        string
	OwnerID        int64
	RiskLevel      int64
	RiskAssessedAt *time.Time
	Level          string
	AUM            int64 // fen
	// Products are the products of the customer's accounts that are not
	// closed and of holdings with a positive amount.
	Products []HeldProduct
	// Transactions and Events need cover only the longest window a plan
	// uses; older ones are ignored.
	Transactions []Transaction
	Events       []Event
	// Tags carry their expiry; a tag counts while unexpired at Plan.Now.
	Tags      []TagFact
	Consents  []string // channels with marketing consent granted
	DoNotCall bool
	// Static lists the static segments whose snapshot holds the customer.
	Static []int64
}

// HeldProduct is a product the customer holds.
type HeldProduct struct {
	Type string
	Code string
	Risk int64 // 0: not rated
}

// Transaction is one posting: Amount signed, inflow positive, in fen.
type Transaction struct {
	At     time.Time
	Amount int64
}

// Event is one channel event.
type Event struct {
	At      time.Time
	Channel string
	Kind    string
}

// TagFact is a tag on the customer.
type TagFact struct {
	ID        int64
	ExpiresAt *time.Time
}

// Eval reports whether the customer described by f satisfies the plan. It
// is the reference semantics the SQL compiler must reproduce (the property
// test in internal/store checks that it does).
func (p *Plan) Eval(f *Facts) bool { return p.eval(p.Root, f) }

func (p *Plan) eval(n *Node, f *Facts) bool {
	switch n.Kind {
	case All:
		for _, k := range n.Kids {
			if !p.eval(k, f) {
				return false
			}
		}
		return true
	case Any:
		for _, k := range n.Kids {
			if p.eval(k, f) {
				return true
			}
		}
		return false
	case Not:
		return !p.eval(n.Kids[0], f)
	case Member:
		return slices.Contains(f.Static, n.Segment)
	}
	return p.cond(n.Cond, f)
}

// value is one known value of a customer: an integer or a string.
type value struct {
	n int64
	s string
}

func (p *Plan) cond(c *Condition, f *Facts) bool {
	if c.Field.Set {
		vals := p.setValues(c, f)
		switch c.Op {
		case OpIsNull:
			return len(vals) == 0
		case OpIsNotNull:
			return len(vals) > 0
		}
		pos := Positive(c.Op)
		some := slices.ContainsFunc(vals, func(v value) bool { return p.match(c, pos, v) })
		if Negative(c.Op) {
			return !some
		}
		return some
	}
	v, known := p.single(c, f)
	switch c.Op {
	case OpIsNull:
		return !known
	case OpIsNotNull:
		return known
	}
	if !known {
		return false // a comparison with an unknown value is false, != and not_in included
	}
	if Negative(c.Op) {
		return !p.match(c, Positive(c.Op), v)
	}
	return p.match(c, c.Op, v)
}

// single returns the customer's value of a single-valued field and whether
// it is known. Aggregates over a window are always known (0 without rows).
func (p *Plan) single(c *Condition, f *Facts) (value, bool) {
	switch c.Field.Name {
	case FCustomerType:
		return value{s: f.Type}, true
	case FGender:
		return value{s: f.Gender}, f.Gender != ""
	case FAge:
		if f.BirthDate.IsZero() {
			return value{}, false
		}
		return value{n: Age(f.BirthDate, p.Today)}, true
	case FRegion:
		return value{s: f.RegionCode}, f.RegionCode != ""
	case FIndustry:
		return value{s: f.Industry}, f.Industry != ""
	case FStatus:
		return value{s: f.Status}, true
	case FCreatedOn:
		return value{s: kehu.DateOf(f.CreatedAt.In(p.Loc)).String()}, true
	case FOrg:
		return value{s: f.OrgPath}, true
	case FOwner:
		return value{n: f.OwnerID}, f.OwnerID != 0
	case FRiskLevel:
		return value{n: f.RiskLevel}, f.RiskLevel != 0
	case FRiskValid:
		return value{n: b2i(f.RiskLevel != 0 && f.RiskAssessedAt != nil && !f.RiskAssessedAt.Before(p.RiskValidFrom))}, true
	case FLevel:
		return value{s: f.Level}, true
	case FAUM:
		return value{n: f.AUM}, true
	case FInflowSum, FOutflowSum, FTxnCount:
		var sum int64
		for _, t := range f.Transactions {
			if t.At.Before(c.Since) || t.At.After(p.Now) {
				continue
			}
			switch {
			case c.Field.Name == FTxnCount:
				sum++
			case c.Field.Name == FInflowSum && t.Amount > 0:
				sum += t.Amount
			case c.Field.Name == FOutflowSum && t.Amount < 0:
				sum -= t.Amount
			}
		}
		return value{n: sum}, true
	case FEventCount:
		var n int64
		for _, e := range f.Events {
			if e.At.Before(c.Since) || e.At.After(p.Now) || e.Kind != c.Event || c.Channel != "" && e.Channel != c.Channel {
				continue
			}
			n++
		}
		return value{n: n}, true
	case FDoNotCall:
		return value{n: b2i(f.DoNotCall)}, true
	}
	panic("segment: no single value for field " + c.Field.Name)
}

// setValues returns the values of a set field.
func (p *Plan) setValues(c *Condition, f *Facts) []value {
	var out []value
	switch c.Field.Name {
	case FHoldsType:
		for _, h := range f.Products {
			out = append(out, value{s: h.Type})
		}
	case FHoldsCode:
		for _, h := range f.Products {
			out = append(out, value{s: h.Code})
		}
	case FHoldsRisk:
		for _, h := range f.Products {
			if h.Risk != 0 { // an unrated product has no risk level to compare
				out = append(out, value{n: h.Risk})
			}
		}
	case FHasTag:
		for _, t := range f.Tags {
			if t.ExpiresAt == nil || t.ExpiresAt.After(p.Now) {
				out = append(out, value{n: t.ID})
			}
		}
	case FConsent:
		for _, ch := range f.Consents {
			out = append(out, value{s: ch})
		}
	default:
		panic("segment: no set values for field " + c.Field.Name)
	}
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// match applies a positive operator to one known value.
func (p *Plan) match(c *Condition, op Op, v value) bool {
	if c.Field.Name == FOrg {
		// The org value matches a subtree: the customer's home is the
		// organisation or below it.
		return slices.ContainsFunc(c.OrgPaths, func(path string) bool { return strings.HasPrefix(v.s, path) })
	}
	if c.Ints != nil {
		x := v.n
		switch op {
		case OpEq:
			return x == c.Ints[0]
		case OpLt:
			return x < c.Ints[0]
		case OpLe:
			return x <= c.Ints[0]
		case OpGt:
			return x > c.Ints[0]
		case OpGe:
			return x >= c.Ints[0]
		case OpIn:
			return slices.Contains(c.Ints, x)
		case OpBetween:
			return x >= c.Ints[0] && x <= c.Ints[1]
		}
		panic("segment: operator " + string(op) + " on integers")
	}
	x := v.s
	switch op {
	case OpEq:
		return x == c.Strs[0]
	case OpLt:
		return x < c.Strs[0]
	case OpLe:
		return x <= c.Strs[0]
	case OpGt:
		return x > c.Strs[0]
	case OpGe:
		return x >= c.Strs[0]
	case OpIn:
		return slices.Contains(c.Strs, x)
	case OpBetween:
		return x >= c.Strs[0] && x <= c.Strs[1]
	case OpContains:
		return strings.Contains(x, c.Strs[0])
	case OpStartsWith:
		return strings.HasPrefix(x, c.Strs[0])
	}
	panic("segment: operator " + string(op) + " on text")
}

// ZeroMatches reports whether the value 0 satisfies the positive form of
// c's operator: the SQL compiler asks it to choose between selecting the
// customers whose aggregate matches and excluding those whose does not
// (customers without rows in the window have the aggregate 0).
func (p *Plan) ZeroMatches(c *Condition) bool { return p.match(c, Positive(c.Op), value{}) }

// Earliest returns the start of the plan's longest window (Now without
// any), so a Facts loader knows how much history to read.
func (p *Plan) Earliest() time.Time {
	since := p.Now
	var walk func(n *Node)
	walk = func(n *Node) {
		if n.Cond != nil && n.Cond.Field.Window && n.Cond.Since.Before(since) {
			since = n.Cond.Since
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(p.Root)
	return since
}
