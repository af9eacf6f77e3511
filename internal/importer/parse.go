package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"kehu/internal/identity"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// Problem is one reason a row is rejected: the column at fault ("" for the
// row as a whole) and why. Reasons never hold a personal value in clear.
type Problem struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// problems collects at most one reason per column, in the order found.
type problems struct {
	list []Problem
	seen map[string]int
}

func (p *problems) add(col, reason string) {
	if p.seen == nil {
		p.seen = map[string]int{}
	}
	if i, ok := p.seen[col]; ok {
		p.list[i].Reason += "; " + reason
		return
	}
	p.seen[col] = len(p.list)
	p.list = append(p.list, Problem{Column: col, Reason: reason})
}

func (p *problems) ok() bool { return len(p.list) == 0 }

// Sealer encrypts and indexes personal values the way the store does, in
// the importer's workers. store.DB.ImportSealer implements it.
type Sealer interface {
	identity.Fingerprinter
	SealCustomer(idNumber, mobile, email, address string) (identity.Sealed, error)
	SealAccountNo(no string) (sealed, index string, err error)
	IDNumberIndex(v string) string
	AccountNoIndex(v string) string
	// Digest is a keyed digest of a row's natural key, for rows without a
	// source id of their own.
	Digest(parts ...string) string
}

// OrgRef, UserRef and ProductRef are the small reference tables a job
// loads once: rows name organisations by code or id, staff by username or
// id, products by code.
type OrgRef struct {
	ID   int64
	Code string
	Path string
}

// UserRef is a staff member rows may name as owner.
type UserRef struct {
	ID       int64
	Username string
	OrgID    int64
	Active   bool
}

// ProductRef is a product rows may name.
type ProductRef struct {
	ID   int64
	Code string
	Type string
}

// Refs are the reference tables of a job.
type Refs struct {
	Orgs      map[int64]OrgRef
	OrgCodes  map[string]int64
	Users     map[int64]UserRef
	Usernames map[string]int64
	Products  map[string]ProductRef
	Sources   map[string]bool
}

// org resolves an organisation cell: a code first (codes may be numeric),
// then an id.
func (r *Refs) org(v string) (OrgRef, bool) {
	if id, ok := r.OrgCodes[v]; ok {
		return r.Orgs[id], true
	}
	if id, err := strconv.ParseInt(v, 10, 64); err == nil {
		o, ok := r.Orgs[id]
		return o, ok
	}
	return OrgRef{}, false
}

// user resolves a staff cell: a username first, then an id.
func (r *Refs) user(v string) (UserRef, bool) {
	if id, ok := r.Usernames[strings.ToLower(v)]; ok {
		return r.Users[id], true
	}
	if id, err := strconv.ParseInt(v, 10, 64); err == nil {
		u, ok := r.Users[id]
		return u, ok
	}
	return UserRef{}, false
}

// parser turns mapped records of one job into validated rows.
type parser struct {
	kind   string
	source string // the job's source system
	refs   *Refs
	seal   Sealer
	loc    *time.Location
	now    time.Time
	asOf   time.Time // when the job started: the observation time of rows without updated_at
	// orgInScope says whether the actor may place data at an organisation.
	orgInScope func(o OrgRef) bool
	nameKey    func(string) string
	// providedSets holds one Provided map per set of fields (uint32 mask →
	// map[string]bool), shared by the rows that provide the same fields:
	// identity only reads them, and a map per row was an eighth of a
	// worker's time.
	providedSets sync.Map
}

// parsed is a row after validation: the kind's record, or its problems.
type parsed struct {
	line     int64
	key      string // identifies the row's subject within the file ("" when none)
	problems []Problem
	rec      any
}

// longDigits finds digit runs long enough to be part of an identifier, so
// a library's message cannot carry one into a reject reason.
var longDigits = regexp.MustCompile(`\d{6,}`)

// safeReason strips long digit runs from a message.
func safeReason(msg string) string { return longDigits.ReplaceAllString(msg, "…") }

// masked shows a value of col as a reject may: personal values masked,
// others quoted and shortened.
func (p *parser) masked(col, v string) string {
	rule := maskFor(p.kind, col)
	switch rule {
	case vault.RuleNone:
		return quoted(v)
	case vault.RuleWithhold:
		return "(value withheld)"
	}
	return vault.Mask(rule, v, false)
}

// parse validates one row of the file.
func (p *parser) parse(row Row, m Mapping, width int) parsed {
	out := parsed{line: row.Line}
	if row.Problem != "" {
		out.problems = []Problem{{Reason: row.Problem}}
		return out
	}
	var probs problems
	if len(row.Cells) != width {
		probs.add("", fmt.Sprintf("the row has %d cells but the header has %d: a separator inside an unquoted cell, "+
			"or cells missing?", len(row.Cells), width))
		out.problems = probs.list
		return out
	}
	rec := m.apply(row.Cells)
	if src := rec["source_system"]; src != "" && src != p.source {
		probs.add("source_system", fmt.Sprintf("is %s but this import is from %s: import each system's file on its own",
			quoted(src), p.source))
	}
	switch p.kind {
	case KindCustomers:
		out.rec, out.key = p.customer(row.Line, rec, &probs)
	case KindAccounts:
		out.rec, out.key = p.account(row.Line, rec, &probs)
	case KindHoldings:
		out.rec, out.key = p.holding(row.Line, rec, &probs)
	case KindTransactions:
		out.rec, out.key = p.transaction(row.Line, rec, &probs)
	case KindRelationships:
		out.rec, out.key = p.relationship(row.Line, rec, &probs)
	case KindEvents:
		out.rec, out.key = p.event(row.Line, rec, &probs)
	}
	if !probs.ok() {
		out.problems, out.rec = probs.list, nil
	}
	return out
}

// text returns a cleaned free-text cell, refusing one longer than n runes
// or holding markup characters.
func (p *parser) text(rec record, col string, n int, probs *problems) string {
	v := rec[col]
	switch {
	case utf8.RuneCountInString(v) > n:
		probs.add(col, fmt.Sprintf("is longer than %d characters", n))
	case strings.ContainsAny(v, "<>\x00"):
		probs.add(col, "contains characters that are not allowed (< or >)")
	}
	return v
}

// amount parses a money cell into fen; ok is false when the cell is empty.
func (p *parser) amount(rec record, col string, probs *problems) (int64, bool) {
	v := rec[col]
	if v == "" {
		return 0, false
	}
	n, err := ParseAmount(v)
	if err != nil {
		probs.add(col, p.masked(col, v)+" "+err.Error())
		return 0, false
	}
	return n, true
}

// date parses a date cell; the zero date when empty.
func (p *parser) date(rec record, col string, probs *problems) kehu.Date {
	v := rec[col]
	if v == "" {
		return kehu.Date{}
	}
	d, err := ParseDate(v)
	if err != nil {
		probs.add(col, p.masked(col, v)+" "+err.Error())
		return kehu.Date{}
	}
	if d.Year < 1900 || d.Year > 2200 {
		probs.add(col, p.masked(col, v)+" is outside the years 1900–2200")
		return kehu.Date{}
	}
	return d
}

// moment parses a date-time cell (Beijing time unless it says otherwise).
func (p *parser) moment(rec record, col string, probs *problems) (time.Time, bool) {
	v := rec[col]
	if v == "" {
		return time.Time{}, false
	}
	t, err := ParseTime(v, p.loc)
	if err != nil {
		probs.add(col, p.masked(col, v)+" "+err.Error())
		return time.Time{}, false
	}
	if t.Year() < 1900 {
		probs.add(col, p.masked(col, v)+" is before 1900")
		return time.Time{}, false
	}
	return t, true
}

// notFuture refuses a date after today (Beijing time).
func (p *parser) notFuture(d kehu.Date, col string, probs *problems) {
	if !d.IsZero() && d.Time().After(kehu.DateOf(p.now.In(p.loc)).Time()) {
		probs.add(col, "is in the future")
	}
}

// orgCell resolves an organisation column; required says whether an empty
// cell is a problem.
func (p *parser) orgCell(rec record, col string, required bool, probs *problems) OrgRef {
	v := rec[col]
	if v == "" {
		if required {
			probs.add(col, "is required (an organisation code such as the outlet's, or its id)")
		}
		return OrgRef{}
	}
	o, ok := p.refs.org(v)
	if !ok {
		probs.add(col, quoted(v)+" is not an organisation code or id of this bank")
		return OrgRef{}
	}
	if p.orgInScope != nil && !p.orgInScope(o) {
		probs.add(col, quoted(v)+" is outside your data scope")
		return OrgRef{}
	}
	return o
}

// enum maps a cell through a table of accepted spellings (keys lower case).
func enum(v string, table map[string]string) (string, bool) {
	x, ok := table[strings.ToLower(strings.TrimSpace(v))]
	return x, ok
}

// accountNo normalises an account or card number cell.
func (p *parser) accountNo(rec record, col string, probs *problems) string {
	v := strings.NewReplacer(" ", "", "-", "").Replace(rec[col])
	switch {
	case v == "":
		probs.add(col, "is required")
	case numberLooksMangled(v):
		probs.add(col, "was turned into a number by Excel ("+truncate(v, 12)+"), which loses digits: format the "+
			"column as text and export again")
	case len(v) < 6 || len(v) > 32 || !isAlnum(v):
		probs.add(col, vault.MaskAccountNo(v)+" must be 6 to 32 letters or digits")
	default:
		return strings.ToUpper(v)
	}
	return ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// productCell resolves a product code, optionally restricted to types.
func (p *parser) productCell(rec record, col string, probs *problems, types ...string) ProductRef {
	v := rec[col]
	if v == "" {
		probs.add(col, "is required")
		return ProductRef{}
	}
	pr, ok := p.refs.Products[strings.ToUpper(v)]
	if !ok {
		pr, ok = p.refs.Products[v]
	}
	if !ok {
		probs.add(col, quoted(v)+" is not a product code of this bank")
		return ProductRef{}
	}
	if len(types) > 0 && !contains(types, pr.Type) {
		probs.add(col, fmt.Sprintf("%s is a %s product; here it must be one of %s", quoted(v), pr.Type, strings.Join(types, ", ")))
		return ProductRef{}
	}
	return pr
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
