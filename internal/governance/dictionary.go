package governance

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// DictionaryStore keeps the edited versions of dictionary metadata.
type DictionaryStore interface {
	// LatestVersions returns the newest stored version of every edited entry.
	LatestVersions(ctx context.Context) ([]Version, error)
	// EntryVersions returns the stored versions of one entry, newest first.
	EntryVersions(ctx context.Context, table, column string) ([]Version, error)
	// AddVersion stores v as the next version, ECONFLICT if v.Version is
	// taken (somebody saved meanwhile).
	AddVersion(ctx context.Context, v Version) error
	// TableColumns lists the columns the database has for table.
	TableColumns(ctx context.Context, table string) ([]string, error)
}

// Dictionary is the governed data dictionary: the shipped catalogue with
// the stewards' edits on top.
type Dictionary struct {
	store DictionaryStore
	clock kehu.Clock
	audit audit.Recorder
	tx    kehu.Transactor
}

// DictionaryDeps are the collaborators of a Dictionary.
type DictionaryDeps struct {
	Store DictionaryStore
	Clock kehu.Clock
	Audit audit.Recorder
	Tx    kehu.Transactor
}

// NewDictionary returns a Dictionary; Audit and Tx are required.
func NewDictionary(d DictionaryDeps) *Dictionary {
	if d.Store == nil || d.Audit == nil || d.Tx == nil {
		panic("governance.NewDictionary: Store, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Dictionary{store: d.Store, clock: d.Clock, audit: d.Audit, tx: d.Tx}
}

// ActionDictionaryUpdate is the audit action of a metadata edit; Object is
// "dictionary:<table>.<column>", Changes hold old → new per changed part.
const ActionDictionaryUpdate = "dictionary.update"

// Filter narrows the dictionary: Query matches a column name, a table or
// either definition; the others are exact.
type Filter struct {
	Query  string
	Table  string
	Class  string
	Owner  string
	Source string
}

// Entries returns the current dictionary, filtered. It is metadata, no
// customer data: any signed-in employee may read it.
func (d *Dictionary) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	all, err := d.Current(ctx)
	if err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	out := all[:0]
	for _, e := range all {
		if f.Table != "" && e.Table != f.Table || f.Class != "" && string(e.Class) != f.Class ||
			f.Owner != "" && e.Owner != f.Owner || f.Source != "" && e.SourceSystem != f.Source {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(e.Table+"."+e.Column+" "+e.DefinitionZH+" "+e.DefinitionEN), q) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// Current returns every entry with its latest metadata, without a permission
// check: the measurement job reads the rules in force through it.
func (d *Dictionary) Current(ctx context.Context) ([]Entry, error) {
	latest, err := d.store.LatestVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("dictionary: %w", err)
	}
	byKey := map[string]Version{}
	for _, v := range latest {
		byKey[v.Table+"."+v.Column] = v
	}
	entries := Catalogue()
	for i, e := range entries {
		if v, ok := byKey[e.Table+"."+e.Column]; ok {
			entries[i] = e.with(v)
		}
	}
	return entries, nil
}

// Entry returns one entry and its stored versions, newest first.
func (d *Dictionary) Entry(ctx context.Context, table, column string) (Entry, []Version, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return Entry{}, nil, err
	}
	e, ok := Lookup(table, column)
	if !ok {
		return Entry{}, nil, kehu.Errorf(kehu.ENOTFOUND, "no dictionary entry %s.%s", table, column)
	}
	vs, err := d.store.EntryVersions(ctx, table, column)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("dictionary %s.%s: %w", table, column, err)
	}
	if len(vs) > 0 {
		e = e.with(vs[0])
	}
	return e, vs, nil
}

// Edit is a steward's change of an entry's metadata. BaseVersion is the
// version the steward edited; if somebody saved since, the edit is refused
// (ECONFLICT) instead of silently overwriting theirs.
type Edit struct {
	Metadata
	BaseVersion int
	Note        string
}

// maxDefinition bounds a definition; maxNote a note.
const (
	maxDefinition = 500
	maxNote       = 500
)

// Update stores e as the next version of table.column and records the
// change. The sensitivity class is not editable: it is the vault's.
func (d *Dictionary) Update(ctx context.Context, table, column string, e Edit) (Entry, error) {
	a, err := access.ActorWith(ctx, access.GovernanceManage)
	if err != nil {
		return Entry{}, err
	}
	base, ok := Lookup(table, column)
	if !ok {
		return Entry{}, kehu.Errorf(kehu.ENOTFOUND, "no dictionary entry %s.%s", table, column)
	}
	if err := e.validate(base); err != nil {
		return Entry{}, err
	}
	err = d.tx.WithTx(ctx, func(ctx context.Context) error {
		vs, err := d.store.EntryVersions(ctx, table, column)
		if err != nil {
			return err
		}
		cur := base
		if len(vs) > 0 {
			cur = base.with(vs[0])
		}
		if cur.Version != e.BaseVersion {
			return kehu.Errorf(kehu.ECONFLICT, "%s.%s was changed meanwhile (now version %d); reload and edit again",
				table, column, cur.Version)
		}
		changes := metadataChanges(cur.Metadata(), e.Metadata)
		if len(changes) == 0 {
			return &kehu.Error{Code: kehu.EINVALID, Message: "nothing changed",
				Fields: []kehu.FieldError{{Field: "definition_zh", Reason: "the edit changes nothing"}}}
		}
		v := Version{Table: table, Column: column, Version: cur.Version + 1, DefinitionZH: e.DefinitionZH,
			DefinitionEN: e.DefinitionEN, SourceSystem: e.SourceSystem, Owner: e.Owner, Rule: e.Rule, Note: e.Note,
			EditedBy: &a.UserID, EditedAt: d.clock.Now()}
		if err := d.store.AddVersion(ctx, v); err != nil {
			return err
		}
		return d.audit.Record(ctx, audit.Entry{Action: ActionDictionaryUpdate, Object: "dictionary:" + table + "." + column,
			Changes: changes, Reason: e.Note})
	})
	if err != nil {
		return Entry{}, err
	}
	out, _, err := d.Entry(ctx, table, column)
	return out, err
}

// validate normalises and checks an edit against the entry's column.
func (e *Edit) validate(base Entry) error {
	var v kehu.Validation
	e.DefinitionZH, e.DefinitionEN = strings.TrimSpace(e.DefinitionZH), strings.TrimSpace(e.DefinitionEN)
	e.Note = strings.TrimSpace(e.Note)
	for _, f := range []struct{ name, val string }{{"definition_zh", e.DefinitionZH}, {"definition_en", e.DefinitionEN}} {
		switch n := utf8.RuneCountInString(f.val); {
		case n == 0:
			v.Add(f.name, "is required")
		case n > maxDefinition:
			v.Add(f.name, fmt.Sprintf("must have at most %d characters", maxDefinition))
		}
	}
	if !slices.Contains(SourceSystems, e.SourceSystem) {
		v.Add("source_system", "must be one of "+strings.Join(SourceSystems, ", "))
	}
	if !slices.Contains(Owners, e.Owner) {
		v.Add("owner", "must be one of "+strings.Join(Owners, ", "))
	}
	if utf8.RuneCountInString(e.Note) > maxNote {
		v.Add("note", fmt.Sprintf("must have at most %d characters", maxNote))
	}
	if e.BaseVersion < 0 {
		v.Add("base_version", "must not be negative")
	}
	e.Rule.Validate(&v, "quality_rule.", base.Column, base.Type)
	return v.Err()
}

// metadataChanges lists what differs between two metadata, for the audit
// trail (definitions are not personal data, so they are recorded in full).
func metadataChanges(old, new Metadata) []audit.Change {
	var out audit.Changes
	out.Add("definition_zh", old.DefinitionZH, new.DefinitionZH)
	out.Add("definition_en", old.DefinitionEN, new.DefinitionEN)
	out.Add("source_system", old.SourceSystem, new.SourceSystem)
	out.Add("owner", old.Owner, new.Owner)
	if !reflect.DeepEqual(normalRule(old.Rule), normalRule(new.Rule)) {
		out.Add("quality_rule", ruleJSON(old.Rule), ruleJSON(new.Rule))
	}
	return out
}

// normalRule makes equal rules compare equal (nil and empty value lists).
func normalRule(r QualityRule) QualityRule {
	r = r.Clone()
	if len(r.Values) == 0 {
		r.Values = nil
	}
	return r
}

// Columns returns the database columns of table: the dictionary test and the
// page compare them with the catalogue.
func (d *Dictionary) Columns(ctx context.Context, table string) ([]string, error) {
	if !slices.Contains(Tables, table) {
		return nil, kehu.Errorf(kehu.ENOTFOUND, "table %s is not described by the dictionary", table)
	}
	return d.store.TableColumns(ctx, table)
}

// Undocumented returns table.column names the database has but the
// dictionary does not describe, for the dictionary page's warning.
func (d *Dictionary) Undocumented(ctx context.Context) ([]string, error) {
	var out []string
	for _, t := range Tables {
		cols, err := d.Columns(ctx, t)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			if _, ok := Lookup(t, c); !ok && !implicit(t, c) {
				out = append(out, t+"."+c)
			}
		}
	}
	return out, nil
}

// implicit are columns of the tables other than customers that need no
// entry: row ids, foreign keys already described on the customer, blind
// indexes and retention bookkeeping. Every customers column needs one.
func implicit(table, column string) bool {
	if table == "customers" {
		return false
	}
	switch column {
	case "id", "account_id", "customer_id", "account_no_bidx", "retained_for", "retained_until":
		return true
	}
	return false
}

func ruleJSON(r QualityRule) string { return r.JSON() }
