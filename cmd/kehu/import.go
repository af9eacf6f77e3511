package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"kehu/internal/audit"
	"kehu/internal/config"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/search"
	"kehu/internal/store"
)

// importUsage is the help of `kehu import`.
const importUsage = `Usage:
  kehu import --db URL --kind KIND [--source SYSTEM] [--mapping JSON] [--rejects PATH] [--json] FILE
  kehu import --db URL --resume JOB [--rejects PATH] [--json] [FILE]
  kehu import --db URL --rollback JOB [--json]

KIND is customers, accounts, holdings, transactions, relationships or events; SYSTEM a
source system (core_banking, credit, cards, wealth, crm_legacy; default: the file's
source_system column). FILE is CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX.
Exit status 0 when the file was processed (rejected rows are reported, not fatal),
1 when it could not be processed at all, 2 for a wrong command line. docs/IMPORT.md.
`

// importFlags are the options of `kehu import`.
type importFlags struct {
	dbURL, keysFile, kind, source, mapping, rejects string
	json                                            bool
	resume, rollback                                int64
}

// parseImport parses flags given before and after FILE (the flag package
// stops at the first positional argument) and returns FILE ("" if none).
func parseImport(e env, fs *flag.FlagSet, args []string) (string, error) {
	file := ""
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			return "", usageError{fmt.Sprintf("import: one file at a time (got %q and %q)", file, fs.Arg(0))}
		}
		file, args = fs.Arg(0), fs.Args()[1:]
	}
	if err := config.ApplyEnv(fs, e.getenv); err != nil {
		return "", usageError{err.Error()}
	}
	return file, nil
}

func runImport(ctx context.Context, e env, args []string) error {
	fs := flags(e, "import")
	fs.Usage = func() { fmt.Fprint(e.stderr, importUsage) }
	var f importFlags
	fs.StringVar(&f.dbURL, "db", config.DefaultDBURL, "database URL: sqlite:PATH or postgres://...")
	keysFile := keysFlag(fs)
	fs.StringVar(&f.kind, "kind", "", "customers, accounts, holdings, transactions, relationships or events")
	fs.StringVar(&f.source, "source", "", "source system of the file (default: its source_system column)")
	fs.StringVar(&f.mapping, "mapping", "", `column mapping overrides as JSON: {"file header": "canonical column"}`)
	fs.StringVar(&f.rejects, "rejects", "", "write the rejected rows (line, column, reason) to this CSV file")
	fs.BoolVar(&f.json, "json", false, `end with one JSON line: {"accepted": N, "rejected": M, "merged": K, ...}`)
	fs.Int64Var(&f.resume, "resume", 0, "resume the interrupted or failed import job JOB from its checkpoint")
	fs.Int64Var(&f.rollback, "rollback", 0, "roll back import job JOB (what it created; see docs/IMPORT.md)")
	file, err := parseImport(e, fs, args)
	if err != nil {
		return err
	}
	f.keysFile = *keysFile
	switch {
	case f.rollback != 0 && (f.resume != 0 || file != ""):
		return usageError{"import: --rollback takes no file and no --resume"}
	case f.rollback == 0 && f.resume == 0 && (file == "" || f.kind == ""):
		return usageError{"import: give --kind and a FILE (or --resume JOB, or --rollback JOB)"}
	case f.kind != "" && !importer.ValidKind(f.kind):
		return usageError{fmt.Sprintf("import: --kind %q: use one of %s", f.kind, strings.Join(importer.Kinds, ", "))}
	}
	var mapping map[string]string
	if f.mapping != "" {
		if err := json.Unmarshal([]byte(f.mapping), &mapping); err != nil {
			return usageError{"import: --mapping is not a JSON object of strings: " + err.Error()}
		}
	}
	if os.Getenv("GOGC") == "" {
		// A one-off import process trades memory for CPU: at the default
		// GOGC=100 the collector took 12% of a million-row load's CPU. At
		// ImportGCPercent the heap may grow to five times what is live (a
		// few hundred MB) and is collected a quarter as often. GOGC in the
		// environment wins.
		defer debug.SetGCPercent(debug.SetGCPercent(importer.ImportGCPercent))
	}
	db, err := openKeyedDB(ctx, e, f.dbURL, f.keysFile, true, func(msg string) { fmt.Fprintln(e.stderr, msg) })
	if err != nil {
		return err
	}
	defer db.Close()
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	levels := level.NewService(level.Deps{Store: db.Levels(), Clock: clock, Audit: trail, Tx: db, Logger: logger})
	engine, err := newImportEngine(db, trail, clock, logger, levels)
	if err != nil {
		return err
	}
	ctx = operatorContext(ctx)
	if f.rollback != 0 {
		return rollbackImport(ctx, e, db, engine, f)
	}
	job, path, err := importJob(ctx, db, f, file, mapping)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "import job %d: %s from %s (%s)\n", job.ID, job.Kind, job.SourceSystem, job.FileName)
	done, runErr := engine.Run(ctx, job, path, nil)
	if done.ID == 0 {
		done = job
	}
	if f.rejects != "" && done.ID != 0 {
		if err := writeRejectFile(ctx, db, done.ID, f.rejects); err != nil {
			return err
		}
	}
	printImport(e, done, f.json)
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted at line %d: resume with kehu import --resume %d", done.CheckpointLine, done.ID)
		}
		return runErr
	}
	return nil
}

// newImportEngine wires the import engine over db, as `kehu serve` and
// `kehu import` both run it: names get their search key, and accounts and
// holdings batches end with the level engine's recompute of the customers
// they touched (AUM and level).
func newImportEngine(db *store.DB, trail *audit.Log, clock kehu.Clock, logger *slog.Logger,
	levels *level.Service) (*importer.Engine, error) {
	sealer, err := db.ImportSealer()
	if err != nil {
		return nil, err
	}
	ids := identity.NewService(identity.Deps{Store: db.Identity(), Tx: db, Audit: trail})
	return importer.NewEngine(importer.EngineDeps{Store: db.Imports(), Identity: ids, Tx: db, Audit: trail, Clock: clock,
		Sealer: sealer, Logger: logger, NameKey: search.NameKey, DeferIndexesFrom: store.DeferIndexesFrom, Recompute: func(ctx context.Context, ids []int64) error {
			_, err := levels.RecomputeCustomers(ctx, ids)
			return err
		}}), nil
}

// importJob creates the job of a new import, or loads the one to resume.
func importJob(ctx context.Context, db *store.DB, f importFlags, file string, mapping map[string]string) (importer.Job, string, error) {
	if f.resume != 0 {
		j, err := db.Imports().Job(ctx, f.resume)
		if err != nil {
			return j, "", err
		}
		path := j.FilePath
		if file != "" {
			sum, _, err := hashFile(file)
			if err != nil {
				return j, "", err
			}
			if sum != j.SHA256 {
				return j, "", kehu.Errorf(kehu.EINVALID, "%s is not the file job %d imported (its SHA-256 differs)", file, j.ID)
			}
			path = file
		}
		return j, path, nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return importer.Job{}, "", err
	}
	sum, size, err := hashFile(abs)
	if err != nil {
		return importer.Job{}, "", err
	}
	source := f.source
	if source == "" {
		if source, err = sourceColumn(abs, f.kind, mapping); err != nil {
			return importer.Job{}, "", err
		}
	}
	a, _ := kehu.ActorFrom(ctx)
	j, err := db.Imports().CreateJob(ctx, importer.Job{Kind: f.kind, FileName: filepath.Base(abs), SHA256: sum,
		FileSize: size, FilePath: abs, SourceSystem: source, Mapping: mapping, Status: importer.StatusQueued,
		CreatedByName: a.Username, ActorRole: a.Role, CreatedAt: kehu.SystemClock{}.Now()})
	return j, abs, err
}

// sourceColumn reads the source system from the first data row's
// source_system column, for a file imported without --source.
func sourceColumn(path, kind string, mapping map[string]string) (string, error) {
	src, err := importer.OpenFile(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	m, err := importer.SuggestMapping(kind, src.Header(), mapping)
	if err != nil {
		return "", err
	}
	col := -1
	for i, c := range m.Columns {
		if c == "source_system" {
			col = i
		}
	}
	row, err := src.Next()
	if col < 0 || err != nil || col >= len(row.Cells) || strings.TrimSpace(row.Cells[col]) == "" {
		return "", usageError{"import: give --source SYSTEM (the file has no source_system column to take it from)"}
	}
	return importer.Clean(row.Cells[col]), nil
}

// hashFile returns the SHA-256 and size of a file, read as a stream.
func hashFile(path string) (string, int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", 0, kehu.Errorf(kehu.EINVALID, "cannot open %s: %v", path, err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return "", 0, kehu.Errorf(kehu.EINVALID, "cannot read %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeRejectFile writes a job's rejects to path as CSV.
func writeRejectFile(ctx context.Context, db *store.DB, id int64, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return kehu.Errorf(kehu.EINVALID, "cannot write the rejects to %s: %v", path, err)
	}
	err = importer.WriteRejectCSV(ctx, db.Imports(), id, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// printImport reports a job: a readable line, then with asJSON one JSON
// object as the last line.
func printImport(e env, j importer.Job, asJSON bool) {
	c := j.Counts
	fmt.Fprintf(e.stdout, "import job %d %s: %d rows, %d accepted (%d created, %d updated, %d unchanged; %d merged), "+
		"%d rejected, %d suspected duplicates\n", j.ID, j.Status, c.Total, c.Accepted, c.Created, c.Updated, c.Unchanged,
		c.Merged, c.Rejected, c.Suspected)
	if j.Error != "" {
		fmt.Fprintf(e.stdout, "  %s\n", j.Error)
	}
	if !asJSON {
		return
	}
	out := map[string]any{"job": j.ID, "status": j.Status, "kind": j.Kind, "source_system": j.SourceSystem,
		"encoding": j.Encoding, "total": c.Total, "accepted": c.Accepted, "rejected": c.Rejected, "created": c.Created,
		"updated": c.Updated, "unchanged": c.Unchanged, "merged": c.Merged, "suspected_duplicates": c.Suspected,
		"checkpoint_line": j.CheckpointLine}
	if j.Error != "" {
		out["error"] = j.Error
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(e.stdout, string(b))
}

// rollbackImport undoes what a job created and reports it.
func rollbackImport(ctx context.Context, e env, db *store.DB, engine *importer.Engine, f importFlags) error {
	j, err := db.Imports().Job(ctx, f.rollback)
	if err != nil {
		return err
	}
	j, res, err := engine.Rollback(ctx, j)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "import job %d rolled back: %d customers removed (%d kept: referenced since), %d links, "+
		"%d accounts (%d kept), %d holdings, %d transactions, %d relationships, %d events, %d suspected duplicates\n",
		j.ID, res.Customers, res.CustomersKept, res.Links, res.Accounts, res.AccountsKept, res.Holdings, res.Transactions,
		res.Relationships, res.Events, res.Duplicates)
	if f.json {
		b, _ := json.Marshal(map[string]any{"job": j.ID, "status": j.Status, "rollback": res})
		fmt.Fprintln(e.stdout, string(b))
	}
	return nil
}
