package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"kehu/internal/testkit"
)

// TestMain lets the durability test run this test binary as the real kehu
// server: with KEHU_TEST_AS_BINARY=1 it behaves exactly like cmd/kehu.
func TestMain(m *testing.M) {
	if os.Getenv("KEHU_TEST_AS_BINARY") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// run calls Main in-process with a private environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"migrate", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"migrate", "extra"}, `unexpected argument "extra"`},
		{[]string{"user"}, "want add, passwd, disable, enable or reset-totp"},
		{[]string{"user", "rename"}, `unknown subcommand "rename"`},
		{[]string{"user", "add", "--password", "x"}, "--username is required"},
		{[]string{"init", "--password", "x"}, "--bank is required"},
		{[]string{"serve", "--log-level", "loud", "--db", "sqlite:" + filepath.Join(t.TempDir(), "k.db")}, "--log-level"},
		{[]string{"serve", "--nightly-window", "23h", "--db", "sqlite:" + filepath.Join(t.TempDir(), "k.db")}, "--nightly-window 23h0m0s: want between 1m and 22h"},
		{[]string{"demo", "--customers", "many"}, "invalid value"},
	} {
		code, _, stderr := run(t, nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("kehu %v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestBadDatabases(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 400), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"mysql://x", "use sqlite:PATH or postgres://"},
		{"sqlite:", "needs a file path"},
		{"sqlite:" + junk, "is not a Kehu SQLite database"},
		{"postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "cannot connect to PostgreSQL"},
	} {
		code, _, stderr := run(t, nil, "migrate", "--db", tc.url)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("migrate --db %s: exit %d, stderr %q; want exit 1 mentioning %q", tc.url, code, stderr, tc.want)
		}
	}
}

// TestReadOnlyDatabase opens a database file the process may not write. File
// modes do not bind root, so when the suite runs as root (as in CI) the
// command runs as the unprivileged user nobody instead.
func TestReadOnlyDatabase(t *testing.T) {
	dir, err := os.MkdirTemp("", "kehu-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "k.db")
	if code, _, stderr := run(t, nil, "migrate", "--db", "sqlite:"+path); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	var code int
	var stderr string
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		code, _, stderr = run(t, nil, "migrate", "--db", "sqlite:"+path)
	} else {
		code, stderr = runAsNobody(t, dir, "migrate", "--db", "sqlite:"+path)
	}
	if code != 1 || !strings.Contains(stderr, "read-only") {
		t.Errorf("read-only database: exit %d, stderr %q", code, stderr)
	}
}

// runAsNobody runs this test binary as kehu under uid/gid 65534 from a copy
// in dir (which must be world-readable), returning exit status and stderr.
func runAsNobody(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "kehu.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = []string{"KEHU_TEST_AS_BINARY=1", "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	t.Fatalf("run as nobody: %v", err)
	return 0, ""
}

func TestMigrateInitAndUsers(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			url := testkit.DBURL(t, engine)
			env := map[string]string{"KEHU_DB": url}
			code, out, stderr := run(t, env, "migrate")
			if code != 0 || !strings.Contains(out, "applied 0001_foundation.sql") {
				t.Fatalf("first migrate: exit %d, out %q, err %q", code, out, stderr)
			}
			if code, out, _ = run(t, env, "migrate"); code != 0 || !strings.Contains(out, "up to date") {
				t.Fatalf("second migrate: exit %d, out %q", code, out)
			}
			if code, _, stderr = run(t, env, "init", "--bank", "测试银行", "--password", "short"); code != 1 || !strings.Contains(stderr, "at least") {
				t.Fatalf("init with a short password: exit %d, %q", code, stderr)
			}
			pwFile := filepath.Join(t.TempDir(), "pw")
			os.WriteFile(pwFile, []byte("Head-office-2026\n"), 0o600)
			env["KEHU_PASSWORD_FILE"] = pwFile
			if code, out, stderr = run(t, env, "init", "--bank", "测试银行"); code != 0 || !strings.Contains(out, "administrator admin") {
				t.Fatalf("init: exit %d, out %q, err %q", code, out, stderr)
			}
			if code, _, stderr = run(t, env, "init", "--bank", "again"); code != 1 || !strings.Contains(stderr, "already holds a bank") {
				t.Fatalf("second init: exit %d, %q", code, stderr)
			}
			delete(env, "KEHU_PASSWORD_FILE")
			add := []string{"user", "add", "--username", "rm_li", "--name", "李经理", "--password", "Rm-pass-2026", "--org", "1"}
			if code, _, stderr = run(t, env, append(add, "--role", "pilot")...); code != 1 || !strings.Contains(stderr, "role") {
				t.Fatalf("user add with a bad role: exit %d, %q", code, stderr)
			}
			if code, out, stderr = run(t, env, append(add, "--role", "relationship_manager")...); code != 0 || !strings.Contains(out, "user rm_li added") {
				t.Fatalf("user add: exit %d, out %q, err %q", code, out, stderr)
			}
			if code, _, stderr = run(t, env, append(add, "--role", "relationship_manager")...); code != 1 {
				t.Fatalf("duplicate user add: exit %d, %q", code, stderr)
			}
			for _, args := range [][]string{
				{"user", "passwd", "--username", "rm_li", "--password", "New-pass-2026"},
				{"user", "disable", "--username", "rm_li"},
				{"user", "enable", "--username", "rm_li"},
				{"user", "reset-totp", "--username", "rm_li"},
			} {
				if code, _, stderr = run(t, env, args...); code != 0 {
					t.Fatalf("%v: exit %d, %q", args, code, stderr)
				}
			}
			if code, _, stderr = run(t, env, "user", "disable", "--username", "nobody"); code != 1 {
				t.Fatalf("disable unknown user: exit %d, %q", code, stderr)
			}
			// Each successful account change is on the audit trail (init's admin,
			// rm_li added, passwd, disable, enable, reset-totp); refused ones
			// rolled back with their change.
			if code, out, stderr = run(t, env, "audit", "verify"); code != 0 || !strings.Contains(out, "OK: 6 records") {
				t.Fatalf("audit verify after user commands: exit %d, out %q, err %q", code, out, stderr)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := run(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "kehu ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := run(t, nil, "help"); code != 0 || !strings.Contains(out, "kehu serve") {
		t.Errorf("help: %d %q", code, out)
	}
}
