package cnid

import "fmt"

// ValidMobile checks a mainland China mobile number: 11 digits starting with
// 1 and a second digit 3-9 (the ranges allocated by MIIT). A leading +86 or 86
// must be stripped by the caller's normaliser first.
func ValidMobile(s string) error {
	if len(s) != 11 {
		return fmt.Errorf("mobile number must have 11 digits, got %d characters", len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("mobile number must contain only digits")
		}
	}
	if s[0] != '1' || s[1] < '3' {
		return fmt.Errorf("mobile number must start with 13-19")
	}
	return nil
}
