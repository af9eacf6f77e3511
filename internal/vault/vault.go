// Package vault protects customers' personal data: the data dictionary that
// classes every field (JR/T 0171-2020 C3/C2/C1), display masking by role,
// and field encryption at rest with key ids, rotation and blind indexes.
//
// Values are sealed with a randomised AEAD (AES-256-GCM or SM4-GCM) under
// the active key; each stored value names its key, so old keys keep working
// while `kehu keys rotate` re-encrypts. Exact search uses a keyed blind
// index (HMAC of the normalised value under a separate, stable key), so the
// database never needs the clear value to find a customer. Keys come from
// the environment or a key file, never from the database.
package vault

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Purpose says what a key is for.
type Purpose string

// Key purposes.
const (
	// Active is the one data key new values are sealed under.
	Active Purpose = "active"
	// Retired keys only open values sealed before a rotation.
	Retired Purpose = "data"
	// Index is the blind-index key. It must stay the same for the life of
	// the database: changing it would orphan every index entry.
	Index Purpose = "index"
)

// valuePrefix starts every sealed value and names the format version.
const valuePrefix = "v1:"

// key is one configured secret with its ready-to-use primitives.
type key struct {
	id          string
	suite       suite
	purpose     Purpose
	secret      []byte
	aead        cipher.AEAD // nil for the index key
	fingerprint string
}

// Keyring holds the configured keys. It is immutable after NewKeyring and
// safe for concurrent use.
type Keyring struct {
	active *key
	index  *key
	byID   map[string]*key
	// bidx holds, per index kind, the index key's HMAC with bidxDomain
	// and the kind already written, cloned for each value (no entry when
	// the suite's hash cannot be cloned): an import computes two blind
	// indexes a row, and keying an HMAC costs two hash blocks and its
	// allocations every time.
	bidx map[IndexKind]hash.Cloner
}

// KeyInfo describes a key without its secret, for the database's
// fingerprint table and for operators.
type KeyInfo struct {
	ID          string
	Suite       string
	Purpose     Purpose
	Fingerprint string
}

// Keys returns every configured key, without secrets, active key first.
func (k *Keyring) Keys() []KeyInfo {
	out := []KeyInfo{k.active.info(), k.index.info()}
	for _, x := range k.byID {
		if x != k.active && x != k.index {
			out = append(out, x.info())
		}
	}
	return out
}

func (x *key) info() KeyInfo {
	return KeyInfo{ID: x.id, Suite: x.suite.name, Purpose: x.purpose, Fingerprint: x.fingerprint}
}

// ActiveKeyID returns the id of the key new values are sealed under.
func (k *Keyring) ActiveKeyID() string { return k.active.id }

// Suite returns the suite of the active key.
func (k *Keyring) Suite() string { return k.active.suite.name }

// Encrypt seals plain under the active key. field names the column the value
// belongs to (e.g. "customers.mobile"); it is authenticated, so a value
// copied into another column fails to open. The empty string stays empty: an
// absent optional value is not a secret, and "" keeps NOT NULL columns
// simple.
func (k *Keyring) Encrypt(field, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	a := k.active
	nonce := make([]byte, a.aead.NonceSize(), a.aead.NonceSize()+len(plain)+a.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypt %s: %w", field, err)
	}
	sealed := a.aead.Seal(nonce, nonce, []byte(plain), aad(a.id, field))
	return valuePrefix + a.id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// ErrNotSealed reports a stored value that is not in the sealed format.
var ErrNotSealed = errors.New("value is not encrypted")

// Decrypt opens a value sealed by Encrypt for the same field, under any
// configured key. A value that was changed, moved from another column or
// sealed under an unknown key is an error; messages never include the value.
func (k *Keyring) Decrypt(field, stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	id, body, err := splitSealed(stored)
	if err != nil {
		return "", fmt.Errorf("decrypt %s: %w", field, err)
	}
	x, ok := k.byID[id]
	if !ok || x.aead == nil {
		return "", fmt.Errorf("decrypt %s: value is encrypted under key %q, which is not configured", field, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < x.aead.NonceSize()+x.aead.Overhead() {
		return "", fmt.Errorf("decrypt %s: malformed value under key %q", field, id)
	}
	n := x.aead.NonceSize()
	plain, err := x.aead.Open(nil, raw[:n], raw[n:], aad(id, field))
	if err != nil {
		return "", fmt.Errorf("decrypt %s: value under key %q failed authentication (altered, moved or wrong key)", field, id)
	}
	return string(plain), nil
}

// KeyIDOf returns the id of the key a stored value is sealed under, "" for
// an empty value; rotation uses it to skip values already under the active
// key without decrypting them.
func KeyIDOf(stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	id, _, err := splitSealed(stored)
	return id, err
}

func splitSealed(stored string) (id, body string, err error) {
	rest, ok := strings.CutPrefix(stored, valuePrefix)
	if !ok {
		return "", "", ErrNotSealed
	}
	id, body, ok = strings.Cut(rest, ":")
	if !ok || id == "" {
		return "", "", ErrNotSealed
	}
	return id, body, nil
}

// aad binds a sealed value to its key id and column.
func aad(keyID, field string) []byte { return []byte("kehu/v1/" + keyID + "/" + field) }

// BlindIndex returns the keyed index of value for exact search: the HMAC of
// the normalised value (see Normalize) under the index key, domain-separated
// by kind so equal strings in different kinds of field do not match. The
// empty value has the empty index.
func (k *Keyring) BlindIndex(kind IndexKind, value string) string {
	v := Normalize(kind, value)
	if v == "" {
		return ""
	}
	if base := k.bidx[kind]; base != nil {
		if m, err := base.Clone(); err == nil {
			m.Write([]byte{0})
			m.Write([]byte(v))
			var sum [64]byte
			return base64.RawStdEncoding.EncodeToString(m.Sum(sum[:0]))
		}
	}
	return base64.RawStdEncoding.EncodeToString(k.index.suite.mac(k.index.secret, bidxDomain, string(kind), v))
}

// bidxDomain separates blind indexes from the index key's other HMACs.
const bidxDomain = "kehu/bidx/v1"

// IndexKind names a blind-indexed kind of value.
type IndexKind string

// Blind-indexed kinds. ID numbers share one kind across document types so a
// search need not know the type.
const (
	IndexIDNumber  IndexKind = "id_number"
	IndexMobile    IndexKind = "mobile"
	IndexAccountNo IndexKind = "account_no"
)

// Normalize gives the form a value is indexed in, so the same number typed
// with spaces, dashes or a lower-case x finds the same row.
func Normalize(kind IndexKind, value string) string {
	v := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, value)
	switch kind {
	case IndexIDNumber:
		return strings.ToUpper(v)
	case IndexMobile:
		if len(v) == 14 && strings.HasPrefix(v, "+86") {
			return v[3:]
		}
	}
	return v
}
