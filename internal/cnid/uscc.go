package cnid

import (
	"fmt"
	"strings"
)

// usccAlphabet is the GB 32100 character set: digits and upper-case letters
// without I, O, Z, S and V; a character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheckChar returns the check character for the first 17 characters of a
// Unified Social Credit Code.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 characters, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("character %d (%q) is not allowed in a USCC", i+1, first17[i])
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], nil
}

// ValidUSCC checks the length, the alphabet, the registration-department
// and type positions and the check character of an 18-character USCC.
func ValidUSCC(s string) error {
	if len(s) != 18 {
		return fmt.Errorf("USCC must have 18 characters, got %d", len(s))
	}
	want, err := USCCCheckChar(s[:17])
	if err != nil {
		return fmt.Errorf("USCC: %w", err)
	}
	if s[17] != want {
		return fmt.Errorf("USCC check character is %c, expected %c", s[17], want)
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("USCC region code (characters 3-8) must be digits")
		}
	}
	return nil
}

// BuildUSCC assembles a valid code: registration department and type (e.g.
// "91" for an enterprise registered with market regulation), a six-digit
// region code and a nine-character organisation code.
func BuildUSCC(deptType, region, orgCode string) string {
	first := deptType + region + orgCode
	c, err := USCCCheckChar(first)
	if err != nil {
		panic(fmt.Sprintf("cnid: BuildUSCC: %v", err))
	}
	return first + string(c)
}
