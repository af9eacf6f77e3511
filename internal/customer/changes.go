package customer

import (
	"strconv"

	"kehu/internal/audit"
)

// auditFields lists the recorded fields of a customer with their text form.
// The audit log masks the personal ones (name, mobile, ID number, ...) before
// storing them; this list only decides what counts as a change.
func auditFields(c Customer) []audit.Change {
	owner := ""
	if c.OwnerID != nil {
		owner = strconv.FormatInt(*c.OwnerID, 10)
	}
	birth := ""
	if !c.BirthDate.IsZero() {
		birth = c.BirthDate.String()
	}
	capital := ""
	if c.RegisteredCapital != 0 {
		capital = strconv.FormatInt(c.RegisteredCapital, 10)
	}
	return []audit.Change{
		{Field: "type", New: c.Type}, {Field: "name", New: c.Name}, {Field: "id_type", New: c.IDType},
		{Field: "id_number", New: c.IDNumber}, {Field: "mobile", New: c.Mobile}, {Field: "email", New: c.Email},
		{Field: "gender", New: c.Gender}, {Field: "birth_date", New: birth}, {Field: "address", New: c.Address},
		{Field: "region_code", New: c.RegionCode}, {Field: "org_id", New: strconv.FormatInt(c.OrgID, 10)},
		{Field: "owner_id", New: owner}, {Field: "industry", New: c.Industry},
		{Field: "registered_capital", New: capital}, {Field: "status", New: c.Status},
	}
}

// createdChanges returns the initial values of a new customer (empty fields
// are left out).
func createdChanges(c Customer) []audit.Change {
	var out []audit.Change
	for _, f := range auditFields(c) {
		if f.New != "" {
			out = append(out, f)
		}
	}
	return out
}

// diffChanges returns old → new for every recorded field that differs.
func diffChanges(old, cur Customer) []audit.Change {
	before, after := auditFields(old), auditFields(cur)
	var out []audit.Change
	for i := range after {
		if before[i].New != after[i].New {
			out = append(out, audit.Change{Field: after[i].Field, Old: before[i].New, New: after[i].New})
		}
	}
	return out
}
