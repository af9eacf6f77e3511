package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/kehu"
	"kehu/internal/segment"
)

// segmentSQL compiles a segment plan into one SQL condition over the
// customers row "c". Field names and operators map to fixed SQL text in this
// file; every value from the rule is a numbered parameter, never SQL text.
// The semantics are segment.Plan.Eval's, leaf by leaf:
//   - a condition on a value that may be unknown is written
//     "known AND comparison" (or "known AND NOT comparison" for != and
//     not_in), so no leaf is ever SQL NULL and NOT of a leaf is its plain
//     negation — the two-valued logic of the in-memory evaluator;
//   - set fields (products held, tags, consents) and aggregates over a
//     window are semi-joins "c.id IN (SELECT customer_id …)" that the
//     engines run once for the whole query rather than once per customer;
//     an aggregate whose comparison holds for 0 (no rows in the window) is
//     written as the exclusion of the customers whose aggregate fails it.
type segmentSQL struct {
	d    Dialect
	p    *segment.Plan
	args []any
}

func (b *segmentSQL) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// compileSegment returns the condition of plan p; its parameters continue
// after args.
func compileSegment(d Dialect, p *segment.Plan, args []any) (string, []any) {
	b := &segmentSQL{d: d, p: p, args: args}
	return b.node(p.Root), b.args
}

func (b *segmentSQL) node(n *segment.Node) string {
	switch n.Kind {
	case segment.All, segment.Any:
		if len(n.Kids) == 0 {
			if n.Kind == segment.All {
				return "1 = 1"
			}
			return "1 = 0"
		}
		parts := make([]string, len(n.Kids))
		for i, k := range n.Kids {
			parts[i] = b.node(k)
		}
		sep := " AND "
		if n.Kind == segment.Any {
			sep = " OR "
		}
		return "(" + strings.Join(parts, sep) + ")"
	case segment.Not:
		return "NOT (" + b.node(n.Kids[0]) + ")"
	case segment.Member:
		return "c.id IN (SELECT m.customer_id FROM segment_members m WHERE m.segment_id = " + b.arg(n.Segment) + ")"
	}
	return b.cond(n.Cond)
}

// column is a single-valued field read from the customers row: its SQL
// expression and the condition under which its value is known ("" when it
// always is).
var segmentFieldColumns = map[string]struct{ expr, known string }{
	segment.FCustomerType: {"c.type", ""},
	segment.FGender:       {"c.gender", "c.gender <> ''"},
	segment.FRegion:       {"c.region_code", "c.region_code <> ''"},
	segment.FIndustry:     {"c.industry", "c.industry <> ''"},
	segment.FStatus:       {"c.status", ""},
	segment.FLevel:        {"c.level", ""},
	segment.FAUM:          {"c.aum", ""},
	segment.FRiskLevel:    {"c.risk_level", "c.risk_level <> 0"},
	segment.FOwner:        {"c.owner_id", "c.owner_id IS NOT NULL"},
	segment.FAge:          {"", "c.birth_date IS NOT NULL"},
	segment.FCreatedOn:    {"", ""},
	segment.FOrg:          {"", ""},
	segment.FRiskValid:    {"", ""},
	segment.FDoNotCall:    {"", ""},
	segment.FInflowSum:    {"", ""},
	segment.FOutflowSum:   {"", ""},
	segment.FTxnCount:     {"", ""},
	segment.FEventCount:   {"", ""},
}

func (b *segmentSQL) cond(c *segment.Condition) string {
	if c.Field.Set {
		return b.set(c)
	}
	col, ok := segmentFieldColumns[c.Field.Name]
	if !ok {
		panic("store: segment field without SQL: " + c.Field.Name)
	}
	switch c.Op {
	case segment.OpIsNull:
		return "NOT (" + col.known + ")"
	case segment.OpIsNotNull:
		return col.known
	}
	pos := b.positive(c, segment.Positive(c.Op), col.expr)
	if segment.Negative(c.Op) {
		pos = "NOT (" + pos + ")"
	}
	if col.known == "" {
		return pos
	}
	return "(" + col.known + " AND " + pos + ")"
}

// positive is the condition that the customer's (known) value satisfies the
// positive operator op.
func (b *segmentSQL) positive(c *segment.Condition, op segment.Op, expr string) string {
	switch c.Field.Name {
	case segment.FAge:
		return b.intervals(c, op, b.ageRange)
	case segment.FCreatedOn:
		return b.intervals(c, op, b.dayRange)
	case segment.FOrg:
		parts := make([]string, len(c.OrgPaths))
		for i, p := range c.OrgPaths {
			parts[i] = b.prefix("path", p)
		}
		return "c.org_id IN (SELECT id FROM orgs WHERE " + strings.Join(parts, " OR ") + ")"
	case segment.FRiskValid:
		e := "(c.risk_level <> 0 AND c.risk_assessed_at IS NOT NULL AND c.risk_assessed_at >= " + b.arg(b.p.RiskValidFrom) + ")"
		return boolIs(e, c.Ints[0])
	case segment.FDoNotCall:
		return boolIs("c.id IN (SELECT cp.customer_id FROM customer_preferences cp WHERE cp.do_not_call = TRUE)", c.Ints[0])
	case segment.FInflowSum, segment.FOutflowSum, segment.FTxnCount, segment.FEventCount:
		return b.aggregate(c, op)
	}
	return b.compare(c, op, expr)
}

// boolIs is e = true or e = false for a boolean value 1/0.
func boolIs(e string, v int64) string {
	if v == 1 {
		return e
	}
	return "NOT (" + e + ")"
}

// compare applies a positive operator to an SQL expression.
func (b *segmentSQL) compare(c *segment.Condition, op segment.Op, expr string) string {
	vals := make([]any, 0, max(len(c.Ints), len(c.Strs)))
	for _, n := range c.Ints {
		vals = append(vals, n)
	}
	for _, s := range c.Strs {
		vals = append(vals, s)
	}
	switch op {
	case segment.OpEq, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe:
		return expr + " " + string(op) + " " + b.arg(vals[0])
	case segment.OpIn:
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = b.arg(v)
		}
		return expr + " IN (" + strings.Join(ps, ", ") + ")"
	case segment.OpBetween:
		return "(" + expr + " >= " + b.arg(vals[0]) + " AND " + expr + " <= " + b.arg(vals[1]) + ")"
	case segment.OpContains:
		if b.d.IsPostgres() {
			return "strpos(" + expr + ", " + b.arg(c.Strs[0]) + ") > 0"
		}
		return "instr(" + expr + ", " + b.arg(c.Strs[0]) + ") > 0"
	case segment.OpStartsWith:
		// substr counts characters on both engines, like strings.HasPrefix
		// counts the prefix's bytes of the same characters.
		return "substr(" + expr + ", 1, " + b.arg(int64(utf8.RuneCountInString(c.Strs[0]))) + ") = " + b.arg(c.Strs[0])
	}
	panic(fmt.Sprintf("store: segment operator %q", op))
}

// prefix is "column starts with p" by code-point range (see Dialect.Prefix).
func (b *segmentSQL) prefix(column, p string) string {
	col := column
	if b.d.IsPostgres() {
		col += ` COLLATE "C"`
	}
	return "(" + col + " >= " + b.arg(p) + " AND " + col + " < " + b.arg(p+"\U0010FFFF") + ")"
}

// interval is an inclusive range of ages or days; nil bounds are open.
type interval struct{ lo, hi *int64 }

// intervals turns an ordered comparison on an integer-like domain (ages,
// days) into ranges and each range into SQL by rng.
func (b *segmentSQL) intervals(c *segment.Condition, op segment.Op, rng func(interval) string) string {
	var ivs []interval
	vals := c.Ints
	if c.Field.Type == segment.TypeDate {
		vals = make([]int64, len(c.Strs))
		for i, s := range c.Strs {
			d, _ := kehu.ParseDate(s)
			vals[i] = dayNumber(d)
		}
	}
	v := func(i int) *int64 { x := vals[i]; return &x }
	plus := func(p *int64, d int64) *int64 { x := *p + d; return &x }
	switch op {
	case segment.OpEq:
		ivs = []interval{{v(0), v(0)}}
	case segment.OpLt:
		ivs = []interval{{nil, plus(v(0), -1)}}
	case segment.OpLe:
		ivs = []interval{{nil, v(0)}}
	case segment.OpGt:
		ivs = []interval{{plus(v(0), 1), nil}}
	case segment.OpGe:
		ivs = []interval{{v(0), nil}}
	case segment.OpBetween:
		ivs = []interval{{v(0), v(1)}}
	case segment.OpIn:
		for i := range vals {
			ivs = append(ivs, interval{v(i), v(i)})
		}
	default:
		panic(fmt.Sprintf("store: segment operator %q on %s", op, c.Field.Name))
	}
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = rng(iv)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// ageRange: age ≥ lo ⇔ birth_date ≤ AgeCutoff(lo); age ≤ hi ⇔ birth_date >
// AgeCutoff(hi+1). Bounds are written half-open with day-after dates so a
// date stored with a time part on SQLite compares the same.
func (b *segmentSQL) ageRange(iv interval) string {
	var parts []string
	if iv.lo != nil {
		parts = append(parts, "c.birth_date < "+b.arg(nextDay(segment.AgeCutoff(b.p.Today, *iv.lo))))
	}
	if iv.hi != nil {
		parts = append(parts, "c.birth_date >= "+b.arg(nextDay(segment.AgeCutoff(b.p.Today, *iv.hi+1))))
	}
	if len(parts) == 0 {
		return "1 = 1"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// dayRange: the day of record (Asia/Shanghai) of created_at in [lo, hi].
func (b *segmentSQL) dayRange(iv interval) string {
	var parts []string
	if iv.lo != nil {
		parts = append(parts, "c.created_at >= "+b.arg(segment.DayStart(fromDayNumber(*iv.lo), b.p.Loc)))
	}
	if iv.hi != nil {
		parts = append(parts, "c.created_at < "+b.arg(segment.DayStart(fromDayNumber(*iv.hi+1), b.p.Loc)))
	}
	if len(parts) == 0 {
		return "1 = 1"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

func dayNumber(d kehu.Date) int64 { return int64(d.Time().Sub(epoch) / (24 * time.Hour)) }

func fromDayNumber(n int64) kehu.Date { return kehu.DateOf(epoch.AddDate(0, 0, int(n))) }

func nextDay(d kehu.Date) string { return kehu.DateOf(d.Time().AddDate(0, 0, 1)).String() }

// aggregate is the condition that the customer's aggregate over the window
// satisfies the positive operator op.
func (b *segmentSQL) aggregate(c *segment.Condition, op segment.Op) string {
	var from, agg string
	switch c.Field.Name {
	case segment.FInflowSum:
		from, agg = "SELECT t.customer_id FROM transactions t WHERE t.occurred_at >= "+b.arg(c.Since)+
			" AND t.occurred_at <= "+b.arg(b.p.Now)+" AND t.amount > 0 GROUP BY t.customer_id", "SUM(t.amount)"
	case segment.FOutflowSum:
		from, agg = "SELECT t.customer_id FROM transactions t WHERE t.occurred_at >= "+b.arg(c.Since)+
			" AND t.occurred_at <= "+b.arg(b.p.Now)+" AND t.amount < 0 GROUP BY t.customer_id", "-SUM(t.amount)"
	case segment.FTxnCount:
		from, agg = "SELECT t.customer_id FROM transactions t WHERE t.occurred_at >= "+b.arg(c.Since)+
			" AND t.occurred_at <= "+b.arg(b.p.Now)+" GROUP BY t.customer_id", "COUNT(*)"
	case segment.FEventCount:
		ch := ""
		if c.Channel != "" {
			ch = " AND e.channel = " + b.arg(c.Channel)
		}
		from, agg = "SELECT e.customer_id FROM channel_events e WHERE e.kind = "+b.arg(c.Event)+ch+
			" AND e.occurred_at >= "+b.arg(c.Since)+" AND e.occurred_at <= "+b.arg(b.p.Now)+" GROUP BY e.customer_id", "COUNT(*)"
	}
	having := b.compare(c, op, agg)
	if b.p.ZeroMatches(&segment.Condition{Field: c.Field, Op: op, Ints: c.Ints}) {
		return "c.id NOT IN (" + from + " HAVING NOT (" + having + "))"
	}
	return "c.id IN (" + from + " HAVING " + having + ")"
}

// set is a condition on a set field: some value satisfies the positive
// operator (=, in, <, …), none does (!=, not_in), no values at all
// (is_null) or some (is_not_null).
func (b *segmentSQL) set(c *segment.Condition) string {
	pos := segment.Positive(c.Op)
	members := func(elem func(expr string) string) string {
		switch c.Field.Name {
		case segment.FHoldsType, segment.FHoldsCode, segment.FHoldsRisk:
			col := map[string]string{segment.FHoldsType: "p.type", segment.FHoldsCode: "p.code",
				segment.FHoldsRisk: "p.risk_level"}[c.Field.Name]
			rated := ""
			if c.Field.Name == segment.FHoldsRisk {
				rated = " AND p.risk_level <> 0" // an unrated product has no risk level
			}
			return "SELECT a.customer_id FROM accounts a JOIN products p ON p.id = a.product_id WHERE a.status <> 'closed'" +
				rated + elem(col) + " UNION ALL SELECT h.customer_id FROM holdings h JOIN products p ON p.id = h.product_id" +
				" WHERE h.amount > 0" + rated + elem(col)
		case segment.FHasTag:
			return "SELECT ct.customer_id FROM customer_tags ct WHERE (ct.expires_at IS NULL OR ct.expires_at > " +
				b.arg(b.p.Now) + ")" + elem("ct.tag_id")
		case segment.FConsent:
			return "SELECT k.customer_id FROM customer_consents k WHERE k.granted = TRUE" + elem("k.channel")
		}
		panic("store: segment set field without SQL: " + c.Field.Name)
	}
	switch c.Op {
	case segment.OpIsNull:
		return "c.id NOT IN (" + members(func(string) string { return "" }) + ")"
	case segment.OpIsNotNull:
		return "c.id IN (" + members(func(string) string { return "" }) + ")"
	}
	sub := members(func(expr string) string { return " AND " + b.compare(c, pos, expr) })
	if segment.Negative(c.Op) {
		return "c.id NOT IN (" + sub + ")"
	}
	return "c.id IN (" + sub + ")"
}
