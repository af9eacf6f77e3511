// Package governance makes Kehu's data governed: a data dictionary in which
// every customer attribute (and the main attributes of accounts, holdings,
// transactions and channel events) has a definition in Chinese and English,
// a source system, an owning data-steward department, its sensitivity class
// (the vault's, JR/T 0171) and a quality rule; versioned, audited metadata
// edits; and the data-quality measurement that checks those rules against the
// data and reports completeness and validity per field and per branch.
package governance

import (
	"slices"
	"time"

	"kehu/internal/vault"
)

// Column types of the dictionary: they decide which quality-rule parts
// apply (a range to numbers and dates, freshness to times).
const (
	TypeText      = "text"
	TypeCode      = "code" // a value from a fixed list
	TypeInteger   = "integer"
	TypeMoney     = "money" // integer fen
	TypeDate      = "date"
	TypeTimestamp = "timestamp"
	TypeID        = "id" // a row id or a reference to one
	TypeJSON      = "json"
)

// Source systems a value comes from. The first five match the import's
// source_systems; kehu is Kehu itself (values entered in Kehu or computed by
// it), channels the event feeds of the channel platforms.
var SourceSystems = []string{"core_banking", "credit", "cards", "wealth", "crm_legacy", "channels", "kehu"}

// Owners are the data-steward departments that answer for a field's meaning
// and quality, as a Chinese bank's data-governance office assigns them.
var Owners = []string{"retail_banking", "corporate_banking", "wealth_management", "card_center", "risk_management",
	"operations", "compliance", "data_management"}

// Entry is one field of the data dictionary.
type Entry struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Type   string `json:"type"`
	// Editable metadata (versioned).
	DefinitionZH string      `json:"definition_zh"`
	DefinitionEN string      `json:"definition_en"`
	SourceSystem string      `json:"source_system"`
	Owner        string      `json:"owner"`
	Rule         QualityRule `json:"quality_rule"`
	// Security metadata, from the vault and not editable here: it decides
	// encryption and masking, so it changes only with reviewed code.
	Class     vault.Class `json:"sensitivity"`
	Mask      vault.Rule  `json:"masking"`
	Encrypted bool        `json:"encrypted"`
	// Derived marks values Kehu computes (level, AUM, search keys), which no
	// source system supplies.
	Derived bool `json:"derived"`
	// ZeroIsEmpty: a zero in this integer column means "not known" (a risk
	// level of 0 was never assessed), so completeness counts it missing.
	ZeroIsEmpty bool `json:"-"`
	// Version is 0 for the shipped catalogue, then 1, 2, … per edit.
	Version      int        `json:"version"`
	Note         string     `json:"note"`
	EditedBy     *int64     `json:"edited_by"`
	EditedByName string     `json:"edited_by_name"`
	EditedAt     *time.Time `json:"edited_at"`
}

// Metadata is the editable part of an entry, as stored per version.
type Metadata struct {
	DefinitionZH string      `json:"definition_zh"`
	DefinitionEN string      `json:"definition_en"`
	SourceSystem string      `json:"source_system"`
	Owner        string      `json:"owner"`
	Rule         QualityRule `json:"quality_rule"`
}

// Metadata returns the editable part of e.
func (e Entry) Metadata() Metadata {
	return Metadata{DefinitionZH: e.DefinitionZH, DefinitionEN: e.DefinitionEN, SourceSystem: e.SourceSystem,
		Owner: e.Owner, Rule: e.Rule}
}

// with returns e carrying the metadata of stored version v.
func (e Entry) with(v Version) Entry {
	e.DefinitionZH, e.DefinitionEN, e.SourceSystem, e.Owner = v.DefinitionZH, v.DefinitionEN, v.SourceSystem, v.Owner
	e.Rule = v.Rule.Clone()
	e.Version, e.Note, e.EditedBy, e.EditedByName = v.Version, v.Note, v.EditedBy, v.EditedByName
	at := v.EditedAt
	e.EditedAt = &at
	return e
}

// Version is one stored edit of an entry's metadata.
type Version struct {
	Table        string      `json:"table"`
	Column       string      `json:"column"`
	Version      int         `json:"version"`
	DefinitionZH string      `json:"definition_zh"`
	DefinitionEN string      `json:"definition_en"`
	SourceSystem string      `json:"source_system"`
	Owner        string      `json:"owner"`
	Rule         QualityRule `json:"quality_rule"`
	Note         string      `json:"note"`
	EditedBy     *int64      `json:"edited_by"`
	EditedByName string      `json:"edited_by_name"`
	EditedAt     time.Time   `json:"edited_at"`
}

// Tables lists the tables the dictionary describes, in display order.
var Tables = []string{"customers", "accounts", "holdings", "transactions", "channel_events"}

// Catalogue returns the shipped dictionary (version 0 of every entry) with
// the security metadata filled from the vault. It returns new values on each
// call, so no caller can change the shipped definitions.
func Catalogue() []Entry {
	out := make([]Entry, 0, len(catalogue))
	for _, e := range catalogue {
		e.Rule = e.Rule.Clone()
		if f, ok := vault.Lookup(e.Table, e.Column); ok {
			e.Class, e.Mask, e.Encrypted = f.Class, f.Mask, f.Encrypted
		}
		out = append(out, e)
	}
	return out
}

// Lookup returns the shipped entry of table.column.
func Lookup(table, column string) (Entry, bool) {
	i := slices.IndexFunc(catalogue, func(e Entry) bool { return e.Table == table && e.Column == column })
	if i < 0 {
		return Entry{}, false
	}
	return Catalogue()[i], true
}
