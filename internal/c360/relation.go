package c360

import "kehu/internal/account"

// inverse names the other side of a stored relationship kind: a row (A, B,
// parent) reads "A is B's parent", so seen from A, B is A's child.
var inverse = map[string]string{
	"spouse":               "spouse",
	"sibling":              "sibling",
	"parent":               "child",
	"child":                "parent",
	"legal_representative": "represented_company",
	"shareholder":          "invested_company",
	"guarantor":            "guaranteed_party",
	"employer":             "employee",
}

// Relations lists every relation name a 360 may show, for catalogues.
var Relations = []string{"spouse", "sibling", "parent", "child", "legal_representative", "represented_company",
	"shareholder", "invested_company", "guarantor", "guaranteed_party", "employer", "employee"}

// relation names what the related customer is to the viewed one.
func relation(r account.Relationship) string {
	if r.Direction == account.Incoming {
		return r.Kind
	}
	if n, ok := inverse[r.Kind]; ok {
		return n
	}
	return r.Kind
}

func relationships(rs []account.Relationship) []Relationship {
	out := make([]Relationship, 0, len(rs))
	for _, r := range rs {
		out = append(out, Relationship{Relationship: r, Relation: relation(r)})
	}
	return out
}
