// Package tag labels customers: manual tags staff put on, emotion tags
// (满意 / 不满意) that carry a reason and expire, and computed tags the bank's
// data earns (高净值, 代发工资, 沉睡客户, …) under rules kept in the catalogue.
// It knows no HTTP or SQL.
package tag

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/kehu"
)

// Tag kinds.
const (
	Manual   = "manual"
	Emotion  = "emotion"
	Computed = "computed"
)

// Kinds lists the tag kinds.
var Kinds = []string{Manual, Emotion, Computed}

// Emotion polarities: the UI colours a negative emotion tag red wherever the
// customer is shown, so the next colleague knows to tread carefully.
const (
	Positive = "positive"
	Negative = "negative"
)

// Colors are the chip colours the UI knows.
var Colors = []string{"red", "orange", "amber", "green", "teal", "blue", "purple", "grey"}

// Limits of the catalogue and of customer tags.
const (
	MaxName        = 20  // characters of the Chinese label
	MaxLabelEN     = 40  // characters of the English label
	MaxDescription = 200 // characters
	MinReason      = 2
	MaxReason      = 200
	// DefaultEmotionDays is how long an emotion tag lasts when its catalogue
	// entry names no expiry: a customer's mood of three months ago should not
	// colour today's conversation.
	DefaultEmotionDays = 90
	// MaxExpiryDays bounds any expiry staff choose.
	MaxExpiryDays = 365
)

// Tag is one catalogue entry.
type Tag struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	LabelEN     string `json:"label_en"`
	Kind        string `json:"kind"`
	Color       string `json:"color"`
	Description string `json:"description"`
	// Polarity and DefaultExpiryDays apply to emotion tags.
	Polarity          string `json:"polarity"`
	DefaultExpiryDays int    `json:"default_expiry_days"`
	Rule              *Rule  `json:"rule"`
	// ReasonRequired: putting the tag on needs a reason (2–200
	// characters). Always true for emotion tags; a manual tag may ask for
	// one (黑名单: say why); computed tags explain themselves.
	ReasonRequired bool      `json:"reason_required"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Label returns the tag's label in lang ("en" or Chinese).
func (t Tag) Label(lang string) string {
	if lang == "en" && t.LabelEN != "" {
		return t.LabelEN
	}
	return t.Name
}

// CustomerTag is a tag on a customer: who put it on, when, why, until when.
// A computed tag's reason is the rule's explanation and CreatedBy is nil.
type CustomerTag struct {
	Tag           Tag        `json:"tag"`
	Reason        string     `json:"reason"`
	CreatedBy     *int64     `json:"created_by"`
	CreatedByName string     `json:"created_by_name"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
}

// NewTag is a catalogue entry to create.
type NewTag struct {
	Name              string
	LabelEN           string
	Kind              string
	Color             string
	Description       string
	Polarity          string
	DefaultExpiryDays int
	Rule              *Rule
	ReasonRequired    bool
}

// Update changes a catalogue entry; nil members are kept. The kind cannot
// change: customers carry the tag under the meaning it had.
type Update struct {
	Name              *string
	LabelEN           *string
	Color             *string
	Description       *string
	Polarity          *string
	DefaultExpiryDays *int
	Rule              *Rule
	ReasonRequired    *bool
	Active            *bool
}

// Assign puts a tag on a customer. ExpiresOn (a Shanghai date, the tag's last
// day) is optional; an emotion tag without one gets its default expiry.
type Assign struct {
	TagID     int64
	Reason    string
	ExpiresOn *kehu.Date
}

// validate checks t as it will be stored; field names are the API's.
func (t *Tag) validate() error {
	var v kehu.Validation
	t.Name, t.LabelEN, t.Description = strings.TrimSpace(t.Name), strings.TrimSpace(t.LabelEN), strings.TrimSpace(t.Description)
	checkLen(&v, "name", t.Name, 1, MaxName)
	checkLen(&v, "label_en", t.LabelEN, 0, MaxLabelEN)
	checkLen(&v, "description", t.Description, 0, MaxDescription)
	if !slices.Contains(Kinds, t.Kind) {
		v.Add("kind", "must be one of manual, emotion, computed")
	}
	if t.Color != "" && !slices.Contains(Colors, t.Color) {
		v.Add("color", "must be one of "+strings.Join(Colors, ", "))
	}
	switch t.Kind {
	case Emotion:
		t.ReasonRequired = true
	case Computed:
		if t.ReasonRequired {
			v.Add("reason_required", "computed tags explain themselves: no reason is asked")
		}
	}
	switch t.Kind {
	case Emotion:
		if t.Polarity != Positive && t.Polarity != Negative {
			v.Add("polarity", "an emotion tag must be positive or negative")
		}
		if t.DefaultExpiryDays < 1 || t.DefaultExpiryDays > MaxExpiryDays {
			v.Add("default_expiry_days", "must be between 1 and "+strconv.Itoa(MaxExpiryDays))
		}
	default:
		if t.Polarity != "" {
			v.Add("polarity", "only emotion tags have a polarity")
		}
		if t.DefaultExpiryDays < 0 || t.DefaultExpiryDays > MaxExpiryDays {
			v.Add("default_expiry_days", "must be between 0 and "+strconv.Itoa(MaxExpiryDays))
		}
	}
	switch {
	case t.Kind == Computed && t.Rule == nil:
		v.Add("rule", "a computed tag needs a rule")
	case t.Kind == Computed:
		t.Rule.validate(&v)
	case t.Rule != nil:
		v.Add("rule", "only computed tags have a rule")
	}
	return v.Err()
}

func checkLen(v *kehu.Validation, field, s string, lo, hi int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n < lo && lo == 1:
		v.Add(field, "is required")
	case n < lo || n > hi:
		v.Add(field, "must have "+strconv.Itoa(lo)+"–"+strconv.Itoa(hi)+" characters")
	}
}

// encodeRule is the stored form of a rule ("" for none).
func encodeRule(r *Rule) string {
	if r == nil {
		return ""
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// DecodeRule parses a stored rule; "" is no rule.
func DecodeRule(s string) (*Rule, error) {
	if s == "" {
		return nil, nil
	}
	var r Rule
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// EncodeRule returns the stored form of a rule, for the store.
func EncodeRule(r *Rule) string { return encodeRule(r) }
