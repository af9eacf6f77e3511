// Package account is the read side of what a customer holds with the bank:
// accounts, product holdings, recent transactions, relationships to other
// customers and tags. It answers the customer page; writes arrive through the
// core-banking feeds of later issues.
package account

import (
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Product types, as stored in products.type.
const (
	CurrentDeposit = "current_deposit"
	TimeDeposit    = "time_deposit"
	Wealth         = "wealth"
	Fund           = "fund"
	Insurance      = "insurance"
	Loan           = "loan"
	CreditCard     = "credit_card"
)

// ProductTypes lists every product type, in the order the UI groups them.
var ProductTypes = []string{CurrentDeposit, TimeDeposit, Wealth, Fund, Insurance, Loan, CreditCard}

// Account is one account of a customer with the product it is opened on.
// Money is in fen.
type Account struct {
	ID            int64     `json:"id"`
	AccountNo     string    `json:"account_no"`
	ProductID     int64     `json:"product_id"`
	ProductName   string    `json:"product_name"`
	ProductNameEN string    `json:"product_name_en"`
	ProductType   string    `json:"product_type"`
	Currency      string    `json:"currency"`
	Balance       int64     `json:"balance"`
	CreditLimit   int64     `json:"credit_limit"`
	Status        string    `json:"status"`
	OrgID         int64     `json:"org_id"`
	OpenedOn      kehu.Date `json:"opened_on"`
	MaturesOn     kehu.Date `json:"matures_on"`
}

// Holding is a position in a wealth, fund or insurance product. RiskLevel is
// the product's R1–R5 rating (0 when not rated), which suitability compares
// with the customer's C1–C5 assessment.
type Holding struct {
	ID            int64     `json:"id"`
	AccountID     int64     `json:"account_id"`
	AccountNo     string    `json:"account_no"`
	ProductCode   string    `json:"product_code"`
	ProductName   string    `json:"product_name"`
	ProductNameEN string    `json:"product_name_en"`
	ProductType   string    `json:"product_type"`
	RiskLevel     int       `json:"risk_level"`
	Amount        int64     `json:"amount"`
	Cost          int64     `json:"cost"`
	AcquiredOn    kehu.Date `json:"acquired_on"`
	MaturesOn     kehu.Date `json:"matures_on"`
}

// Gain is the unrealised gain (negative: loss) in fen.
func (h Holding) Gain() int64 { return h.Amount - h.Cost }

// Transaction is one posting on an account; Amount is signed (inflow
// positive) in fen.
type Transaction struct {
	ID           int64     `json:"id"`
	AccountID    int64     `json:"account_id"`
	AccountNo    string    `json:"account_no"`
	OccurredAt   time.Time `json:"occurred_at"`
	Amount       int64     `json:"amount"`
	BalanceAfter int64     `json:"balance_after"`
	Kind         string    `json:"kind"`
	Channel      string    `json:"channel"`
	Counterparty string    `json:"counterparty"`
	Description  string    `json:"description"`
}

// Relationship directions, seen from the customer being viewed. A stored row
// (from A, to B, kind K) reads "A is B's K": (father, child, parent),
// (person, company, legal_representative), (person, company, shareholder).
const (
	Outgoing = "out" // this customer is the related customer's Kind
	Incoming = "in"  // the related customer is this customer's Kind
)

// Relationship links the viewed customer to another customer.
type Relationship struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	Direction  string `json:"direction"`
	CustomerID int64  `json:"customer_id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	ShareBP    int    `json:"share_bp"`
	// Visible reports whether the actor may open the related customer; the
	// page links only those, so a link never leads to "not found".
	Visible bool `json:"visible"`
}

// Tag is a label on a customer that has not expired.
type Tag struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Color  string `json:"color"`
	Reason string `json:"reason"`
}

// Summary is everything the customer page shows besides the profile itself.
type Summary struct {
	Customer      customer.Customer `json:"customer"`
	OwnerName     string            `json:"owner_name"`
	Accounts      []Account         `json:"accounts"`
	Holdings      []Holding         `json:"holdings"`
	Transactions  []Transaction     `json:"transactions"`
	Relationships []Relationship    `json:"relationships"`
	Tags          []Tag             `json:"tags"`
	// AccountNoMasked tells a page that the account numbers are masked for
	// the actor (UnmaskAccountNo can reveal one). Not part of the API body.
	AccountNoMasked bool `json:"-"`
}
