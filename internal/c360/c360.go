// Package c360 assembles the customer 360 view: the profile as the viewer may
// see it, level and reasons, AUM and its twelve-month trend, accounts and
// holdings by product type, filtered transactions, relationships named from
// the customer's side, the channel timeline, interactions and the products in
// their quiet period, tags, contact preferences and consents, and the risk
// assessment with its expiry. It reads through the owning modules' services
// and writes exactly one audit record per view (customer.Service.Get's).
package c360

import (
	"encoding/json"
	"time"

	"kehu/internal/account"
	"kehu/internal/contact"
	"kehu/internal/customer"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
	"kehu/internal/tag"
)

// View is the whole 360 of one customer.
type View struct {
	Profile       customer.Customer         `json:"profile"`
	Level         Level                     `json:"level"`
	AUM           AUM                       `json:"aum"`
	Accounts      []AccountGroup            `json:"accounts"`
	Holdings      []HoldingGroup            `json:"holdings"`
	Transactions  TxnPage                   `json:"transactions"`
	Relationships []Relationship            `json:"relationships"`
	Events        []Event                   `json:"events"`
	Interactions  []interaction.Interaction `json:"interactions"`
	QuietProducts []interaction.Quiet       `json:"quiet_products"`
	Tags          []tag.CustomerTag         `json:"tags"`
	Preferences   Preferences               `json:"preferences"`
	Risk          Risk                      `json:"risk"`
	Owners        Owners                    `json:"owners"`
	KPIs          KPIs                      `json:"kpis"`
	// Merged is set when the customer is a merged tombstone (merged.go).
	Merged *Merged `json:"merged"`
	// AccountNoMasked tells a page the account numbers are masked for the
	// viewer (it may offer 显示). Not part of the API body.
	AccountNoMasked bool `json:"-"`
}

// Level is the customer's level and why. Until the versioned level rule
// answers, Source is "stored": the level on the customer record with its AUM
// as the reason.
type Level struct {
	Code        string     `json:"code"`
	RuleVersion int        `json:"rule_version"`
	ComputedAt  *time.Time `json:"computed_at"`
	Source      string     `json:"source"`
	Reasons     []Reason   `json:"reasons"`
}

// Reason is one reason for the level in both languages.
type Reason struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// AUM is assets under management (deposits plus investments, fen) now, its
// parts, and the month-end trend.
type AUM struct {
	Total    int64 `json:"total"`
	Deposits int64 `json:"deposits"`
	// Investments are wealth products, funds and insurance at market value.
	Investments int64 `json:"investments"`
	// Loans is the outstanding loan principal (positive), not part of AUM.
	Loans int64        `json:"loans"`
	Trend []MonthlyAUM `json:"trend"`
}

// MonthlyAUM is the AUM at the end of a month (Shanghai); the current month's
// point is today's value.
type MonthlyAUM struct {
	Month string `json:"month"` // YYYY-MM
	AUM   int64  `json:"aum"`
}

// AccountGroup is the accounts of one product type.
type AccountGroup struct {
	Type     string            `json:"type"`
	Total    int64             `json:"total"`
	Accounts []account.Account `json:"accounts"`
}

// HoldingGroup is the holdings of one product type.
type HoldingGroup struct {
	Type     string            `json:"type"`
	Total    int64             `json:"total"`
	Holdings []account.Holding `json:"holdings"`
}

// TxnPage is a page of transactions, newest first.
type TxnPage struct {
	Items      []account.Transaction `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty"`
}

// Relationship is a link to another customer, Relation naming what the other
// customer is to this one ("child" when this customer is the parent).
type Relationship struct {
	account.Relationship
	Relation string `json:"relation"`
}

// Event is one channel event of the customer's timeline.
type Event struct {
	ID            int64           `json:"id"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Channel       string          `json:"channel"`
	Kind          string          `json:"kind"`
	ProductCode   string          `json:"product_code"`
	ProductName   string          `json:"product_name"`
	ProductNameEN string          `json:"product_name_en"`
	Detail        json.RawMessage `json:"detail"`
}

// Preferences are how the customer likes to be contacted and what they
// consented to.
type Preferences struct {
	contact.Preferences
	Consents []privacy.Consent `json:"consents"`
}

// Risk is the customer's risk-tolerance assessment (C1–C5). An individual
// assessment is valid for a year (the suitability rules of wealth sales);
// an expired one must be redone before selling risk products.
type Risk struct {
	Level      int        `json:"level"`
	AssessedAt *time.Time `json:"assessed_at"`
	ExpiresOn  *kehu.Date `json:"expires_on"`
	Expired    bool       `json:"expired"`
	// ExpiringSoon: within RiskWarnDays of expiry.
	ExpiringSoon bool `json:"expiring_soon"`
}

// RiskValidity is how long an assessment holds; RiskWarnDays is when the page
// starts warning.
const (
	RiskValidityYears = 1
	RiskWarnDays      = 30
)

// Staff names a bank employee.
type Staff struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Owners are the relationship managers looking after the customer.
type Owners struct {
	Primary     *Staff  `json:"primary"`
	Secondaries []Staff `json:"secondaries"`
}

// KPIs are the overview figures.
type KPIs struct {
	CardSpend30d      int64      `json:"card_spend_30d"`
	CardSpends30d     int        `json:"card_spends_30d"`
	CardLimit         int64      `json:"card_limit"`
	Transactions30d   int        `json:"transactions_30d"`
	LastContactAt     *time.Time `json:"last_contact_at"`
	LastTransactionAt *time.Time `json:"last_transaction_at"`
}
