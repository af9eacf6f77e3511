package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kehu/internal/testkit"
)

// lastJSON decodes the last line of a command's output.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line is not JSON: %q", out)
	}
	return m
}

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "k.db")
	if code, _, stderr := run(t, nil, "init", "--db", db, "--bank", "测试银行", "--username", "root",
		"--password", "Strong-pass-2026!"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	file := filepath.Join(dir, "c.csv")
	content := "客户号,姓名,证件号码,手机号码,机构号\n" +
		"A1,白露," + testkit.ResidentID("33010619900909001") + ",13300000001,HO\n" +
		"A2,白霜,330106199009090000,13300000002,HO\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	rejects := filepath.Join(dir, "rejects.csv")
	code, out, stderr := run(t, nil, "import", "--db", db, "--kind", "customers", "--source", "core_banking",
		"--rejects", rejects, file, "--json")
	if code != 0 {
		t.Fatalf("import: exit %d %s %s", code, out, stderr)
	}
	m := lastJSON(t, out)
	if m["accepted"] != 1.0 || m["rejected"] != 1.0 || m["merged"] != 0.0 || m["created"] != 1.0 || m["status"] != "done" {
		t.Errorf("summary %v", m)
	}
	report, err := os.ReadFile(rejects)
	if err != nil || !strings.Contains(string(report), "3,id_number,") || strings.Contains(string(report), "330106199009090000") {
		t.Errorf("rejects file %q %v", report, err)
	}
	// The same file again changes nothing.
	code, out, _ = run(t, nil, "import", "--db", db, "--kind", "customers", "--source", "core_banking", "--json", file)
	if m := lastJSON(t, out); code != 0 || m["created"] != 0.0 || m["updated"] != 0.0 || m["unchanged"] != 1.0 {
		t.Errorf("second import: exit %d %v", code, m)
	}
	// A file that cannot be processed at all: exit 1 with the reason.
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("foo,bar\n1,2\n"), 0o600)
	code, out, stderr = run(t, nil, "import", "--db", db, "--kind", "customers", "--source", "core_banking", "--json", bad)
	if code != 1 || !strings.Contains(stderr, "no column for") || lastJSON(t, out)["status"] != "failed" {
		t.Errorf("unprocessable file: exit %d %q %q", code, out, stderr)
	}
	// Usage mistakes exit 2.
	for _, args := range [][]string{{"import", "--db", db, file}, {"import", "--db", db, "--kind", "loans", file},
		{"import", "--db", db, "--kind", "customers", file, "other.csv"}} {
		if code, _, _ := run(t, nil, args...); code != 2 {
			t.Errorf("kehu %v: exit %d, want 2", args, code)
		}
	}
	// Without --source the file's source_system column names the system.
	withSource := filepath.Join(dir, "s.csv")
	_ = os.WriteFile(withSource, []byte("source_system,客户号,姓名,证件号码,机构号\nwealth,W1,白云,"+
		testkit.ResidentID("33010619900909002")+",HO\n"), 0o600)
	code, out, stderr = run(t, nil, "import", "--db", db, "--kind", "customers", "--json", withSource)
	if m := lastJSON(t, out); code != 0 || m["source_system"] != "wealth" || m["created"] != 1.0 {
		t.Errorf("source from the file: exit %d %v %s", code, m, stderr)
	}
	// Roll back the first job: its one customer nobody has looked at goes.
	code, out, stderr = run(t, nil, "import", "--db", db, "--rollback", "1", "--json")
	if code != 0 || !strings.Contains(out, "1 customers removed") {
		t.Errorf("rollback: exit %d %q %q", code, out, stderr)
	}
}
