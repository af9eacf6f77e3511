package vault

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// TestStandardVectors checks the national algorithms against the examples
// printed in the standards, so a broken or substituted implementation fails.
func TestStandardVectors(t *testing.T) {
	k, _ := hex.DecodeString("0123456789abcdeffedcba9876543210")
	b, err := sm4.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	b.Encrypt(out, k) // GB/T 32907-2016 appendix A, example 1: plaintext = key
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Errorf("SM4 example = %s", got)
	}
	h := sm3.Sum([]byte("abc")) // GB/T 32905-2016 appendix A, example 1
	if got := hex.EncodeToString(h[:]); got != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Errorf("SM3(abc) = %s", got)
	}
}

func testRing(t *testing.T, suite string) *Keyring {
	t.Helper()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a, err := GenerateKeyLine(suite, Active, now)
	if err != nil {
		t.Fatal(err)
	}
	i, err := GenerateKeyLine(suite, Index, now)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeys(a + "\n" + i)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTripBothSuites(t *testing.T) {
	for _, s := range []string{SuiteAES, SuiteSM} {
		t.Run(s, func(t *testing.T) {
			k := testRing(t, s)
			if k.Suite() != s {
				t.Fatalf("suite = %s", k.Suite())
			}
			for _, plain := range []string{"330106198503070017", "13800000001", "浙江省杭州市西湖区文三路90号", "x"} {
				c1, err := k.Encrypt("customers.f", plain)
				if err != nil {
					t.Fatal(err)
				}
				c2, _ := k.Encrypt("customers.f", plain)
				if c1 == c2 {
					t.Error("encryption is not randomised")
				}
				if len(plain) > 3 && strings.Contains(c1, plain) || !strings.HasPrefix(c1, "v1:"+k.ActiveKeyID()+":") {
					t.Errorf("sealed value %q", c1)
				}
				got, err := k.Decrypt("customers.f", c1)
				if err != nil || got != plain {
					t.Errorf("Decrypt = %q, %v", got, err)
				}
				if _, err := k.Decrypt("customers.other", c1); err == nil {
					t.Error("a value moved to another column opened")
				}
			}
			if c, _ := k.Encrypt("f", ""); c != "" {
				t.Errorf("empty sealed to %q", c)
			}
		})
	}
}

func TestTamperedValueFails(t *testing.T) {
	k := testRing(t, SuiteSM)
	c, _ := k.Encrypt("customers.mobile", "13800000001")
	id, body, _ := splitSealed(c)
	raw, _ := base64.RawStdEncoding.DecodeString(body)
	for i := range raw {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 1
		_, err := k.Decrypt("customers.mobile", "v1:"+id+":"+base64.RawStdEncoding.EncodeToString(bad))
		if err == nil || !strings.Contains(err.Error(), "failed authentication") {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	if _, err := k.Decrypt("customers.mobile", "13800000001"); err == nil || strings.Contains(err.Error(), "13800000001") {
		t.Errorf("plaintext accepted or echoed: %v", err)
	}
	other := testRing(t, SuiteSM)
	if _, err := other.Decrypt("customers.mobile", c); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestBlindIndex(t *testing.T) {
	k := testRing(t, SuiteAES)
	a := k.BlindIndex(IndexIDNumber, "33010619850307001x")
	if a != k.BlindIndex(IndexIDNumber, "33010619850307001X") || a != k.BlindIndex(IndexIDNumber, " 330106 19850307001X") {
		t.Error("normalisation differs")
	}
	if a == k.BlindIndex(IndexMobile, "33010619850307001X") {
		t.Error("kinds are not separated")
	}
	if strings.Contains(a, "330106") || len(a) != 43 {
		t.Errorf("index %q", a)
	}
	if k.BlindIndex(IndexMobile, "+8613800000001") != k.BlindIndex(IndexMobile, "13800000001") {
		t.Error("+86 prefix")
	}
	if testRing(t, SuiteAES).BlindIndex(IndexIDNumber, "33010619850307001X") == a {
		t.Error("index does not depend on the key")
	}
	if k.BlindIndex(IndexMobile, "") != "" {
		t.Error("empty value indexed")
	}
}

func TestParseKeysRefusals(t *testing.T) {
	now := time.Now()
	a, _ := GenerateKeyLine(SuiteAES, Active, now)
	a2, _ := GenerateKeyLine(SuiteSM, Active, now)
	i, _ := GenerateKeyLine(SuiteAES, Index, now)
	old := strings.Replace(a2, " active ", " data ", 1)
	if k, err := ParseKeys(a + ";" + i + ";" + old); err != nil || len(k.Keys()) != 3 {
		t.Fatalf("three keys: %v", err)
	}
	for name, text := range map[string]string{
		"no index":      a,
		"no active":     i,
		"two active":    a + "\n" + a2 + "\n" + i,
		"short secret":  "k1 aes active AAAA\n" + i,
		"sm4 size":      strings.Replace(a, " aes ", " sm ", 1) + "\n" + i,
		"bad suite":     strings.Replace(a, " aes ", " des ", 1) + "\n" + i,
		"bad id":        "k/1" + a[strings.Index(a, " "):] + "\n" + i,
		"bad purpose":   strings.Replace(a, " active ", " main ", 1) + "\n" + i,
		"duplicate id":  a + "\n" + strings.Replace(a, " active ", " data ", 1) + "\n" + i,
		"missing field": "k1 aes active\n" + i,
	} {
		if _, err := ParseKeys(text); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), strings.Fields(a)[3]) {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

func TestFingerprintSurvivesRetirement(t *testing.T) {
	now := time.Now()
	a, _ := GenerateKeyLine(SuiteAES, Active, now)
	a2, _ := GenerateKeyLine(SuiteAES, Active, now)
	i, _ := GenerateKeyLine(SuiteAES, Index, now)
	k1, _ := ParseKeys(a + "\n" + i)
	k2, err := ParseKeys(a2 + "\n" + strings.Replace(a, " active ", " data ", 1) + "\n" + i)
	if err != nil {
		t.Fatal(err)
	}
	fp := map[string]string{}
	for _, x := range k2.Keys() {
		fp[x.ID] = x.Fingerprint
	}
	for _, x := range k1.Keys() {
		if fp[x.ID] != x.Fingerprint {
			t.Errorf("fingerprint of %s changed", x.ID)
		}
	}
	c, _ := k1.Encrypt("f", "v")
	if v, err := k2.Decrypt("f", c); err != nil || v != "v" {
		t.Errorf("old value under new ring: %q %v", v, err)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kehu.keys")
	text, k, err := NewKeyFile(SuiteSM, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, text); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", st.Mode().Perm())
	}
	if err := WriteKeyFile(path, text); err == nil {
		t.Error("an existing key file was overwritten")
	}
	again, err := LoadKeyFile(path)
	if err != nil || again.ActiveKeyID() != k.ActiveKeyID() {
		t.Fatalf("reload: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable file: %v", err)
	}
}

// TestBlindIndexIsTheKeyedHMAC pins the blind index to its definition,
// HMAC_indexkey("kehu/bidx/v1" ‖ 0 ‖ kind ‖ 0 ‖ normalised value), in both
// suites: the pre-keyed clones BlindIndex uses must give what every stored
// index already holds, and an unknown kind still gets the full computation.
func TestBlindIndexIsTheKeyedHMAC(t *testing.T) {
	for _, s := range []string{SuiteAES, SuiteSM} {
		k := testRing(t, s)
		if s == SuiteAES && len(k.bidx) != 3 {
			t.Errorf("pre-keyed blind-index HMACs: %d, want 3 (SHA-256's HMAC clones)", len(k.bidx))
		}
		for _, kind := range []IndexKind{IndexIDNumber, IndexMobile, IndexAccountNo, "other_kind"} {
			for _, v := range []string{"33010619850307001X", "13800000001", "6222020200112233445", "x"} {
				want := base64.RawStdEncoding.EncodeToString(k.index.suite.mac(k.index.secret, "kehu/bidx/v1",
					string(kind), Normalize(kind, v)))
				if got := k.BlindIndex(kind, v); got != want {
					t.Errorf("%s %s %q: %s, want %s", s, kind, v, got, want)
				}
			}
		}
	}
}
