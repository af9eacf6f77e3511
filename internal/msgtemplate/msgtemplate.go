// Package msgtemplate holds the personalised message templates of marketing
// and service messages: one per channel (SMS, app push, WeChat template
// message, e-mail), with variables such as the customer's salutation, the
// product, the relationship manager and amounts and dates written the zh-CN
// way. A template naming an unknown variable is refused when it is saved;
// data missing when a message is rendered takes the variable's documented
// fallback or fails that message with a reason. Marketing SMS must carry the
// bank's 【signature】 and the 退订回T opt-out, and their length is counted in
// segments as the carriers bill them. Templates are versioned: a message
// names the version it was rendered from. The package knows no SQL or HTTP.
package msgtemplate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// Channel is a delivery channel of the outbox.
type Channel string

// Channels a template (and a message) can go through.
const (
	SMS    Channel = "sms"
	Push   Channel = "push"
	WeChat Channel = "wechat"
	Email  Channel = "email"
)

// Channels lists every channel in the order the UI presents them.
var Channels = []Channel{SMS, Push, WeChat, Email}

// ValidChannel reports whether c is a known channel.
func ValidChannel(c Channel) bool { return slices.Contains(Channels, c) }

// Purpose says whether a template markets (consent, opt-out and the SMS
// signature rules apply) or serves (a maturity notice the customer needs).
type Purpose string

// Purposes.
const (
	Marketing Purpose = "marketing"
	Notice    Purpose = "service"
)

// Content is what a template (or one message) says. Subject is the e-mail
// subject or the push notification's title; Fields are a WeChat template
// message's keywords (first, keyword1…, remark) and ExternalID the template
// id registered on the WeChat official account.
type Content struct {
	Subject    string  `json:"subject,omitempty"`
	Body       string  `json:"body,omitempty"`
	Fields     []Field `json:"fields,omitempty"`
	ExternalID string  `json:"external_id,omitempty"`
}

// Field is one keyword of a WeChat template message.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Template is a stored template at its current version.
type Template struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Channel   Channel   `json:"channel"`
	Purpose   Purpose   `json:"purpose"`
	Version   int       `json:"version"`
	Content   Content   `json:"content"`
	Note      string    `json:"note,omitempty"`
	CreatedBy int64     `json:"created_by"`
	UpdatedBy int64     `json:"updated_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Variables are the variables the current version uses, in order of
	// first use (computed, never stored).
	Variables []string `json:"variables"`
}

// Version is one saved version of a template; versions are never changed.
type Version struct {
	TemplateID int64     `json:"template_id"`
	Version    int       `json:"version"`
	Purpose    Purpose   `json:"purpose"`
	Content    Content   `json:"content"`
	Note       string    `json:"note,omitempty"`
	CreatedBy  int64     `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// Variable is one name a template may use as {{name}}.
type Variable struct {
	Name string `json:"name"`
	// Label is the Chinese name the editor shows; LabelEN the English one.
	Label   string `json:"label"`
	LabelEN string `json:"label_en"`
	// Fallback is what a message says when the data is missing; Required
	// variables have none and fail the message instead (an offer with no
	// amount must not go out as "¥").
	Fallback string `json:"fallback,omitempty"`
	Required bool   `json:"required"`
	Example  string `json:"example"`
}

// Variables is the catalogue of template variables.
var Variables = []Variable{
	{Name: "customer_name", Label: "客户姓名", LabelEN: "Customer name", Fallback: "客户", Example: "张伟"},
	{Name: "salutation", Label: "称呼（姓氏+先生/女士）", LabelEN: "Salutation (surname + 先生/女士)", Fallback: "客户", Example: "张先生"},
	{Name: "product_name", Label: "产品名称", LabelEN: "Product name", Required: true, Example: "稳盈90天理财"},
	{Name: "rm_name", Label: "客户经理姓名", LabelEN: "RM name", Fallback: "您的客户经理", Example: "李明"},
	{Name: "rm_phone", Label: "客户经理电话", LabelEN: "RM phone", Fallback: "the bank's service hotline (--outbox-hotline)", Example: "0571-88886666"},
	{Name: "amount", Label: "金额（¥1,234.50）", LabelEN: "Amount (¥1,234.50)", Required: true, Example: "¥123,000.00"},
	{Name: "amount_wan", Label: "金额（12.3万）", LabelEN: "Amount in 万 (12.3万)", Required: true, Example: "12.3万"},
	{Name: "date", Label: "日期（2026年12月2日）", LabelEN: "Date (2026年12月2日)", Required: true, Example: "2026年12月2日"},
}

// variable returns the catalogue entry of name.
func variable(name string) (Variable, bool) {
	i := slices.IndexFunc(Variables, func(v Variable) bool { return v.Name == name })
	if i < 0 {
		return Variable{}, false
	}
	return Variables[i], true
}

// Data are the values a message is rendered with. Amount is in fen. The
// outbox fills the customer's name, gender and RM from the customer record
// at send time when the caller left them empty, so they need not be stored
// with the message.
type Data struct {
	CustomerName string     `json:"customer_name,omitempty"`
	Gender       string     `json:"gender,omitempty"`
	ProductName  string     `json:"product_name,omitempty"`
	RMName       string     `json:"rm_name,omitempty"`
	RMPhone      string     `json:"rm_phone,omitempty"`
	Amount       *int64     `json:"amount,omitempty"`
	Date         *kehu.Date `json:"date,omitempty"`
}

// Sample is the data of the editor's preview.
func Sample() Data {
	amt := int64(12_300_000)
	d := kehu.Date{Year: 2026, Month: 12, Day: 2}
	return Data{CustomerName: "张伟", Gender: "M", ProductName: "稳盈90天理财", RMName: "李明",
		RMPhone: "0571-88886666", Amount: &amt, Date: &d}
}

// Options are the bank's settings that templates depend on.
type Options struct {
	// Signature is the SMS signature registered with the carriers, with its
	// brackets (【客户银行】); "" accepts any 【…】 signature.
	Signature string
	// Hotline is the fallback of rm_phone (the bank's service number).
	Hotline string
}

// MaxSMSChars bounds an SMS (carriers refuse longer concatenated messages).
const MaxSMSChars = 500

// token is one piece of a parsed text: literal text or a variable.
type token struct {
	text     string
	variable string
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parse splits s into tokens; {{ name }} is a variable (spaces allowed).
// Errors name the problem and where it is, for the editor.
func parse(s string) ([]token, []string) {
	var out []token
	var errs []string
	for {
		i := strings.Index(s, "{{")
		j := strings.Index(s, "}}")
		if i < 0 {
			if j >= 0 {
				errs = append(errs, "“}}” without an opening “{{”")
			}
			if s != "" {
				out = append(out, token{text: s})
			}
			return out, errs
		}
		if j >= 0 && j < i {
			errs = append(errs, "“}}” without an opening “{{”")
		}
		if i > 0 {
			out = append(out, token{text: s[:i]})
		}
		rest := s[i+2:]
		k := strings.Index(rest, "}}")
		if k < 0 {
			errs = append(errs, fmt.Sprintf("“{{” at “%s” is never closed with “}}”", snippet(s[i:])))
			return out, errs
		}
		name := strings.TrimSpace(rest[:k])
		switch {
		case name == "":
			errs = append(errs, "an empty variable “{{}}”")
		case !nameRE.MatchString(name):
			errs = append(errs, fmt.Sprintf("unknown variable {{%s}}", name))
		default:
			if _, ok := variable(name); !ok {
				errs = append(errs, fmt.Sprintf("unknown variable {{%s}}", name))
			}
		}
		out = append(out, token{variable: name})
		s = rest[k+2:]
	}
}

func snippet(s string) string {
	r := []rune(s)
	if len(r) > 12 {
		return string(r[:12]) + "…"
	}
	return s
}

// texts returns the template texts with the field name each error should
// carry.
func (c Content) texts() (names, values []string) {
	names = []string{"subject", "body"}
	values = []string{c.Subject, c.Body}
	for i, f := range c.Fields {
		names = append(names, fmt.Sprintf("fields[%d].value", i))
		values = append(values, f.Value)
	}
	return names, values
}

// UsedVariables lists the known variables c uses, in order of first use.
func (c Content) UsedVariables() []string {
	out := []string{}
	_, values := c.texts()
	for _, v := range values {
		toks, _ := parse(v)
		for _, t := range toks {
			if _, ok := variable(t.variable); ok && !slices.Contains(out, t.variable) {
				out = append(out, t.variable)
			}
		}
	}
	return out
}

var wechatKeyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// signatureRE is an SMS signature: 2 to 12 characters in 【】.
var signatureRE = regexp.MustCompile(`【[^【】]{2,12}】`)

// Validate checks a template before it is saved: name, channel and purpose,
// the parts the channel needs, every variable known, and for marketing SMS
// the signature, the opt-out and the length. The error is a kehu validation
// error naming each field and problem.
func Validate(name string, ch Channel, p Purpose, c Content, opt Options) error {
	var v kehu.Validation
	if strings.TrimSpace(name) == "" {
		v.Add("name", "is required")
	} else if len([]rune(name)) > 100 {
		v.Add("name", "must be at most 100 characters")
	}
	if !ValidChannel(ch) {
		v.Add("channel", "must be sms, push, wechat or email")
	}
	if p != Marketing && p != Notice {
		v.Add("purpose", "must be marketing or service")
	}
	names, values := c.texts()
	for i, text := range values {
		_, errs := parse(text)
		for _, e := range errs {
			v.Add(names[i], e)
		}
		if len(text) > 20_000 {
			v.Add(names[i], "must be at most 20,000 bytes")
		}
	}
	switch ch {
	case SMS:
		validateSMS(&v, p, c, opt)
	case Push:
		if strings.TrimSpace(c.Body) == "" {
			v.Add("body", "is required")
		}
		if len([]rune(c.Subject)) > 50 {
			v.Add("subject", "a push title must be at most 50 characters")
		}
		noExtras(&v, c, false)
	case Email:
		if strings.TrimSpace(c.Subject) == "" {
			v.Add("subject", "is required for e-mail")
		}
		if strings.ContainsAny(c.Subject, "\r\n") {
			v.Add("subject", "must be one line")
		}
		if strings.TrimSpace(c.Body) == "" {
			v.Add("body", "is required")
		}
		noExtras(&v, c, false)
	case WeChat:
		if strings.TrimSpace(c.ExternalID) == "" {
			v.Add("external_id", "the WeChat template id is required")
		}
		if len(c.Fields) == 0 {
			v.Add("fields", "a WeChat template message needs at least one field (first, keyword1, …, remark)")
		}
		seen := map[string]bool{}
		for i, f := range c.Fields {
			switch {
			case !wechatKeyRE.MatchString(f.Key):
				v.Add(fmt.Sprintf("fields[%d].key", i), "must be a WeChat keyword such as first, keyword1 or remark")
			case seen[f.Key]:
				v.Add(fmt.Sprintf("fields[%d].key", i), "is given twice")
			}
			seen[f.Key] = true
		}
		if c.Subject != "" || c.Body != "" {
			v.Add("body", "a WeChat template message has fields, not a subject or body")
		}
	}
	return v.Err()
}

func noExtras(v *kehu.Validation, c Content, sms bool) {
	if len(c.Fields) > 0 || c.ExternalID != "" {
		v.Add("fields", "only WeChat template messages have fields and a template id")
	}
	if sms && c.Subject != "" {
		v.Add("subject", "an SMS has no subject")
	}
}

func validateSMS(v *kehu.Validation, p Purpose, c Content, opt Options) {
	noExtras(v, c, true)
	body := strings.TrimSpace(c.Body)
	if body == "" {
		v.Add("body", "is required")
		return
	}
	if p == Marketing {
		sig := signatureRE.FindString(body)
		switch {
		case sig == "" || !(strings.HasPrefix(body, sig) || strings.HasSuffix(body, sig)):
			want := opt.Signature
			if want == "" {
				want = "【…】"
			}
			v.Add("body", "a marketing SMS must begin or end with the bank's signature "+want)
		case opt.Signature != "" && sig != opt.Signature:
			v.Add("body", fmt.Sprintf("the signature %s is not the bank's registered signature %s", sig, opt.Signature))
		}
		if !strings.Contains(strings.ToUpper(body), "退订回T") {
			v.Add("body", "a marketing SMS must contain the opt-out text 退订回T")
		}
	}
	// The length is checked on the sample rendering: what a typical message
	// will be.
	if r, err := Render(SMS, c, Sample(), opt); err == nil && r.SMS.Chars > MaxSMSChars {
		v.Add("body", fmt.Sprintf("is %d characters with sample data; an SMS may have at most %d", r.SMS.Chars, MaxSMSChars))
	}
}
