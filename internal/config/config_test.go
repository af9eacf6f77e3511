package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func TestApplyEnv(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secret, []byte("s3cret-Pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEHU_DB": "postgres://x", "KEHU_ADDR": "from-env", "KEHU_PASSWORD_FILE": secret,
		"KEHU_CUSTOMERS": "12"}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	db := fs.String("db", DefaultDBURL, "")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	pw := fs.String("password", "", "")
	n := fs.Int("customers", 1, "")
	keep := fs.String("keep", "default", "")
	if err := fs.Parse([]string{"--addr", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *db != "postgres://x" || *addr != "from-flag" || *pw != "s3cret-Pass" || *n != 12 || *keep != "default" {
		t.Errorf("got db=%s addr=%s pw=%s n=%d keep=%s", *db, *addr, *pw, *n, *keep)
	}
	env["KEHU_CUSTOMERS"] = "many"
	fs2 := flag.NewFlagSet("t", flag.ContinueOnError)
	fs2.Int("customers", 1, "")
	_ = fs2.Parse(nil)
	if err := ApplyEnv(fs2, func(k string) string { return env[k] }); err == nil {
		t.Error("a non-number in KEHU_CUSTOMERS was accepted")
	}
}
