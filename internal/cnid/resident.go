// Package cnid validates and builds the Chinese identifiers a bank CRM handles:
// 18-digit resident identity numbers (GB 11643-1999), Unified Social Credit
// Codes (GB 32100-2015) and mainland mobile numbers. Both the importer and the
// demo generator use it, so what one writes the other accepts.
package cnid

import (
	"fmt"
	"time"
)

var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const residentChecks = "10X98765432"

// ResidentCheckDigit returns the GB 11643 check character for the first 17
// digits of a resident identity number.
func ResidentCheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 digits, got %d characters", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("character %d is not a digit", i+1)
		}
		sum += int(c-'0') * residentWeights[i]
	}
	return residentChecks[sum%11], nil
}

// Resident is a parsed, valid resident identity number.
type Resident struct {
	Number     string
	RegionCode string // GB/T 2260 six-digit code of the place of registration
	BirthDate  time.Time
	Male       bool
}

// ParseResident checks length, digits, birth date and check digit of an
// 18-character resident identity number (a lower-case x is accepted and
// normalised). It does not check that the region code exists; callers with the
// region table do that.
func ParseResident(s string) (Resident, error) {
	if len(s) != 18 {
		return Resident{}, fmt.Errorf("resident ID must have 18 characters, got %d", len(s))
	}
	b := []byte(s)
	if b[17] == 'x' {
		b[17] = 'X'
	}
	want, err := ResidentCheckDigit(string(b[:17]))
	if err != nil {
		return Resident{}, fmt.Errorf("resident ID: %w", err)
	}
	if b[17] != want {
		return Resident{}, fmt.Errorf("resident ID check digit is %c, expected %c", b[17], want)
	}
	birth, err := time.Parse("20060102", string(b[6:14]))
	if err != nil {
		return Resident{}, fmt.Errorf("resident ID birth date %s is not a valid date", b[6:14])
	}
	if birth.Year() < 1900 {
		return Resident{}, fmt.Errorf("resident ID birth year %d is before 1900", birth.Year())
	}
	return Resident{
		Number:     string(b),
		RegionCode: string(b[:6]),
		BirthDate:  birth,
		Male:       (b[16]-'0')%2 == 1,
	}, nil
}

// BuildResident assembles a valid number from a region code, a birth date and
// a three-digit sequence whose parity encodes the sex (odd = male).
func BuildResident(region string, birth time.Time, seq int) string {
	first := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	c, err := ResidentCheckDigit(first)
	if err != nil {
		panic(fmt.Sprintf("cnid: BuildResident with bad region %q: %v", region, err))
	}
	return first + string(c)
}
