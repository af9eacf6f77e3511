package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"
	"strings"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/store"
)

// importServeConfig is the imports' part of `kehu serve` (docs/IMPORT.md):
// where uploads wait for their job and how large they may be. After
// wiring it holds the runner that serve starts and stops.
type importServeConfig struct {
	dir    string
	maxMiB int64
	runner *importer.Runner
}

// importServeFlags registers --import-dir and --import-max-mib (also
// KEHU_IMPORT_DIR, KEHU_IMPORT_MAX_MIB).
func importServeFlags(fs *flag.FlagSet) *importServeConfig {
	c := &importServeConfig{maxMiB: importer.DefaultMaxUpload >> 20}
	fs.StringVar(&c.dir, "import-dir", "", "where uploaded import files wait for their job "+
		"(default: imports/ beside a SQLite database, else data/imports)")
	fs.Int64Var(&c.maxMiB, "import-max-mib", c.maxMiB, "largest import upload, in MiB (streamed to disk, never memory)")
	return c
}

func (c *importServeConfig) validate(dbURL string) error {
	if c.maxMiB < 1 || c.maxMiB > 64<<10 {
		return usageError{"serve: --import-max-mib must be between 1 and 65536"}
	}
	if c.dir == "" {
		c.dir = filepath.Join("data", "imports")
		if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
			c.dir = filepath.Join(filepath.Dir(path), "imports")
		}
	}
	return nil
}

// services wires the import service and its runner; nil without a
// configuration (tests and benchmarks that do not import).
func (c *importServeConfig) services(db *store.DB, clock kehu.Clock, trail *audit.Log, customers *customer.Service,
	levels *level.Service, logger *slog.Logger) (*importer.Service, error) {
	if c == nil {
		return nil, nil
	}
	engine, err := newImportEngine(db, trail, clock, logger, levels)
	if err != nil {
		return nil, err
	}
	svc := importer.NewService(importer.ServiceDeps{Engine: engine, Customers: customers, Dir: c.dir,
		MaxBytes: c.maxMiB << 20})
	c.runner = importer.NewRunner(svc, logger)
	return svc, nil
}

// start runs the import jobs until ctx ends; the returned function waits
// for the runner to stop (a job in progress keeps its checkpoint).
func (c *importServeConfig) start(ctx context.Context) (wait func()) {
	if c == nil || c.runner == nil {
		return func() {}
	}
	c.runner.Start(ctx)
	return c.runner.Wait
}
