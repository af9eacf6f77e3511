package msgtemplate

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"kehu/internal/kehu"
)

// Rendered is a message ready for a gateway.
type Rendered struct {
	Subject    string  `json:"subject,omitempty"`
	Body       string  `json:"body,omitempty"`
	Fields     []Field `json:"fields,omitempty"`
	ExternalID string  `json:"external_id,omitempty"`
	// SMS is the body's length and segment count (SMS only).
	SMS *SMSLength `json:"sms,omitempty"`
	// Fallbacks names the variables that had no data and took their
	// fallback.
	Fallbacks []string `json:"fallbacks,omitempty"`
}

// MissingError is a render that lacked data for required variables.
type MissingError struct{ Names []string }

func (e *MissingError) Error() string {
	return "no data for " + strings.Join(e.Names, ", ")
}

// Render fills c's variables with d. A variable with no data takes its
// fallback (customer_name and salutation "客户", rm_name "您的客户经理",
// rm_phone the hotline); a required one (product_name, amount, amount_wan,
// date, rm_phone without a hotline) fails with a *MissingError naming them,
// wrapped in a kehu validation error. Unknown variables fail too (a
// template saved through Validate has none).
func Render(ch Channel, c Content, d Data, opt Options) (Rendered, error) {
	r := rendering{d: d, opt: opt}
	out := Rendered{ExternalID: c.ExternalID}
	out.Subject = r.fill(c.Subject)
	out.Body = r.fill(c.Body)
	for _, f := range c.Fields {
		out.Fields = append(out.Fields, Field{Key: f.Key, Value: r.fill(f.Value)})
	}
	if len(r.unknown) > 0 {
		return Rendered{}, kehu.Errorf(kehu.EINVALID, "unknown variable %s", strings.Join(r.unknown, ", "))
	}
	if len(r.missing) > 0 {
		err := &kehu.Error{Code: kehu.EINVALID, Message: "missing data for " + strings.Join(r.missing, ", ")}
		for _, m := range r.missing {
			err.Fields = append(err.Fields, kehu.FieldError{Field: m, Reason: "has no data and no fallback"})
		}
		return Rendered{}, fmt.Errorf("%w: %w", err, &MissingError{Names: r.missing})
	}
	out.Fallbacks = r.fallbacks
	if ch == SMS {
		l := MeasureSMS(out.Body)
		out.SMS = &l
	}
	return out, nil
}

type rendering struct {
	d                           Data
	opt                         Options
	missing, fallbacks, unknown []string
}

func (r *rendering) fill(s string) string {
	if s == "" {
		return ""
	}
	toks, _ := parse(s)
	var b strings.Builder
	for _, t := range toks {
		if t.variable == "" {
			b.WriteString(t.text)
			continue
		}
		b.WriteString(r.value(t.variable))
	}
	return b.String()
}

func (r *rendering) value(name string) string {
	v, ok := variable(name)
	if !ok {
		addOnce(&r.unknown, "{{"+name+"}}")
		return ""
	}
	var s string
	d := r.d
	switch name {
	case "customer_name":
		s = strings.TrimSpace(d.CustomerName)
	case "salutation":
		s = Salutation(d.CustomerName, d.Gender)
	case "product_name":
		s = strings.TrimSpace(d.ProductName)
	case "rm_name":
		s = strings.TrimSpace(d.RMName)
	case "rm_phone":
		s = strings.TrimSpace(d.RMPhone)
		if s == "" && r.opt.Hotline != "" {
			addOnce(&r.fallbacks, name)
			return r.opt.Hotline
		}
		if s == "" {
			addOnce(&r.missing, name)
			return ""
		}
	case "amount":
		if d.Amount != nil {
			s = Money(*d.Amount)
		}
	case "amount_wan":
		if d.Amount != nil {
			s = Wan(*d.Amount)
		}
	case "date":
		if d.Date != nil && !d.Date.IsZero() {
			s = ChineseDate(*d.Date)
		}
	}
	if s != "" {
		return s
	}
	if v.Required {
		addOnce(&r.missing, name)
		return ""
	}
	addOnce(&r.fallbacks, name)
	return v.Fallback
}

func addOnce(list *[]string, s string) {
	for _, x := range *list {
		if x == s {
			return
		}
	}
	*list = append(*list, s)
}

// SMSLength is how the carriers count an SMS.
type SMSLength struct {
	// Chars is the length in the carriers' units: UTF-16 code units for a
	// message with Chinese (UCS-2), GSM characters otherwise (an extension
	// character such as € or [ counts two).
	Chars int `json:"chars"`
	// Segments is how many SMS the message is sent (and billed) as.
	Segments int `json:"segments"`
	// Encoding is "ucs2" or "gsm7".
	Encoding string `json:"encoding"`
	// PerSegment is the capacity of one segment of this message: 70 (or 67
	// when concatenated) for UCS-2, 160 (153) for GSM 7-bit.
	PerSegment int `json:"per_segment"`
}

// MeasureSMS counts s as the carriers do: a message that fits one segment
// holds 70 UCS-2 or 160 GSM characters; a longer one is split into segments
// of 67 or 153 (the rest carries the concatenation header).
func MeasureSMS(s string) SMSLength {
	gsm, n := true, 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			n++
		case strings.ContainsRune(gsmExtended, r):
			n += 2
		default:
			gsm = false
		}
	}
	single, multi, enc := 160, 153, "gsm7"
	if !gsm {
		n = len(utf16.Encode([]rune(s)))
		single, multi, enc = 70, 67, "ucs2"
	}
	l := SMSLength{Chars: n, Encoding: enc, PerSegment: single, Segments: 1}
	if n > single {
		l.PerSegment = multi
		l.Segments = (n + multi - 1) / multi
	}
	return l
}

// The GSM 03.38 default alphabet and its extension table.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)
