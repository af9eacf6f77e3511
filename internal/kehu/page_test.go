package kehu

import (
	"encoding/base64"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{{}, {AfterID: 7}, {AfterID: 7, Rank: 2, Key: "张三"}, {AfterID: 9, Rank: 3, Key: "a:b"},
		{AfterID: 1, Rank: 1}} {
		got, err := DecodeCursor(c.Encode())
		if err != nil || got != c {
			t.Errorf("round trip of %+v = %+v, %v", c, got, err)
		}
	}
}

func TestDecodeCursorRefusesForgeries(t *testing.T) {
	for _, raw := range []string{"k1:", "k1:0", "k1:-3", "k1:x", "k2:0:5:", "k2:10:5:", "k2:1:0:", "k2:1:5", "k2:a:5:",
		"k2:1:5:\xff", "k3:5"} {
		if _, err := DecodeCursor(base64.RawURLEncoding.EncodeToString([]byte(raw))); ErrorCode(err) != EINVALID {
			t.Errorf("%q: err %v, want EINVALID", raw, err)
		}
	}
	if _, err := DecodeCursor("not base64!"); ErrorCode(err) != EINVALID {
		t.Errorf("garbage: %v", err)
	}
}
