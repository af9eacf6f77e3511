package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Suite names, as written in key files.
const (
	// SuiteAES is AES-256-GCM for values and HMAC-SHA-256 for blind indexes.
	SuiteAES = "aes"
	// SuiteSM is the Chinese national suite: SM4-GCM (GB/T 32907) for values
	// and HMAC-SM3 (GB/T 32905) for blind indexes, which regulators ask
	// Chinese banks to prefer.
	SuiteSM = "sm"
)

// suite is one algorithm family: an AEAD for values and a hash for HMAC.
type suite struct {
	name string
	// dataKeyLen is the secret length of a data key: 32 bytes for AES-256,
	// 16 for SM4 (a 128-bit cipher). Index keys are always indexKeyLen.
	dataKeyLen int
	newAEAD    func(secret []byte) (cipher.AEAD, error)
	newHash    func() hash.Hash
}

// indexKeyLen is the length of a blind-index (HMAC) key in either suite.
const indexKeyLen = 32

var suites = map[string]suite{
	SuiteAES: {name: SuiteAES, dataKeyLen: 32, newHash: sha256.New, newAEAD: func(k []byte) (cipher.AEAD, error) {
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}},
	SuiteSM: {name: SuiteSM, dataKeyLen: 16, newHash: sm3.New, newAEAD: func(k []byte) (cipher.AEAD, error) {
		b, err := sm4.NewCipher(k)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}},
}

func suiteNamed(name string) (suite, error) {
	s, ok := suites[name]
	if !ok {
		return suite{}, fmt.Errorf("unknown suite %q (want %s or %s)", name, SuiteAES, SuiteSM)
	}
	return s, nil
}

// mac returns HMAC_secret(parts joined by NUL) in the suite's hash. The NUL
// separator keeps ("ab","c") and ("a","bc") apart.
func (s suite) mac(secret []byte, parts ...string) []byte {
	m := hmac.New(s.newHash, secret)
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// keyedPrefixes returns, for each kind, an HMAC under secret that has
// absorbed domain, NUL and the kind — mac(secret, domain, kind, v) is then
// the clone written with NUL and v. Kinds whose HMAC cannot be cloned are
// left out (the caller falls back to mac).
func (s suite) keyedPrefixes(secret []byte, domain string, kinds ...IndexKind) map[IndexKind]hash.Cloner {
	out := make(map[IndexKind]hash.Cloner, len(kinds))
	for _, kind := range kinds {
		m := hmac.New(s.newHash, secret)
		m.Write([]byte(domain))
		m.Write([]byte{0})
		m.Write([]byte(kind))
		if c, ok := m.(hash.Cloner); ok {
			if _, err := c.Clone(); err == nil {
				out[kind] = c
			}
		}
	}
	return out
}
