package audit

import "kehu/internal/vault"

// MaskChange returns c with its values masked when c.Field is a personal
// field of the data dictionary: the trail must say what changed without
// becoming a second copy of the personal data it protects. The masking rules
// are the vault's, so the trail and the screens mask alike. A birth date,
// which the screens withhold entirely, keeps its year here so a change still
// reads as one.
func MaskChange(c Change) Change {
	mask := maskerFor(c.Field)
	if mask != nil {
		c.Old, c.New = maskNonEmpty(mask, c.Old), maskNonEmpty(mask, c.New)
	}
	return c
}

func maskerFor(field string) func(string) string {
	switch field {
	case "birth_date":
		return maskDate
	case "card_no":
		return vault.MaskAccountNo
	}
	for _, table := range []string{"customers", "accounts"} {
		if f, ok := vault.Lookup(table, field); ok && f.Mask != vault.RuleNone {
			return func(v string) string { return vault.Mask(f.Mask, v, false) }
		}
	}
	return nil
}

func maskNonEmpty(m func(string) string, v string) string {
	if v == "" {
		return ""
	}
	return m(v)
}

// maskDate keeps the year of a YYYY-MM-DD date.
func maskDate(v string) string {
	if len(v) >= 4 {
		return v[:4] + "-**-**"
	}
	return "****"
}
