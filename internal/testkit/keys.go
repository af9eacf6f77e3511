package testkit

import (
	"os"
	"testing"

	"kehu/internal/vault"
)

// Fixed test keys: tests are repeatable and a failing test's database can be
// opened by hand with the same keys. Never use them outside tests.
const (
	// TestKeysAES is a keyring of the aes suite (the default).
	TestKeysAES = "t-aes-1 aes active AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" +
		"t-idx-1 aes index ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=\n"
	// TestKeysSM is a keyring of the national suite; KEHU_TEST_SUITE=sm runs
	// every database test with it.
	TestKeysSM = "t-sm-1 sm active AAECAwQFBgcICQoLDA0ODw==\n" +
		"t-idx-sm sm index yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc=\n"
)

// Keys returns the test keyring: the aes suite, or the sm suite when
// KEHU_TEST_SUITE=sm.
func Keys(t testing.TB) *vault.Keyring {
	t.Helper()
	text := TestKeysAES
	if os.Getenv("KEHU_TEST_SUITE") == vault.SuiteSM {
		text = TestKeysSM
	}
	k, err := vault.ParseKeys(text)
	if err != nil {
		t.Fatalf("test keys: %v", err)
	}
	return k
}
