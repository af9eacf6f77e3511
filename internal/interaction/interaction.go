// Package interaction records the bank's contacts with a customer — a branch
// conversation, a call, a WeChat message — with the products discussed and
// how the customer responded, so the next colleague sees it and a product the
// customer declined is not pitched again inside the quiet period. It knows no
// HTTP or SQL.
package interaction

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/kehu"
)

// Channels an interaction happened on.
var Channels = []string{"branch", "phone", "app", "wechat", "sms", "email", "visit"}

// Purposes of a contact.
var Purposes = []string{"marketing", "service", "care", "complaint", "review", "other"}

// Customer responses to the products discussed.
const (
	Interested = "interested"
	Declined   = "declined"
	Bought     = "bought"
	FollowUp   = "follow_up"
)

// Responses lists the responses; an interaction without products (a service
// call) may have none.
var Responses = []string{Interested, Declined, Bought, FollowUp}

// MaxNote bounds the free-text note, in characters; MaxProducts the products
// one contact may name.
const (
	MaxNote     = 1000
	MaxProducts = 20
)

// Product is a product named in an interaction.
type Product struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	Type   string `json:"type"`
}

// Interaction is one recorded contact.
type Interaction struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer_id"`
	UserID     int64     `json:"user_id"`
	UserName   string    `json:"user_name"`
	OccurredAt time.Time `json:"occurred_at"`
	Channel    string    `json:"channel"`
	Purpose    string    `json:"purpose"`
	Products   []Product `json:"products"`
	Response   string    `json:"response"`
	Note       string    `json:"note"`
}

// New is what an employee records. Products are product codes or numeric
// ids, as the caller knows them.
type New struct {
	Channel  string
	Purpose  string
	Products []string
	Response string
	Note     string
}

// Validate checks n, naming every bad field at once.
func (n *New) Validate() error {
	var v kehu.Validation
	n.Note = strings.TrimSpace(n.Note)
	switch {
	case n.Channel == "":
		v.Add("channel", "is required")
	case !slices.Contains(Channels, n.Channel):
		v.Add("channel", "must be one of "+strings.Join(Channels, ", "))
	}
	switch {
	case n.Purpose == "":
		v.Add("purpose", "is required")
	case !slices.Contains(Purposes, n.Purpose):
		v.Add("purpose", "must be one of "+strings.Join(Purposes, ", "))
	}
	if n.Response != "" && !slices.Contains(Responses, n.Response) {
		v.Add("response", "must be one of "+strings.Join(Responses, ", "))
	}
	// Interested, declined and bought are answers about products: without
	// one the record could not keep the product out of the next pitch.
	if len(n.Products) == 0 && (n.Response == Interested || n.Response == Declined || n.Response == Bought) {
		v.Add("products", "name the products the customer "+strings.ReplaceAll(n.Response, "_", " ")+" (or leave response empty)")
	}
	if len(n.Products) > MaxProducts {
		v.Add("products", "at most "+strconv.Itoa(MaxProducts)+" products")
	}
	for i, p := range n.Products {
		if strings.TrimSpace(p) == "" {
			v.Add("products["+strconv.Itoa(i)+"]", "is empty")
		}
	}
	if utf8.RuneCountInString(n.Note) > MaxNote {
		v.Add("note", "must have at most "+strconv.Itoa(MaxNote)+" characters")
	}
	return v.Err()
}

// Quiet is a product not to be pitched to a customer again until Until (a
// Shanghai calendar date, inclusive), because they declined it on
// DeclinedAt.
type Quiet struct {
	Product    Product   `json:"product"`
	DeclinedAt time.Time `json:"declined_at"`
	Until      kehu.Date `json:"until"`
}

// Page is one page of a customer's interactions, newest first.
type Page struct {
	Items      []Interaction
	NextCursor kehu.Cursor
}
