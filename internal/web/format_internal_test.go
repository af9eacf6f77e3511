package web

import (
	"testing"

	"kehu/internal/msgtemplate"
)

// TestToStringNamedTypes: a code of a named type is labelled by its value
// (the message templates page showed "—" for every channel and purpose,
// whose types are msgtemplate.Channel and msgtemplate.Purpose).
func TestToStringNamedTypes(t *testing.T) {
	type level int32
	for _, c := range []struct {
		in   any
		want string
	}{
		{"sms", "sms"}, {msgtemplate.SMS, "sms"}, {msgtemplate.Marketing, "marketing"}, {level(3), "3"},
		{int64(42), "42"}, {7, "7"}, {nil, ""}, {3.5, ""},
	} {
		if got := toString(c.in); got != c.want {
			t.Errorf("toString(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}
