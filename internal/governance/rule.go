package governance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"kehu/internal/kehu"
)

// QualityRule is what a field's values must satisfy. Completeness asks
// whether a value is present where the rule applies; validity asks whether a
// present value passes every check the rule sets. Its parts are the kinds
// data-quality frameworks (and the PBoC's 金融数据质量 guidance) name:
// required, format, range, reference and freshness.
type QualityRule struct {
	// Required: a missing value is an issue, not just lower completeness.
	Required bool `json:"required"`
	// AppliesTo limits the rule to individual or corporate customers ("" for
	// every row): a company has no birth date.
	AppliesTo string `json:"applies_to,omitempty"`
	// Format names a built-in check (Formats); "enum" uses Values.
	Format string   `json:"format,omitempty"`
	Values []string `json:"values,omitempty"`
	// Range of an integer or money field, inclusive.
	Min *int64 `json:"min,omitempty"`
	Max *int64 `json:"max,omitempty"`
	// Range of a date or time: not before MinDate (YYYY-MM-DD), not after
	// the measurement when NotFuture.
	MinDate   string `json:"min_date,omitempty"`
	NotFuture bool   `json:"not_future,omitempty"`
	// Reference names the table the value must point at (References).
	Reference string `json:"reference,omitempty"`
	// FreshDays: a time older than this many days is stale (a customer's
	// risk assessment expires).
	FreshDays int `json:"fresh_days,omitempty"`
	// MatchesID: an individual's birth date or gender must agree
	// with their resident ID number (GB 11643).
	MatchesID bool `json:"matches_id,omitempty"`
}

// Formats are the built-in format checks.
var Formats = []string{
	"id_document", // resident ID (check digit, birth date), USCC (check character), passport and permits by id_type
	"mobile",      // mainland mobile, 11 digits 13x–19x
	"email",       // an e-mail address
	"name",        // a name: no markup or control characters, at most 100 characters
	"region_code", // an existing GB/T 2260 region
	"account_no",  // 12 to 19 digits
	"enum",        // one of Values
}

// References are the tables a reference check can look up.
var References = []string{"orgs", "users", "products"}

// Rule kinds, shown as badges in the dictionary.
const (
	KindRequired  = "required"
	KindFormat    = "format"
	KindRange     = "range"
	KindReference = "reference"
	KindFreshness = "freshness"
)

// Kinds returns the kinds of check the rule makes.
func (r QualityRule) Kinds() []string {
	var k []string
	if r.Required {
		k = append(k, KindRequired)
	}
	if r.Format != "" || r.MatchesID {
		k = append(k, KindFormat)
	}
	if r.Min != nil || r.Max != nil || r.MinDate != "" || r.NotFuture {
		k = append(k, KindRange)
	}
	if r.Reference != "" {
		k = append(k, KindReference)
	}
	if r.FreshDays > 0 {
		k = append(k, KindFreshness)
	}
	return k
}

// Empty reports whether the rule checks nothing.
func (r QualityRule) Empty() bool { return len(r.Kinds()) == 0 && r.AppliesTo == "" }

// Clone returns a copy sharing no memory with r.
func (r QualityRule) Clone() QualityRule {
	r.Values = slices.Clone(r.Values)
	if r.Min != nil {
		v := *r.Min
		r.Min = &v
	}
	if r.Max != nil {
		v := *r.Max
		r.Max = &v
	}
	return r
}

// matchesIDColumns are the columns MatchesID can check.
var matchesIDColumns = []string{"birth_date", "gender"}

// Validate checks the rule for column of type typ, adding problems under
// prefix ("quality_rule.min"). The checks a column's type cannot have are
// refused rather than ignored, so a steward never believes a rule is in force
// that the measurement does not apply.
func (r *QualityRule) Validate(v *kehu.Validation, prefix, column, typ string) {
	r.Values = trimAll(r.Values)
	if r.AppliesTo != "" && r.AppliesTo != "individual" && r.AppliesTo != "corporate" {
		v.Add(prefix+"applies_to", "must be individual, corporate or empty (every row)")
	}
	switch {
	case r.Format == "":
		if len(r.Values) > 0 {
			v.Add(prefix+"values", "apply only to the enum format")
		}
	case !slices.Contains(Formats, r.Format):
		v.Add(prefix+"format", "must be one of "+strings.Join(Formats, ", "))
	case r.Format == "enum" && len(r.Values) == 0:
		v.Add(prefix+"values", "must list the allowed values of an enum")
	case r.Format == "enum" && len(r.Values) > 100:
		v.Add(prefix+"values", "may list at most 100 values")
	case r.Format != "enum" && len(r.Values) > 0:
		v.Add(prefix+"values", "apply only to the enum format")
	}
	numeric := typ == TypeInteger || typ == TypeMoney
	timed := typ == TypeDate || typ == TypeTimestamp
	if (r.Min != nil || r.Max != nil) && !numeric {
		v.Add(prefix+"min", "a numeric range applies only to integer and money fields")
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		v.Add(prefix+"max", "must not be below min")
	}
	if r.MinDate != "" {
		if !timed {
			v.Add(prefix+"min_date", "applies only to date and time fields")
		} else if _, err := kehu.ParseDate(r.MinDate); err != nil {
			v.Add(prefix+"min_date", "must be a date YYYY-MM-DD")
		}
	}
	if r.NotFuture && !timed {
		v.Add(prefix+"not_future", "applies only to date and time fields")
	}
	if r.Reference != "" && !slices.Contains(References, r.Reference) {
		v.Add(prefix+"reference", "must be one of "+strings.Join(References, ", "))
	}
	if r.Reference != "" && typ != TypeID {
		v.Add(prefix+"reference", "applies only to id fields")
	}
	switch {
	case r.FreshDays < 0 || r.FreshDays > 3650:
		v.Add(prefix+"fresh_days", "must be between 0 and 3650 days")
	case r.FreshDays > 0 && !timed:
		v.Add(prefix+"fresh_days", "applies only to date and time fields")
	}
	if r.MatchesID && !slices.Contains(matchesIDColumns, column) {
		v.Add(prefix+"matches_id", fmt.Sprintf("applies only to %s", strings.Join(matchesIDColumns, ", ")))
	}
}

func trimAll(vals []string) []string {
	var out []string
	for _, s := range vals {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// JSON returns the stored form of the rule.
func (r QualityRule) JSON() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic("governance: quality rule does not marshal: " + err.Error()) // plain types only
	}
	return string(b)
}
