package vault

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// A key file (or the KEHU_KEYS variable) has one key per line:
//
//	# id            suite  purpose  secret (base64)
//	k20260301a1b2   aes    active   q3f...=
//	k20250101c3d4   aes    data     Zm9...=
//	i20250101e5f6   aes    index    c2V...=
//
// exactly one active and one index key; blank lines and # comments are
// ignored; in KEHU_KEYS lines may also be separated by ";".

// ParseKeys reads keys in the key-file format and builds a Keyring.
func ParseKeys(text string) (*Keyring, error) {
	k := &Keyring{byID: map[string]*key{}}
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, ";", "\n")))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		x, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("keys line %d: %w", n, err)
		}
		if _, dup := k.byID[x.id]; dup {
			return nil, fmt.Errorf("keys line %d: key id %q appears twice", n, x.id)
		}
		k.byID[x.id] = x
		switch x.purpose {
		case Active:
			if k.active != nil {
				return nil, fmt.Errorf("keys line %d: a second active key (%s and %s); mark the old one data", n, k.active.id, x.id)
			}
			k.active = x
		case Index:
			if k.index != nil {
				return nil, fmt.Errorf("keys line %d: a second index key; the index key never changes", n)
			}
			k.index = x
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if k.active == nil || k.index == nil {
		return nil, errors.New("keys: need exactly one active key and one index key (see docs/SECURITY.md)")
	}
	k.bidx = k.index.suite.keyedPrefixes(k.index.secret, bidxDomain, IndexIDNumber, IndexMobile, IndexAccountNo)
	return k, nil
}

func parseKeyLine(line string) (*key, error) {
	f := strings.Fields(line)
	if len(f) != 4 {
		return nil, errors.New("want: id suite purpose base64-secret")
	}
	id, purpose := f[0], Purpose(f[2])
	if !validKeyID(id) {
		return nil, fmt.Errorf("key id %q: use 1-32 letters, digits, _ or -", id)
	}
	s, err := suiteNamed(f[1])
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	secret, err := base64.StdEncoding.DecodeString(f[3])
	if err != nil {
		return nil, fmt.Errorf("key %s: secret is not base64", id)
	}
	x := &key{id: id, suite: s, purpose: purpose, secret: secret}
	switch purpose {
	case Active, Retired:
		if len(secret) != s.dataKeyLen {
			return nil, fmt.Errorf("key %s: a %s data key has %d bytes, not %d", id, s.name, s.dataKeyLen, len(secret))
		}
		if x.aead, err = s.newAEAD(secret); err != nil {
			return nil, fmt.Errorf("key %s: %w", id, err)
		}
	case Index:
		if len(secret) != indexKeyLen {
			return nil, fmt.Errorf("key %s: an index key has %d bytes, not %d", id, indexKeyLen, len(secret))
		}
	default:
		return nil, fmt.Errorf("key %s: purpose %q: want active, data or index", id, purpose)
	}
	// The fingerprint lets the database recognise a key without holding
	// it: an HMAC under the key itself, so it reveals nothing usable.
	// Active and retired keys share one kind, so retiring a key keeps its
	// fingerprint.
	kind := "data"
	if purpose == Index {
		kind = "index"
	}
	x.fingerprint = hex.EncodeToString(s.mac(secret, "kehu/fingerprint/v1", kind)[:16])
	return x, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// LoadKeyFile reads a key file, refusing one that other users could read:
// the file is as sensitive as every encrypted column together.
func LoadKeyFile(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by other users (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	k, err := ParseKeys(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// GenerateKeyLine returns a key-file line with a new random secret for
// suite and purpose, named by the date and random digits.
func GenerateKeyLine(suiteName string, purpose Purpose, now time.Time) (string, error) {
	s, err := suiteNamed(suiteName)
	if err != nil {
		return "", err
	}
	n := s.dataKeyLen
	prefix := "k"
	switch purpose {
	case Index:
		n, prefix = indexKeyLen, "i"
	case Active, Retired:
	default:
		return "", fmt.Errorf("purpose %q: want active, data or index", purpose)
	}
	secret := make([]byte, n)
	tag := make([]byte, 3)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	if _, err := rand.Read(tag); err != nil {
		return "", err
	}
	id := prefix + now.UTC().Format("20060102") + hex.EncodeToString(tag)
	return fmt.Sprintf("%s %s %s %s", id, s.name, purpose, base64.StdEncoding.EncodeToString(secret)), nil
}

// NewKeyFile returns the text of a new key file (an active and an index key
// of suite) and its keyring, so a caller can check the keys against the
// database before writing the file.
func NewKeyFile(suiteName string, now time.Time) (string, *Keyring, error) {
	active, err := GenerateKeyLine(suiteName, Active, now)
	if err != nil {
		return "", nil, err
	}
	index, err := GenerateKeyLine(suiteName, Index, now)
	if err != nil {
		return "", nil, err
	}
	text := "# Kehu encryption keys, generated " + now.UTC().Format(time.RFC3339) + ".\n" +
		"# Keep this file secret and back it up: without it the encrypted columns cannot be read.\n" +
		"# id suite purpose secret\n" + active + "\n" + index + "\n"
	k, err := ParseKeys(text)
	return text, k, err
}

// WriteKeyFile writes text to a new file at path with mode 0600, failing if
// the file exists so a key is never overwritten.
func WriteKeyFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	return f.Close()
}
