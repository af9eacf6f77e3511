package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/search"
)

// testLog writes a log line to the test's output.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p))
	return len(p), nil
}

// RunImport imports content (a file of kind from source) synchronously, as
// `kehu import` does at the shell (whole bank, actor cli:test), and returns
// the finished job. For tests that need customers with source records and
// field provenance.
func (b *Bank) RunImport(t testing.TB, kind, source, name string, content []byte) importer.Job {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := kehu.WithActor(context.Background(), kehu.Actor{Username: "cli:test", Role: "operator"})
	sum := sha256.Sum256(content)
	j, err := b.DB.Imports().CreateJob(ctx, importer.Job{Kind: kind, FileName: name, SHA256: hex.EncodeToString(sum[:]),
		FileSize: int64(len(content)), FilePath: path, SourceSystem: source, Status: importer.StatusQueued,
		CreatedByName: "cli:test", CreatedAt: b.Clock.Now()})
	if err != nil {
		t.Fatalf("create import job: %v", err)
	}
	sealer, err := b.DB.ImportSealer()
	if err != nil {
		t.Fatal(err)
	}
	// Rows the database refuses are logged with the reason; the test shows it.
	eng := importer.NewEngine(importer.EngineDeps{Store: b.DB.Imports(), Identity: b.IdentityService(), Tx: b.DB,
		Audit: b.Audit, Clock: b.Clock, Sealer: sealer, NameKey: search.NameKey,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))})
	if j, err = eng.Run(ctx, j, path, nil); err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return j
}
