package testkit

import "kehu/internal/cnid"

// fixResident replaces the check digit of a readable test number so tests
// can write plausible numbers without computing check digits by hand.
func fixResident(s string) string {
	c, err := cnid.ResidentCheckDigit(s[:17])
	if err != nil {
		panic(err)
	}
	return s[:17] + string(c)
}

// fixUSCC does the same for a Unified Social Credit Code.
func fixUSCC(s string) string {
	c, err := cnid.USCCCheckChar(s[:17])
	if err != nil {
		panic(err)
	}
	return s[:17] + string(c)
}

// ResidentID returns a valid resident ID number built from its first 17 digits.
func ResidentID(first17 string) string { return fixResident(first17 + "0") }
