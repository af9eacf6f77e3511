package identity

import (
	"fmt"
	"slices"

	"kehu/internal/customer"
	"kehu/internal/vault"
)

// survive applies the observed fields of in to w under the field rules and
// records their provenance. It reports whether w's values changed, or a
// column and reason when the record cannot be applied (its identity
// document belongs to another customer).
func (r *resolver) survive(w *work, in *Incoming, observed map[string]bool) (changed bool, col, problem string) {
	src := in.SourceSystem
	if src == "" {
		src = r.b.SourceSystem
	}
	if col, problem := r.identityConflict(w, in, observed); problem != "" {
		return false, col, problem
	}
	for _, f := range sortedFields(observed) {
		if (f == FieldGender || f == FieldBirthDate) && w.cur.IDType == customer.ResidentID {
			continue // fixed by the resident ID number, applied with the identity field
		}
		cur, val := fieldText(w.cur, f), fieldText(in.Customer, f)
		if val == "" || !r.takes(w, in, f, cur, src) {
			continue
		}
		if val != cur {
			r.apply(w, in, f)
			changed = true
		}
		if p := w.provenanceOf(f); val != cur || p.SourceSystem != src {
			r.provenanceSet(w, Provenance{Field: f, SourceSystem: src, SetAt: in.AsOf, JobID: r.b.JobID})
		}
	}
	if changed && w.existing {
		w.changed = differs(w.cur, w.orig)
	}
	return changed, "", ""
}

// takes decides whether the incoming value of field f replaces the current
// one under the field's rule.
func (r *resolver) takes(w *work, in *Incoming, f, cur, src string) bool {
	if cur == "" {
		return true // filling an empty field never loses information
	}
	p := w.provenanceOf(f)
	switch r.rules.rule(f) {
	case RuleFirst:
		return false
	case RuleRecent:
		if f == FieldRisk && in.Customer.RiskAssessedAt != nil && w.cur.RiskAssessedAt != nil {
			// An assessment is as recent as the day it was made.
			return !in.Customer.RiskAssessedAt.Before(*w.cur.RiskAssessedAt)
		}
		return !in.AsOf.Before(p.SetAt)
	}
	return r.rules.rank(src) <= r.rules.rank(p.SourceSystem)
}

// apply copies field f from in into w, keeping the lookup maps and the
// fields a resident ID fixes in step.
func (r *resolver) apply(w *work, in *Incoming, f string) {
	switch f {
	case FieldIdentity:
		delete(r.identity, identityKey(w.cur.IDType, w.sealed.IDNumberIndex))
		setField(&w.cur, &w.sealed, in.Customer, in.Sealed, f)
		r.identity[identityKey(w.cur.IDType, w.sealed.IDNumberIndex)] = w.ref
		if w.cur.IDType == customer.ResidentID {
			w.cur.Gender, w.cur.BirthDate = in.Customer.Gender, in.Customer.BirthDate
		}
	case FieldMobile:
		old := w.sealed.MobileIndex
		r.mobiles[old] = slices.DeleteFunc(r.mobiles[old], func(id int64) bool { return id == w.ref })
		setField(&w.cur, &w.sealed, in.Customer, in.Sealed, f)
		if w.sealed.MobileIndex != "" {
			r.mobiles[w.sealed.MobileIndex] = append(r.mobiles[w.sealed.MobileIndex], w.ref)
		}
	case FieldName:
		setField(&w.cur, &w.sealed, in.Customer, in.Sealed, f)
		w.nameKey = in.NameKey
	default:
		setField(&w.cur, &w.sealed, in.Customer, in.Sealed, f)
	}
}

// identityConflict refuses a record whose identity document would move to
// w while another customer holds it.
func (r *resolver) identityConflict(w *work, in *Incoming, observed map[string]bool) (string, string) {
	if !observed[FieldIdentity] || in.Sealed.IDNumberIndex == "" {
		return "", ""
	}
	other, ok := r.identity[identityKey(in.Customer.IDType, in.Sealed.IDNumberIndex)]
	if !ok || other == w.ref {
		return "", ""
	}
	if fieldText(w.cur, FieldIdentity) != "" && !r.takes(w, in, FieldIdentity, fieldText(w.cur, FieldIdentity), in.SourceSystem) {
		return "", "" // the record's document would not be taken anyway
	}
	return "id_number", fmt.Sprintf("%s belongs to another customer (%s) than the one this record matches (%s): "+
		"the pair is for a person to review", vault.MaskIDNumber(in.Customer.IDNumber), refText(other), refText(w.ref))
}

// differs reports whether two versions of a customer differ in any field
// survivorship decides (or the region the identity document implies).
func differs(a, b customer.Customer) bool {
	for _, f := range Fields {
		if fieldText(a, f) != fieldText(b, f) {
			return true
		}
	}
	return a.RegionCode != b.RegionCode
}
