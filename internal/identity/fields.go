package identity

import (
	"strconv"
	"time"

	"kehu/internal/customer"
)

// fieldText is a field's value as one comparable string: what is
// fingerprinted and compared. "" means the field has no value.
func fieldText(c customer.Customer, field string) string {
	switch field {
	case FieldName:
		return c.Name
	case FieldIdentity:
		if c.IDNumber == "" {
			return ""
		}
		return c.IDType + "|" + c.IDNumber
	case FieldGender:
		return c.Gender
	case FieldBirthDate:
		return c.BirthDate.String()
	case FieldMobile:
		return c.Mobile
	case FieldEmail:
		return c.Email
	case FieldAddress:
		return c.Address
	case FieldOrg:
		if c.OrgID == 0 {
			return ""
		}
		return strconv.FormatInt(c.OrgID, 10)
	case FieldOwner:
		if c.OwnerID == nil {
			return ""
		}
		return strconv.FormatInt(*c.OwnerID, 10)
	case FieldRisk:
		if c.RiskLevel == 0 {
			return ""
		}
		s := strconv.Itoa(c.RiskLevel)
		if c.RiskAssessedAt != nil {
			s += "|" + c.RiskAssessedAt.UTC().Format(time.RFC3339)
		}
		return s
	case FieldIndustry:
		return c.Industry
	case FieldRegisteredCapital:
		if c.RegisteredCapital == 0 {
			return ""
		}
		return strconv.FormatInt(c.RegisteredCapital, 10)
	}
	return ""
}

// setField copies field from src into dst (and the sealed form with it).
func setField(dst *customer.Customer, ds *Sealed, src customer.Customer, ss Sealed, field string) {
	switch field {
	case FieldName:
		dst.Name = src.Name
	case FieldIdentity:
		dst.IDType, dst.IDNumber = src.IDType, src.IDNumber
		ds.IDNumber, ds.IDNumberIndex = ss.IDNumber, ss.IDNumberIndex
		dst.RegionCode = regionOf(*dst)
	case FieldGender:
		dst.Gender = src.Gender
	case FieldBirthDate:
		dst.BirthDate = src.BirthDate
	case FieldMobile:
		dst.Mobile = src.Mobile
		ds.Mobile, ds.MobileIndex = ss.Mobile, ss.MobileIndex
	case FieldEmail:
		dst.Email = src.Email
		ds.Email = ss.Email
	case FieldAddress:
		dst.Address = src.Address
		ds.Address = ss.Address
	case FieldOrg:
		dst.OrgID = src.OrgID
	case FieldOwner:
		dst.OwnerID = src.OwnerID
	case FieldRisk:
		dst.RiskLevel, dst.RiskAssessedAt = src.RiskLevel, src.RiskAssessedAt
	case FieldIndustry:
		dst.Industry = src.Industry
	case FieldRegisteredCapital:
		dst.RegisteredCapital = src.RegisteredCapital
	}
}

// regionOf is the GB/T 2260 region a customer's identity document implies
// (the first six digits of a resident ID, characters 3–8 of a USCC), as
// customer.Service.Create derives it.
func regionOf(c customer.Customer) string {
	switch {
	case c.IDType == customer.ResidentID && len(c.IDNumber) == 18:
		return c.IDNumber[:6]
	case c.IDType == customer.USCC && len(c.IDNumber) == 18:
		return c.IDNumber[2:8]
	}
	return c.RegionCode
}

// RegionOf is regionOf for the importer, which fills new customers the same
// way.
func RegionOf(c customer.Customer) string { return regionOf(c) }

// identityKey is the uniqueness key of an identity document: its type and
// blind index (customers_identity).
func identityKey(idType, index string) string { return idType + "\x00" + index }
