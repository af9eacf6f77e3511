package segment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// NodeKind is the kind of a plan node.
type NodeKind int

const (
	All    NodeKind = iota + 1 // every child holds (true without children)
	Any                        // some child holds (false without children)
	Not                        // the child does not hold
	Cond                       // a condition on a field
	Member                     // the customer is in a static segment's snapshot
)

// Node is one node of a plan.
type Node struct {
	Kind    NodeKind
	Kids    []*Node
	Cond    *Condition
	Segment int64 // Member: the static segment
}

// Condition is a checked condition with its values in the units the data
// is stored in: integers (money in fen, booleans 0/1, ids) in Ints; enum,
// text and date ("YYYY-MM-DD") values in Strs.
type Condition struct {
	Field *Field
	Op    Op
	Ints  []int64
	Strs  []string
	// Since is the start of the window of an aggregate (Plan.Now minus
	// window_days).
	Since          time.Time
	Event, Channel string
	// OrgPaths are the materialised paths of the org values.
	OrgPaths []string
}

// Plan is a rule ready to evaluate at one moment: both evaluators (the SQL
// compiler in internal/store and Eval) take a plan, so the moment, the
// windows, the ages and the validity of risk assessments are fixed once.
type Plan struct {
	Root *Node
	Now  time.Time
	// Today is Now's date in Asia/Shanghai (ages, dates of record).
	Today kehu.Date
	Loc   *time.Location
	// RiskValidFrom: an assessment made at or after this instant has not
	// expired (it holds until the day a year after it was made).
	RiskValidFrom time.Time
}

// Ref is what a plan needs to know about a referenced segment.
type Ref struct {
	ID     int64
	Static bool
	Rule   []byte
}

// Env is what planning reads besides the rule.
type Env struct {
	Now time.Time
	Loc *time.Location
	// OrgPath returns the materialised path of an organisation; an error
	// with code ENOTFOUND for an unknown one.
	OrgPath func(ctx context.Context, id int64) (string, error)
	// Segment returns a referenced segment; ENOTFOUND for an unknown one.
	Segment func(ctx context.Context, id int64) (Ref, error)
	// Self is the id of the segment the rule belongs to (0 for an unsaved
	// rule), so a rule referencing its own segment is a cycle.
	Self int64
}

// Plan checks a parsed rule's references (organisations, segments, cycles)
// and fixes it at env.Now.
func NewPlan(ctx context.Context, r *Rule, env Env) (*Plan, error) {
	if env.Loc == nil {
		env.Loc = kehu.LoadShanghai()
	}
	now := env.Now.UTC()
	today := kehu.DateOf(now.In(env.Loc))
	p := &Plan{Now: now, Today: today, Loc: env.Loc, RiskValidFrom: riskValidFrom(today, env.Loc)}
	var stack []int64
	if env.Self != 0 {
		stack = append(stack, env.Self)
	}
	root, err := p.node(ctx, r, "", env, stack)
	if err != nil {
		return nil, err
	}
	p.Root = root
	return p, nil
}

// riskValidFrom is the start of the earliest day an assessment may have
// been made on and still be valid today: made on day d it expires on
// d + 1 year (the customer 360's rule), so it is valid while d + 1 year is
// after today.
func riskValidFrom(today kehu.Date, loc *time.Location) time.Time {
	d := today.Time().AddDate(-riskValidityYear, 0, 0)
	for !d.AddDate(riskValidityYear, 0, 0).After(today.Time()) {
		d = d.AddDate(0, 0, 1)
	}
	for prev := d.AddDate(0, 0, -1); prev.AddDate(riskValidityYear, 0, 0).After(today.Time()); prev = prev.AddDate(0, 0, -1) {
		d = prev
	}
	return DayStart(kehu.DateOf(d), loc)
}

// DayStart is the first instant of day d in loc, in UTC.
func DayStart(d kehu.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc).UTC()
}

// AgeCutoff is the latest birth date of a customer aged at least n years
// on today: age ≥ n exactly when birth date ≤ AgeCutoff(today, n). A year
// of age is reached on the day birth date + n years (Go's calendar: 29
// February + 1 year is 1 March).
func AgeCutoff(today kehu.Date, n int64) kehu.Date {
	t := today.Time()
	c := t.AddDate(-int(n), 0, 0)
	for c.AddDate(int(n), 0, 0).After(t) {
		c = c.AddDate(0, 0, -1)
	}
	for next := c.AddDate(0, 0, 1); !next.AddDate(int(n), 0, 0).After(t); next = next.AddDate(0, 0, 1) {
		c = next
	}
	return kehu.DateOf(c)
}

// Age is the age in whole years on today of a customer born on birth,
// consistent with AgeCutoff.
func Age(birth, today kehu.Date) int64 {
	n := int64(today.Year - birth.Year)
	for n > -200 && birth.Time().After(AgeCutoff(today, n).Time()) {
		n--
	}
	for n < 300 && !birth.Time().After(AgeCutoff(today, n+1).Time()) {
		n++
	}
	return n
}

func (p *Plan) node(ctx context.Context, r *Rule, path string, env Env, stack []int64) (*Node, error) {
	switch r.kind {
	case kindAll, kindAny:
		n := &Node{Kind: All}
		list, name := r.All, "all"
		if r.kind == kindAny {
			n.Kind, list, name = Any, r.Any, "any"
		}
		for i := range list {
			k, err := p.node(ctx, &list[i], fmt.Sprintf("%s[%d]", join(path, name), i), env, stack)
			if err != nil {
				return nil, err
			}
			n.Kids = append(n.Kids, k)
		}
		return n, nil
	case kindNot:
		k, err := p.node(ctx, r.Not, join(path, "not"), env, stack)
		if err != nil {
			return nil, err
		}
		return &Node{Kind: Not, Kids: []*Node{k}}, nil
	case kindRef:
		return p.ref(ctx, r.Segment, path, env, stack)
	case kindCond:
		return p.planCond(ctx, r, path, env)
	}
	return nil, invalid(path, "is not a parsed rule")
}

func (p *Plan) ref(ctx context.Context, id int64, path string, env Env, stack []int64) (*Node, error) {
	if slices.Contains(stack, id) {
		chain := make([]string, 0, len(stack)+1)
		for _, s := range append(stack[slices.Index(stack, id):], id) {
			chain = append(chain, fmt.Sprint(s))
		}
		return nil, invalid(join(path, "segment"), "cyclic segment reference: %s", strings.Join(chain, " → "))
	}
	if env.Segment == nil {
		return nil, invalid(join(path, "segment"), "segment references cannot be resolved here")
	}
	ref, err := env.Segment(ctx, id)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return nil, invalid(join(path, "segment"), "unknown segment %d", id)
	}
	if err != nil {
		return nil, err
	}
	if ref.Static {
		return &Node{Kind: Member, Segment: id}, nil
	}
	inner, err := Parse(ref.Rule)
	if err != nil {
		return nil, fmt.Errorf("stored rule of segment %d: %w", id, err)
	}
	return p.node(ctx, inner, join(path, "segment"), env, append(slices.Clone(stack), id))
}

func (p *Plan) planCond(ctx context.Context, r *Rule, path string, env Env) (*Node, error) {
	f, _ := Lookup(r.Field)
	c := &Condition{Field: f, Op: r.Op, Ints: r.ints, Strs: r.strs, Event: r.Event, Channel: r.Channel}
	if f.Window {
		c.Since = p.Now.AddDate(0, 0, -r.WindowDays)
	}
	if f.Name == FOrg {
		if env.OrgPath == nil {
			return nil, invalid(path, "organisations cannot be resolved here")
		}
		for i, id := range c.Ints {
			vp := join(path, "value")
			if len(c.Ints) > 1 || r.Op == OpIn || r.Op == OpNotIn {
				vp = fmt.Sprintf("%s[%d]", vp, i)
			}
			op, err := env.OrgPath(ctx, id)
			if kehu.ErrorCode(err) == kehu.ENOTFOUND {
				return nil, invalid(vp, "unknown organisation %d", id)
			}
			if err != nil {
				return nil, err
			}
			c.OrgPaths = append(c.OrgPaths, op)
		}
	}
	return &Node{Kind: Cond, Cond: c}, nil
}

// Negative reports whether op is != or not_in: on a set field they hold
// when no value matches the positive form; on a single value, when the value
// is known and does not match.
func Negative(op Op) bool { return op == OpNe || op == OpNotIn }

// Positive returns the positive form of a negative operator.
func Positive(op Op) Op {
	switch op {
	case OpNe:
		return OpEq
	case OpNotIn:
		return OpIn
	}
	return op
}
