package customer

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"kehu/internal/cnid"
	"kehu/internal/kehu"
)

// New is the input to create a customer. Level, AUM and status are absent on
// purpose: they are computed, so a client cannot type them in.
type New struct {
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	IDType    string    `json:"id_type"`
	IDNumber  string    `json:"id_number"`
	Mobile    string    `json:"mobile"`
	Email     string    `json:"email"`
	Gender    string    `json:"gender"`
	BirthDate kehu.Date `json:"birth_date"`
	Address   string    `json:"address"`
	OrgID     int64     `json:"org_id"`
	OwnerID   *int64    `json:"owner_id"`
	Industry  string    `json:"industry"`
	// RegisteredCapital is in fen.
	RegisteredCapital int64 `json:"registered_capital"`
}

// Update is a partial change; nil fields are left as they are.
type Update struct {
	Name              *string    `json:"name"`
	Mobile            *string    `json:"mobile"`
	Email             *string    `json:"email"`
	Address           *string    `json:"address"`
	Gender            *string    `json:"gender"`
	BirthDate         *kehu.Date `json:"birth_date"`
	OrgID             *int64     `json:"org_id"`
	OwnerID           *int64     `json:"owner_id"`
	Industry          *string    `json:"industry"`
	RegisteredCapital *int64     `json:"registered_capital"`
}

const maxNameRunes = 100

// normalise trims the free-text fields and upper-cases identifiers so the same
// person typed twice compares equal.
func (n *New) normalise() {
	n.Type = strings.TrimSpace(n.Type)
	n.Name = strings.TrimSpace(n.Name)
	n.IDType = strings.TrimSpace(n.IDType)
	n.IDNumber = strings.ToUpper(strings.TrimSpace(n.IDNumber))
	n.Mobile = normaliseMobile(n.Mobile)
	n.Email = strings.TrimSpace(n.Email)
	n.Address = strings.TrimSpace(n.Address)
	n.Gender = strings.ToUpper(strings.TrimSpace(n.Gender))
	if n.Type == Corporate && n.IDType == "" {
		n.IDType = USCC
	}
	if n.Type == Individual && n.IDType == "" {
		n.IDType = ResidentID
	}
}

// mobileSeparators are what normaliseMobile strips; built once, since
// building a Replacer costs more than using it (imports call this per row).
var mobileSeparators = strings.NewReplacer(" ", "", "-", "")

// normaliseMobile strips spaces, dashes and the +86 country prefix.
func normaliseMobile(s string) string {
	s = mobileSeparators.Replace(strings.TrimSpace(s))
	if strings.HasPrefix(s, "+86") {
		s = s[3:]
	} else if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	return s
}

// Validate checks n and fills what the identity number implies (birth date
// and gender of a resident ID), so they cannot disagree with it.
func (n *New) Validate() error {
	n.normalise()
	var v kehu.Validation
	switch n.Type {
	case Individual:
		n.validateIndividual(&v)
	case Corporate:
		n.validateCorporate(&v)
	default:
		v.Add("type", "must be individual or corporate")
	}
	validateName(&v, n.Name)
	if n.Mobile != "" {
		if err := cnid.ValidMobile(n.Mobile); err != nil {
			v.Add("mobile", err.Error())
		}
	}
	validateEmail(&v, n.Email)
	if n.OrgID <= 0 {
		v.Add("org_id", "is required")
	}
	if n.RegisteredCapital < 0 {
		v.Add("registered_capital", "must not be negative")
	}
	return v.Err()
}

func (n *New) validateIndividual(v *kehu.Validation) {
	switch n.IDType {
	case ResidentID:
		r, err := cnid.ParseResident(n.IDNumber)
		if err != nil {
			v.Add("id_number", err.Error())
			return
		}
		n.IDNumber = r.Number
		gender := "F"
		if r.Male {
			gender = "M"
		}
		if n.Gender != "" && n.Gender != gender {
			v.Add("gender", "does not match the resident ID number")
		}
		n.Gender = gender
		birth := kehu.DateOf(r.BirthDate)
		if !n.BirthDate.IsZero() && n.BirthDate != birth {
			v.Add("birth_date", "does not match the resident ID number")
		}
		n.BirthDate = birth
	case Passport, HKMacauPermit, TaiwanPermit:
		if l := len(n.IDNumber); l < 5 || l > 20 {
			v.Add("id_number", "must have 5 to 20 characters")
		}
		validateGender(v, n.Gender)
	default:
		v.Add("id_type", "must be resident_id, passport, hk_macau_permit or taiwan_permit for an individual")
	}
}

func (n *New) validateCorporate(v *kehu.Validation) {
	if n.IDType != USCC {
		v.Add("id_type", "must be uscc for a corporate customer")
		return
	}
	if err := cnid.ValidUSCC(n.IDNumber); err != nil {
		v.Add("id_number", err.Error())
	}
	if n.Gender != "" {
		v.Add("gender", "does not apply to a corporate customer")
	}
	if !n.BirthDate.IsZero() {
		v.Add("birth_date", "does not apply to a corporate customer")
	}
}

func validateName(v *kehu.Validation, name string) {
	switch {
	case name == "":
		v.Add("name", "is required")
	case utf8.RuneCountInString(name) > maxNameRunes:
		v.Add("name", "must have at most 100 characters")
	case strings.ContainsAny(name, "<>\x00"):
		v.Add("name", "contains characters that are not allowed")
	}
}

func validateGender(v *kehu.Validation, g string) {
	if g != "" && g != "M" && g != "F" {
		v.Add("gender", "must be M or F")
	}
}

func validateEmail(v *kehu.Validation, e string) {
	if e == "" {
		return
	}
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
		v.Add("email", "is not a valid e-mail address")
	}
}

// apply validates u against the current record c and returns the changed copy.
func (u *Update) apply(c Customer) (Customer, error) {
	var v kehu.Validation
	if u.Name != nil {
		c.Name = strings.TrimSpace(*u.Name)
		validateName(&v, c.Name)
	}
	if u.Mobile != nil {
		c.Mobile = normaliseMobile(*u.Mobile)
		if c.Mobile != "" {
			if err := cnid.ValidMobile(c.Mobile); err != nil {
				v.Add("mobile", err.Error())
			}
		}
	}
	if u.Email != nil {
		c.Email = strings.TrimSpace(*u.Email)
		validateEmail(&v, c.Email)
	}
	if u.Address != nil {
		c.Address = strings.TrimSpace(*u.Address)
	}
	u.applyIdentityBound(&c, &v)
	if u.OrgID != nil {
		if *u.OrgID <= 0 {
			v.Add("org_id", "must be a positive id")
		}
		c.OrgID = *u.OrgID
	}
	if u.OwnerID != nil {
		c.OwnerID = u.OwnerID
	}
	if u.Industry != nil {
		c.Industry = strings.TrimSpace(*u.Industry)
	}
	if u.RegisteredCapital != nil {
		if *u.RegisteredCapital < 0 {
			v.Add("registered_capital", "must not be negative")
		}
		c.RegisteredCapital = *u.RegisteredCapital
	}
	return c, v.Err()
}

// applyIdentityBound changes gender and birth date, which a resident ID number
// fixes: for such customers they can only be corrected with the number itself.
func (u *Update) applyIdentityBound(c *Customer, v *kehu.Validation) {
	bound := c.IDType == ResidentID
	if u.Gender != nil {
		g := strings.ToUpper(strings.TrimSpace(*u.Gender))
		switch {
		case bound && g != c.Gender:
			v.Add("gender", "is fixed by the resident ID number")
		case c.Type == Corporate && g != "":
			v.Add("gender", "does not apply to a corporate customer")
		default:
			validateGender(v, g)
			c.Gender = g
		}
	}
	if u.BirthDate != nil {
		switch {
		case bound && *u.BirthDate != c.BirthDate:
			v.Add("birth_date", "is fixed by the resident ID number")
		case c.Type == Corporate && !u.BirthDate.IsZero():
			v.Add("birth_date", "does not apply to a corporate customer")
		default:
			c.BirthDate = *u.BirthDate
		}
	}
}
