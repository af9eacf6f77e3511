package importer

import (
	"errors"
	"strings"
	"time"

	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// Accepted spellings of the customer enumerations (lower case).
var (
	customerTypes = map[string]string{
		"individual": customer.Individual, "personal": customer.Individual, "person": customer.Individual,
		"个人": customer.Individual, "对私": customer.Individual, "自然人": customer.Individual, "零售": customer.Individual,
		"corporate": customer.Corporate, "company": customer.Corporate, "企业": customer.Corporate,
		"对公": customer.Corporate, "公司": customer.Corporate, "单位": customer.Corporate, "法人": customer.Corporate,
	}
	idTypes = map[string]string{
		customer.ResidentID: customer.ResidentID, "居民身份证": customer.ResidentID, "身份证": customer.ResidentID,
		"二代身份证": customer.ResidentID, "个人身份证": customer.ResidentID, "身份证件": customer.ResidentID,
		customer.Passport: customer.Passport, "护照": customer.Passport, "外国护照": customer.Passport, "中国护照": customer.Passport,
		customer.HKMacauPermit: customer.HKMacauPermit, "港澳居民来往内地通行证": customer.HKMacauPermit,
		"港澳通行证": customer.HKMacauPermit, "回乡证": customer.HKMacauPermit,
		customer.TaiwanPermit: customer.TaiwanPermit, "台湾居民来往大陆通行证": customer.TaiwanPermit,
		"台胞证": customer.TaiwanPermit, "台湾通行证": customer.TaiwanPermit,
		customer.USCC: customer.USCC, "统一社会信用代码": customer.USCC, "营业执照": customer.USCC,
		"社会信用代码": customer.USCC, "信用代码": customer.USCC,
	}
	genders = map[string]string{"m": "M", "male": "M", "男": "M", "1": "M", "f": "F", "female": "F", "女": "F", "2": "F",
		"未知": "", "0": "", "9": "", "u": ""}
	riskLevels = map[string]int{"c1": 1, "c2": 2, "c3": 3, "c4": 4, "c5": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5,
		"保守型": 1, "谨慎型": 1, "稳健型": 2, "平衡型": 3, "成长型": 4, "积极型": 4, "进取型": 5, "激进型": 5}
)

// customer validates a customers row into an identity.Incoming. The rules
// are customer.New.Validate's (GB 11643 check digit, birth date and sex
// agreeing with a resident ID, USCC check character, mobile, e-mail), plus
// the import's own: references, risk level, dates, scope.
func (p *parser) customer(line int64, rec record, probs *problems) (any, string) {
	n := customer.New{Name: rec["name"], IDNumber: rec["id_number"], Mobile: rec["mobile"], Email: rec["email"],
		Address: p.text(rec, "address", 200, probs), Industry: p.text(rec, "industry", 50, probs)}
	sourceID := p.text(rec, "source_id", 64, probs)
	if sourceID == "" {
		probs.add("source_id", "is required: the customer's number in "+p.source)
	}
	if numberLooksMangled(n.IDNumber) {
		probs.add("id_number", "was turned into a number by Excel, which loses its last digits: format the column "+
			"as text and export again")
		return nil, ""
	}
	p.customerKinds(rec, &n, probs)
	if v := rec["gender"]; v != "" {
		g, ok := enum(v, genders)
		if !ok {
			probs.add("gender", quoted(v)+" is not a gender (use M or F, 男 or 女)")
		}
		n.Gender = g
	}
	n.BirthDate = p.date(rec, "birth_date", probs)
	p.notFuture(n.BirthDate, "birth_date", probs)
	o := p.orgCell(rec, "org_id", true, probs)
	n.OrgID = o.ID
	if v := rec["owner_id"]; v != "" {
		u, ok := p.refs.user(v)
		switch {
		case !ok:
			probs.add("owner_id", quoted(v)+" is not a username or user id of this bank")
		case !u.Active:
			probs.add("owner_id", quoted(v)+" is a disabled user")
		default:
			n.OwnerID = &u.ID
		}
	}
	if cap, ok := p.amount(rec, "registered_capital", probs); ok {
		n.RegisteredCapital = cap
	}
	if n.OrgID == 0 {
		n.OrgID = -1 // reported above; keeps Validate from repeating it
	}
	p.validateCustomer(&n, probs)
	c := customer.Customer{Type: n.Type, Name: n.Name, IDType: n.IDType, IDNumber: n.IDNumber, Mobile: n.Mobile,
		Email: n.Email, Gender: n.Gender, BirthDate: n.BirthDate, Address: n.Address, OrgID: n.OrgID,
		OwnerID: n.OwnerID, Industry: n.Industry, RegisteredCapital: n.RegisteredCapital}
	p.risk(rec, &c, probs)
	asOf := p.asOf
	if t, ok := p.moment(rec, "updated_at", probs); ok {
		asOf = t
	}
	if !probs.ok() {
		return nil, ""
	}
	c.RegionCode = identity.RegionOf(c)
	in := identity.Incoming{Line: line, SourceSystem: p.source, SourceID: sourceID, Customer: c, AsOf: asOf,
		Provided: p.provided(c)}
	if p.nameKey != nil {
		in.NameKey = p.nameKey(c.Name)
	}
	sealed, err := p.seal.SealCustomer(c.IDNumber, c.Mobile, c.Email, c.Address)
	if err != nil {
		probs.add("", "cannot be encrypted: "+err.Error())
		return nil, ""
	}
	in.Sealed = sealed
	in.Prints = identity.Fingerprints(p.seal, c, in.Provided)
	return in, "customer\x00" + sourceID
}

// customerKinds fills the customer type and identity document type,
// inferring what the row leaves out from the document number.
func (p *parser) customerKinds(rec record, n *customer.New, probs *problems) {
	if v := rec["type"]; v != "" {
		t, ok := enum(v, customerTypes)
		if !ok {
			probs.add("type", quoted(v)+" is not a customer type (individual or corporate, 个人 or 对公)")
		}
		n.Type = t
	}
	if v := rec["id_type"]; v != "" {
		t, ok := enum(v, idTypes)
		if !ok {
			probs.add("id_type", quoted(v)+" is not an identity document type (resident_id, passport, "+
				"hk_macau_permit, taiwan_permit, uscc or their Chinese names)")
		}
		n.IDType = t
	}
	id := strings.ToUpper(strings.TrimSpace(n.IDNumber))
	if n.IDType == "" && id != "" {
		switch {
		case n.Type != customer.Individual && cnid.ValidUSCC(id) == nil:
			n.IDType = customer.USCC
		case n.Type != customer.Corporate && len(id) == 18:
			n.IDType = customer.ResidentID
		case n.Type == "":
			probs.add("id_type", "is required for this identity number")
		}
	}
	if n.Type == "" {
		n.Type = customer.Individual
		if n.IDType == customer.USCC {
			n.Type = customer.Corporate
		}
	}
}

// validateCustomer runs the customer module's own validation and reports
// its field errors against the file's columns.
func (p *parser) validateCustomer(n *customer.New, probs *problems) {
	err := n.Validate()
	if err == nil {
		return
	}
	var ke *kehu.Error
	if !errors.As(err, &ke) {
		probs.add("", safeReason(err.Error()))
		return
	}
	for _, f := range ke.Fields {
		col := f.Field
		if col == "org_id" && n.OrgID < 0 {
			continue
		}
		reason := safeReason(f.Reason)
		switch col {
		case "id_number":
			reason = p.masked("id_number", n.IDNumber) + ": " + reason
		case "mobile":
			reason = p.masked("mobile", n.Mobile) + ": " + reason
		case "email":
			reason = p.masked("email", n.Email) + ": " + reason
		}
		probs.add(col, reason)
	}
}

// risk reads the risk level (C1–C5, stored as 1–5) and its assessment time.
func (p *parser) risk(rec record, c *customer.Customer, probs *problems) {
	if v := rec["risk_level"]; v != "" {
		l, ok := riskLevels[strings.ToLower(v)]
		if !ok {
			probs.add("risk_level", quoted(v)+" is not a risk level (C1 to C5, or 保守型 … 进取型)")
		}
		c.RiskLevel = l
	}
	if t, ok := p.moment(rec, "risk_assessed_at", probs); ok {
		if t.After(p.now.Add(24 * time.Hour)) {
			probs.add("risk_assessed_at", "is in the future")
		}
		c.RiskAssessedAt = &t
		if c.RiskLevel == 0 && rec["risk_level"] == "" {
			probs.add("risk_assessed_at", "is given without a risk_level")
		}
	}
}

// provided returns the survivorship fields a validated record carries, as
// a map shared with every row that carries the same ones (read-only).
func (p *parser) provided(c customer.Customer) map[string]bool {
	var mask uint32
	for i, f := range identity.Fields {
		if hasIdentityField(c, f) {
			mask |= 1 << i
		}
	}
	if m, ok := p.providedSets.Load(mask); ok {
		return m.(map[string]bool)
	}
	out := make(map[string]bool, len(identity.Fields))
	for i, f := range identity.Fields {
		out[f] = mask&(1<<i) != 0
	}
	m, _ := p.providedSets.LoadOrStore(mask, out)
	return m.(map[string]bool)
}

// hasIdentityField reports whether c carries field f, as identity's field
// text would be non-empty.
func hasIdentityField(c customer.Customer, f string) bool {
	switch f {
	case identity.FieldName:
		return c.Name != ""
	case identity.FieldIdentity:
		return c.IDNumber != ""
	case identity.FieldGender:
		return c.Gender != ""
	case identity.FieldBirthDate:
		return !c.BirthDate.IsZero()
	case identity.FieldMobile:
		return c.Mobile != ""
	case identity.FieldEmail:
		return c.Email != ""
	case identity.FieldAddress:
		return c.Address != ""
	case identity.FieldOrg:
		return c.OrgID > 0
	case identity.FieldOwner:
		return c.OwnerID != nil
	case identity.FieldRisk:
		return c.RiskLevel > 0
	case identity.FieldIndustry:
		return c.Industry != ""
	case identity.FieldRegisteredCapital:
		return c.RegisteredCapital != 0
	}
	return false
}
