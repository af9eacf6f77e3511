package importer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// harness imports files into a test bank as an operator at the shell
// would (`kehu import`): a job row, then the engine over the file.
type harness struct {
	t      testing.TB
	bank   *testkit.Bank
	db     *store.DB
	raw    *sql.DB // a plain handle on the same database, for reads
	engine *importer.Engine
	dir    string
}

func newHarness(t testing.TB, db *store.DB, raw *sql.DB) *harness {
	t.Helper()
	b := testkit.NewBank(t, db)
	return &harness{t: t, bank: b, db: db, raw: raw, engine: b.ImportEngine(t, 0), dir: t.TempDir()}
}

// operator is the context of `kehu import`: the person at the shell.
func (h *harness) operator() context.Context {
	return kehu.WithActor(context.Background(), kehu.Actor{Username: "cli:test", Role: "operator"})
}

// file writes content to a file named name and returns its path.
func (h *harness) file(name string, content []byte) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// csvBytes renders rows as CSV.
func csvBytes(rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows)
	return b.Bytes()
}

// job creates the job of an import of path.
func (h *harness) job(kind, source, path string) importer.Job {
	h.t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	j, err := h.db.Imports().CreateJob(h.operator(), importer.Job{Kind: kind, FileName: filepath.Base(path),
		SHA256: hex.EncodeToString(sum[:]), FileSize: int64(len(raw)), FilePath: path, SourceSystem: source,
		Status: importer.StatusQueued, CreatedByName: "cli:test", CreatedAt: h.bank.Clock.Now()})
	if err != nil {
		h.t.Fatalf("create job: %v", err)
	}
	return j
}

// run imports content as kind from source and returns the finished job
// and its rejects.
func (h *harness) run(kind, source, name string, content []byte) (importer.Job, []importer.Reject) {
	h.t.Helper()
	path := h.file(name, content)
	j, err := h.engine.Run(h.operator(), h.job(kind, source, path), path, nil)
	if err != nil {
		h.t.Fatalf("import %s: %v", name, err)
	}
	return j, h.rejects(j.ID)
}

func (h *harness) rejects(id int64) []importer.Reject {
	h.t.Helper()
	var out []importer.Reject
	if err := h.db.Imports().Rejects(context.Background(), id, func(r importer.Reject) error {
		out = append(out, r)
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// customerBySource returns the customer a source record is linked to.
func (h *harness) customerBySource(source, id string) customer.Customer {
	h.t.Helper()
	links, err := h.db.Identity().Links(context.Background(), source, []string{id})
	if err != nil {
		h.t.Fatal(err)
	}
	l := links[id]
	if l == nil {
		h.t.Fatalf("no customer linked to %s %s", source, id)
	}
	c, err := h.db.Customers().GetCustomer(context.Background(), l.CustomerID, customer.ScopeFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// count returns the rows of a table.
func (h *harness) count(table string) int64 {
	h.t.Helper()
	n, err := h.db.CountRows(context.Background(), table)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// rid returns a valid resident ID from its first 17 digits.
func rid(first17 string) string { return testkit.ResidentID(first17) }

// rejectAt finds the reject of a line and column.
func rejectAt(rs []importer.Reject, line int64, col string) (importer.Reject, bool) {
	for _, r := range rs {
		if r.Line == line && r.Column == col {
			return r, true
		}
	}
	return importer.Reject{}, false
}

func mustReject(t testing.TB, rs []importer.Reject, line int64, col, contains string) {
	t.Helper()
	r, ok := rejectAt(rs, line, col)
	if !ok {
		t.Errorf("no reject at line %d column %q; rejects: %+v", line, col, rs)
		return
	}
	if !strings.Contains(r.Reason, contains) {
		t.Errorf("reject at line %d %s: %q does not say %q", line, col, r.Reason, contains)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
