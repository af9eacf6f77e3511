package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kehu/internal/testkit"
)

// TestKeysLifecycle walks the operator's path on SQLite: the first demo
// generates a key file beside the database, a wrong key refuses to start
// and changes nothing, and a rotation to a new key moves every value.
func TestKeysLifecycle(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "kehu.db")
	keyPath := filepath.Join(dir, keyFileName)
	code, _, stderr := run(t, nil, "demo", "--db", dbURL, "--customers", "30")
	if code != 0 || !strings.Contains(stderr, "generated "+keyPath) {
		t.Fatalf("demo: exit %d, %s", code, stderr)
	}
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	original, _ := os.ReadFile(keyPath)
	dbBefore := snapshot(t, dir)

	// The test keys are not this database's keys.
	code, _, stderr = run(t, map[string]string{"KEHU_KEYS": testkit.TestKeysAES}, "keys", "rotate", "--db", dbURL)
	if code != 1 || !strings.Contains(stderr, "not configured") || !strings.Contains(stderr, "Nothing was changed") {
		t.Errorf("wrong keys: exit %d, %s", code, stderr)
	}
	// Same key ids, other secrets: the fingerprint check.
	wrong := strings.Replace(string(original), " aes active ", " aes active AAAA", 1)
	if lines := strings.Split(string(original), "\n"); len(lines) > 3 {
		f := strings.Fields(lines[3])
		wrong = f[0] + " aes active " + strings.Fields(testkit.TestKeysAES)[3] + "\n" + lines[4]
	}
	code, _, stderr = run(t, map[string]string{"KEHU_KEYS": wrong}, "keys", "rotate", "--db", dbURL)
	if code != 1 || !strings.Contains(stderr, "fingerprint differs") {
		t.Errorf("wrong secret: exit %d, %s", code, stderr)
	}
	if snapshot(t, dir) != dbBefore {
		t.Error("a refused start changed the stored values or keys")
	}

	// Rotate: a new sm active key, the old one kept as data.
	code, line, _ := run(t, nil, "keys", "generate", "--suite", "sm")
	if code != 0 || !strings.Contains(line, " sm active ") {
		t.Fatalf("keys generate: %d %q", code, line)
	}
	rotated := strings.Replace(string(original), " aes active ", " aes data ", 1) + line
	if err := os.WriteFile(keyPath, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, nil, "keys", "rotate", "--db", dbURL, "--batch", "7")
	if code != 0 || !strings.Contains(stdout, "customers: 30 rows re-encrypted") || !strings.Contains(stdout, "retired keys") {
		t.Fatalf("rotate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, nil, "keys", "rotate", "--db", dbURL)
	if code != 0 || !strings.Contains(stdout, "every value is under key "+strings.Fields(line)[0]) {
		t.Errorf("second rotate: %d %s", code, stdout)
	}
}

func TestKeysUsage(t *testing.T) {
	for _, args := range [][]string{{"keys"}, {"keys", "burn"}, {"keys", "generate", "--suite", "des"}, {"keys", "generate", "--purpose", "x"}} {
		if code, _, _ := run(t, nil, args...); code != 2 {
			t.Errorf("kehu %v: exit %d, want 2", args, code)
		}
	}
	code, _, stderr := run(t, nil, "keys", "rotate", "--db", "postgres://nobody@127.0.0.1:1/x")
	if code != 1 || !strings.Contains(stderr, "no encryption keys configured") {
		t.Errorf("postgres without keys: %d %s", code, stderr)
	}
}

// snapshot returns the sealed values and key records of the database in dir.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kehu.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var values, keys string
	if err := raw.QueryRow(`SELECT (SELECT group_concat(id_number || mobile || address, ',') FROM customers),
		(SELECT group_concat(key_id || fingerprint || retired, ',') FROM vault_keys)`).Scan(&values, &keys); err != nil {
		t.Fatal(err)
	}
	return values + "|" + keys
}
