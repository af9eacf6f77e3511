package governance

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/org"
)

// Stat is completeness and validity of one field (or, summed, of an
// organisation): Filled/Applicable and Valid/Filled.
type Stat struct {
	Applicable int64 `json:"applicable"`
	Filled     int64 `json:"filled"`
	Valid      int64 `json:"valid"`
}

func (s *Stat) add(r Result) {
	s.Applicable += r.Applicable
	s.Filled += r.Filled
	s.Valid += r.Valid
}

// Completeness is the share of applicable rows holding a value, in basis
// points (10,000 = 100%); -1 when no row applies.
func (s Stat) Completeness() int {
	if s.Applicable == 0 {
		return -1
	}
	return int(s.Filled * 10_000 / s.Applicable)
}

// Validity is the share of present values passing the rule, in basis
// points; -1 when no value is present.
func (s Stat) Validity() int {
	if s.Filled == 0 {
		return -1
	}
	return int(s.Valid * 10_000 / s.Filled)
}

// Issues counts missing required values and invalid values.
func (s Stat) Issues(required bool) int64 {
	n := s.Filled - s.Valid
	if required {
		n += s.Applicable - s.Filled
	}
	return n
}

// FieldStat is one field of the report.
type FieldStat struct {
	Table    string   `json:"table"`
	Column   string   `json:"column"`
	Required bool     `json:"required"`
	Kinds    []string `json:"kinds"`
	Stat
	Issues int64 `json:"issues"`
}

// OrgStat is one child organisation (its whole subtree) of the report, or
// the organisation's own customers when Self.
type OrgStat struct {
	Org  org.Org `json:"org"`
	Self bool    `json:"self"`
	Stat
	Issues int64 `json:"issues"`
}

// ExampleAt is an example with where it was found.
type ExampleAt struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	OrgID  int64  `json:"org_id"`
	Example
}

// Report is the data-quality page of one organisation's subtree.
type Report struct {
	// Run is the measurement shown (the newest that finished); nil when
	// none has yet. Running is one in progress, if any.
	Run      *Run        `json:"run"`
	Running  *Run        `json:"running"`
	Org      org.Org     `json:"org"`
	Trail    []org.Org   `json:"trail"` // the path from the actor's scope root down to Org
	Total    Stat        `json:"total"`
	Fields   []FieldStat `json:"fields"`
	Children []OrgStat   `json:"children"`
	Examples []ExampleAt `json:"examples"`
}

// maxExamples bounds the examples a report shows.
const maxExamples = 30

// Report returns the results of the latest measurement for the subtree of
// orgID (0: the actor's own scope root). An organisation outside the actor's
// scope is ENOTFOUND: a branch manager sees their subtree only. Reading it is
// recorded, since the examples are (masked) customer data.
func (q *Quality) Report(ctx context.Context, orgID int64) (Report, error) {
	a, err := access.ActorWith(ctx, access.QualityRead)
	if err != nil {
		return Report{}, err
	}
	orgs, err := q.orgs.List(ctx)
	if err != nil {
		return Report{}, err
	}
	root, ok := scopeRoot(a, orgs)
	if !ok {
		return Report{}, kehu.Errorf(kehu.EFORBIDDEN, "your data scope has no branch to report on")
	}
	if orgID == 0 {
		orgID = root.ID
	}
	i := slices.IndexFunc(orgs, func(o org.Org) bool { return o.ID == orgID })
	if i < 0 || !root.Contains(orgs[i]) || access.DefaultScope(a.Role) == access.ScopeOutlet && orgID != a.OrgID {
		return Report{}, kehu.Errorf(kehu.ENOTFOUND, "organisation not found")
	}
	rep := Report{Org: orgs[i], Fields: []FieldStat{}, Children: []OrgStat{}, Examples: []ExampleAt{}}
	for _, o := range orgs {
		if root.Contains(o) && o.Contains(rep.Org) {
			rep.Trail = append(rep.Trail, o)
		}
	}
	slices.SortFunc(rep.Trail, func(x, y org.Org) int { return len(x.Path) - len(y.Path) })
	if r, err := q.store.LatestRun(ctx, RunRunning); err == nil {
		rep.Running = &r
	} else if kehu.ErrorCode(err) != kehu.ENOTFOUND {
		return Report{}, err
	}
	run, err := q.store.LatestRun(ctx, RunDone)
	switch kehu.ErrorCode(err) {
	case "":
		rep.Run = &run
		results, err := q.store.Results(ctx, run.ID, rep.Org.Path)
		if err != nil {
			return Report{}, err
		}
		entries, err := q.dict.Current(ctx)
		if err != nil {
			return Report{}, err
		}
		rep.summarise(results, entries, orgs)
	case kehu.ENOTFOUND:
	default:
		return Report{}, err
	}
	if err := q.audit.Record(ctx, audit.Entry{Action: ActionQualityRead, Object: "org:" + strconv.FormatInt(rep.Org.ID, 10),
		Count: len(rep.Examples)}); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// scopeRoot is the organisation whose subtree the actor may report on.
func scopeRoot(a kehu.Actor, orgs []org.Org) (org.Org, bool) {
	switch access.DefaultScope(a.Role) {
	case access.ScopeBank:
		for _, o := range orgs {
			if o.ParentID == nil {
				return o, true
			}
		}
	case access.ScopeSubtree, access.ScopeOutlet:
		for _, o := range orgs {
			if o.ID == a.OrgID {
				return o, true
			}
		}
	}
	return org.Org{}, false
}

// summarise sums results per field, per child organisation and in total.
func (rep *Report) summarise(results []Result, entries []Entry, orgs []org.Org) {
	required := map[string]Entry{}
	for _, e := range entries {
		required[e.Table+"."+e.Column] = e
	}
	byField := map[string]*FieldStat{}
	byChild := map[int64]*OrgStat{}
	orgByID := map[int64]org.Org{}
	for _, o := range orgs {
		orgByID[o.ID] = o
	}
	for _, r := range results {
		key := r.Table + "." + r.Column
		f := byField[key]
		if f == nil {
			e := required[key]
			f = &FieldStat{Table: r.Table, Column: r.Column, Required: e.Rule.Required, Kinds: e.Rule.Kinds()}
			byField[key] = f
		}
		f.add(r)
		child, self := childOf(rep.Org, r.OrgPath, orgByID)
		c := byChild[child.ID]
		if c == nil {
			c = &OrgStat{Org: child, Self: self}
			byChild[child.ID] = c
		}
		c.add(r)
		c.Issues += Stat{Applicable: r.Applicable, Filled: r.Filled, Valid: r.Valid}.Issues(f.Required)
		rep.Total.add(r)
		for _, ex := range r.Examples {
			if len(rep.Examples) < maxExamples {
				rep.Examples = append(rep.Examples, ExampleAt{Table: r.Table, Column: r.Column, OrgID: r.OrgID, Example: ex})
			}
		}
	}
	for _, e := range entries {
		if f := byField[e.Table+"."+e.Column]; f != nil {
			f.Issues = f.Stat.Issues(f.Required)
			rep.Fields = append(rep.Fields, *f)
		}
	}
	for _, c := range byChild {
		rep.Children = append(rep.Children, *c)
	}
	slices.SortFunc(rep.Children, func(a, b OrgStat) int {
		if a.Self != b.Self {
			if a.Self {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Org.Code, b.Org.Code)
	})
}

// childOf returns the child of parent whose subtree holds path, or parent
// itself (self) for rows homed at parent.
func childOf(parent org.Org, path string, orgs map[int64]org.Org) (org.Org, bool) {
	rest := strings.TrimPrefix(path, parent.Path)
	seg, _, _ := strings.Cut(rest, "/")
	if seg == "" {
		return parent, true
	}
	id, err := strconv.ParseInt(seg, 10, 64)
	if err != nil {
		return parent, true
	}
	if o, ok := orgs[id]; ok {
		return o, false
	}
	return parent, true
}
