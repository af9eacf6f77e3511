package httpapi

import (
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// customerJSON is a customer as the API shows it. It is spelled out here, not
// borrowed from customer.Customer, so adding a domain field never silently
// changes the published contract. Members that do not apply or are unknown
// are null rather than absent, so every object has the same shape.
type customerJSON struct {
	ID                int64      `json:"id"`
	Type              string     `json:"type"`
	Name              string     `json:"name"`
	IDType            string     `json:"id_type"`
	IDNumber          string     `json:"id_number"`
	Mobile            *string    `json:"mobile"`
	Email             *string    `json:"email"`
	Gender            *string    `json:"gender"`
	BirthDate         kehu.Date  `json:"birth_date"`
	Address           *string    `json:"address"`
	RegionCode        *string    `json:"region_code"`
	OrgID             int64      `json:"org_id"`
	OwnerID           *int64     `json:"owner_id"`
	Level             string     `json:"level"`
	AUM               int64      `json:"aum"`
	RiskLevel         *int       `json:"risk_level"`
	RiskAssessedAt    *time.Time `json:"risk_assessed_at"`
	Industry          *string    `json:"industry"`
	RegisteredCapital *int64     `json:"registered_capital"`
	Status            string     `json:"status"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	// Masked names the members shown masked for the caller; [] when none.
	Masked []string `json:"masked"`
	// MergedInto is the survivor of a merged customer (a tombstone); null
	// for every other customer.
	MergedInto *int64 `json:"merged_into"`
}

func customerView(c customer.Customer) customerJSON {
	v := customerJSON{ID: c.ID, Type: c.Type, Name: c.Name, IDType: c.IDType, IDNumber: c.IDNumber,
		Mobile: optional(c.Mobile), Email: optional(c.Email), Gender: optional(c.Gender), BirthDate: c.BirthDate,
		Address: optional(c.Address), RegionCode: optional(c.RegionCode), OrgID: c.OrgID, OwnerID: c.OwnerID,
		Level: c.Level, AUM: c.AUM, RiskAssessedAt: c.RiskAssessedAt, Industry: optional(c.Industry),
		Status: c.Status, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Masked: c.Masked}
	if v.Masked == nil {
		v.Masked = []string{}
	}
	if c.RiskLevel != 0 {
		v.RiskLevel = &c.RiskLevel
	}
	if c.MergedInto != 0 {
		v.MergedInto = &c.MergedInto
	}
	if c.Type == customer.Corporate {
		v.RegisteredCapital = &c.RegisteredCapital
	}
	if v.RiskAssessedAt != nil {
		t := v.RiskAssessedAt.UTC()
		v.RiskAssessedAt = &t
	}
	return v
}

// optional maps the domain's "" (unknown) to JSON null.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// customerCreate is the body of POST /api/v1/customers. Level, AUM and
// status are absent on purpose: they are computed, so they are unknown fields.
type customerCreate struct {
	Type              string    `json:"type"`
	Name              string    `json:"name"`
	IDType            string    `json:"id_type"`
	IDNumber          string    `json:"id_number"`
	Mobile            string    `json:"mobile"`
	Email             string    `json:"email"`
	Gender            string    `json:"gender"`
	BirthDate         *jsonDate `json:"birth_date"`
	Address           string    `json:"address"`
	OrgID             int64     `json:"org_id"`
	OwnerID           *int64    `json:"owner_id"`
	Industry          string    `json:"industry"`
	RegisteredCapital int64     `json:"registered_capital"`
}

func (in customerCreate) domain() customer.New {
	n := customer.New{Type: in.Type, Name: in.Name, IDType: in.IDType, IDNumber: in.IDNumber, Mobile: in.Mobile,
		Email: in.Email, Gender: in.Gender, Address: in.Address, OrgID: in.OrgID, OwnerID: in.OwnerID,
		Industry: in.Industry, RegisteredCapital: in.RegisteredCapital}
	if in.BirthDate != nil {
		n.BirthDate = kehu.Date(*in.BirthDate)
	}
	return n
}

// customerPatch is the body of PATCH /api/v1/customers/{id}: members present
// are changed, absent or null ones are kept. Send "" to clear a text member.
type customerPatch struct {
	Name              *string   `json:"name"`
	Mobile            *string   `json:"mobile"`
	Email             *string   `json:"email"`
	Address           *string   `json:"address"`
	Gender            *string   `json:"gender"`
	BirthDate         *jsonDate `json:"birth_date"`
	OrgID             *int64    `json:"org_id"`
	OwnerID           *int64    `json:"owner_id"`
	Industry          *string   `json:"industry"`
	RegisteredCapital *int64    `json:"registered_capital"`
}

func (in customerPatch) domain() customer.Update {
	u := customer.Update{Name: in.Name, Mobile: in.Mobile, Email: in.Email, Address: in.Address,
		Gender: in.Gender, OrgID: in.OrgID, OwnerID: in.OwnerID, Industry: in.Industry,
		RegisteredCapital: in.RegisteredCapital}
	if in.BirthDate != nil {
		d := kehu.Date(*in.BirthDate)
		u.BirthDate = &d
	}
	return u
}
