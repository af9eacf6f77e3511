// Package suitability decides whether a product may be offered to a customer
// under the investor-suitability rule (适当性): a product of a governed type
// (wealth management, funds, insurance) is offered only to a customer whose
// risk assessment is still valid and whose risk tolerance C1–C5 covers the
// product's risk rating R1–R5 (C_n covers R_1..R_n). The rule is a pure
// function (Check) so the 360 page, the API and the contact policy's bulk
// decisions share it; Service adds the reads, scope and audit. It knows no
// HTTP or SQL.
//
// Sources (docs/POLICY.md): 《证券期货投资者适当性管理办法》 (CSRC Order 130,
// 2016) Arts. 18–19 — products are sold only to investors whose assessed
// risk tolerance matches the product's rating; 《商业银行理财业务监督管理办法》
// (CBIRC Order 2018 No. 6) Art. 26 — a bank assesses the investor's risk
// tolerance before a sale and sells wealth products only at or below the
// assessed grade; bank practice (and the risk questionnaires of major banks)
// treats an assessment as valid for one year, after which the customer must
// be re-assessed before a further sale. Kehu takes one year (12 months) as
// the default validity, configurable in the contact policy settings.
package suitability

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// GovernedTypes are the product types the rule governs (products.type).
// Deposits, loans and credit cards carry no investment risk rating.
var GovernedTypes = []string{"wealth", "fund", "insurance"}

// Governed reports whether products of type typ fall under the rule.
func Governed(typ string) bool { return slices.Contains(GovernedTypes, typ) }

// DefaultValidityMonths is how long a risk assessment holds unless the
// policy settings say otherwise (the c360 page's c360.RiskValidityYears).
const DefaultValidityMonths = 12

// Result codes, stable: the API, the contact policy's reason codes and the
// UI catalogue use them.
const (
	OK                = "suitable"           // governed, assessment valid and covering
	NotGoverned       = "not_governed"       // not a wealth, fund or insurance product
	AssessmentMissing = "assessment_missing" // never assessed: re-assessment needed
	AssessmentExpired = "assessment_expired" // assessed, validity over: re-assessment needed
	RiskTooHigh       = "risk_too_high"      // product rating above the customer's tolerance
	ProductNotRated   = "product_not_rated"  // a governed product without a rating cannot be sold
)

// Assessment is a customer's risk assessment: Level 1–5 (C1–C5), 0 when
// never assessed.
type Assessment struct {
	Level      int        `json:"level"`
	AssessedAt *time.Time `json:"assessed_at"`
}

// Product is what the rule needs to know of a product.
type Product struct {
	ID        int64  `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	Type      string `json:"type"`
	RiskLevel int    `json:"risk_level"`
}

// Validity is the assessment validity in months (0: the default).
type Validity int

// Months returns v, or DefaultValidityMonths when unset.
func (v Validity) Months() int {
	if v <= 0 {
		return DefaultValidityMonths
	}
	return int(v)
}

// ExpiresOn returns the Shanghai calendar date on which assessment a stops
// being valid: the assessment date plus the validity. It is the zero Date
// when a was never made.
func (v Validity) ExpiresOn(a Assessment, loc *time.Location) kehu.Date {
	if a.AssessedAt == nil || a.Level <= 0 {
		return kehu.Date{}
	}
	d := a.AssessedAt.In(loc)
	return kehu.DateOf(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, v.Months(), 0))
}

// Valid reports whether a holds at instant at: made, and at's Shanghai date
// is before its expiry date.
func (v Validity) Valid(a Assessment, at time.Time, loc *time.Location) bool {
	exp := v.ExpiresOn(a, loc)
	return !exp.IsZero() && kehu.DateOf(at.In(loc)).Time().Before(exp.Time())
}

// Result is the rule's answer for one customer and product.
type Result struct {
	Product Product `json:"product"`
	// Suitable: the product may be offered (true for ungoverned products).
	Suitable bool `json:"suitable"`
	// Code is OK, NotGoverned or the reason it may not be offered.
	Code string `json:"code"`
	// CustomerLevel and ProductLevel are the compared grades.
	CustomerLevel int `json:"customer_level"`
	ProductLevel  int `json:"product_level"`
	// ExpiresOn is the assessment's expiry date (for an expired one, the
	// date it expired); nil when never assessed.
	ExpiresOn *kehu.Date `json:"expires_on"`
	// Reassess: the customer must be re-assessed before this offer.
	Reassess bool `json:"reassess"`
	// ZH and EN word the result for people.
	ZH string `json:"reason_zh"`
	EN string `json:"reason_en"`
}

// Check applies the rule to assessment a and product p at instant at, with
// validity v and the bank's zone loc (Asia/Shanghai). Order: ungoverned
// products pass; a governed product must be rated; the assessment must
// exist and be valid; its level must cover the rating.
func Check(a Assessment, p Product, at time.Time, v Validity, loc *time.Location) Result {
	r := Evaluate(a, p, at, v, loc)
	r.ZH, r.EN = r.Text("zh-CN"), r.Text("en")
	return r
}

// Evaluate is Check without the wording (ZH and EN empty), for the contact
// policy's bulk decisions: a million sentences nobody reads.
func Evaluate(a Assessment, p Product, at time.Time, v Validity, loc *time.Location) Result {
	r := Result{Product: p, CustomerLevel: a.Level, ProductLevel: p.RiskLevel}
	if exp := v.ExpiresOn(a, loc); !exp.IsZero() {
		r.ExpiresOn = &exp
	}
	switch {
	case !Governed(p.Type):
		r.Suitable, r.Code = true, NotGoverned
	case p.RiskLevel <= 0:
		r.Code = ProductNotRated
	case a.Level <= 0 || a.AssessedAt == nil:
		r.Code, r.Reassess = AssessmentMissing, true
	case !v.Valid(a, at, loc):
		r.Code, r.Reassess = AssessmentExpired, true
	case a.Level < p.RiskLevel:
		r.Code = RiskTooHigh
	default:
		r.Suitable, r.Code = true, OK
	}
	return r
}

// Text words the result in lang ("zh-CN" or "en").
func (r Result) Text(lang string) string {
	en := strings.HasPrefix(lang, "en")
	c, p := "C"+strconv.Itoa(r.CustomerLevel), "R"+strconv.Itoa(r.ProductLevel)
	exp := ""
	if r.ExpiresOn != nil {
		exp = r.ExpiresOn.String()
	}
	switch r.Code {
	case NotGoverned:
		if en {
			return "Not a wealth, fund or insurance product: suitability does not apply"
		}
		return "非理财、基金、保险产品，不适用适当性管理"
	case ProductNotRated:
		if en {
			return "The product has no risk rating and cannot be offered"
		}
		return "产品未评定风险等级，不得销售"
	case AssessmentMissing:
		if en {
			return "No risk assessment: re-assessment needed"
		}
		return "客户未做风险评估，需重新评估"
	case AssessmentExpired:
		if en {
			return "Risk assessment expired on " + exp + ": re-assessment needed"
		}
		return "风险评估已于" + exp + "过期，需重新评估"
	case RiskTooHigh:
		if en {
			return "Product risk " + p + " exceeds the customer's tolerance " + c
		}
		return "产品风险等级" + p + "高于客户风险承受能力" + c
	case OK:
		if en {
			return "Customer " + c + " covers product " + p + " (assessment expires on " + exp + ")"
		}
		return "客户风险承受能力" + c + "覆盖产品风险等级" + p + "（评估" + exp + "到期）"
	}
	return r.Code
}
