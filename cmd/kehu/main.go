// Command kehu is the whole CRM in one binary: the web UI and JSON API server
// and the operator commands that prepare its database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"kehu/internal/config"
	"kehu/internal/kehu"
	"kehu/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usage = `kehu — bank-grade CRM

Usage:
  kehu serve   [--addr 127.0.0.1:8080] [--db URL] [--demo-customers N]   serve the UI and the API
  kehu migrate [--db URL]                                                apply schema migrations
  kehu init    --bank NAME --username U --password P [--db URL]         an empty bank with one admin
  kehu demo    [--db URL] [--customers N] [--seed S] [--password P]      a synthetic demo bank
  kehu user    add|passwd|disable|enable ...                            manage users
  kehu keys    generate [--suite aes|sm] [--purpose P]                  print a new key line
  kehu keys    rotate [--db URL] [--keys-file F]                        re-encrypt under the active key (resumable)
  kehu audit   verify|purge [--db URL] [--older-than 180d]              check the audit chain; apply retention
  kehu import  --kind KIND [--source S] [--rejects PATH] [--json] FILE  import a CSV/XLSX file (docs/IMPORT.md)
  kehu tags    recompute [--db URL] [--json]                             evaluate every customer's computed tags
  kehu levels  recompute [--db URL] [--json]                             recompute every customer's level (nightly job)
  kehu quality measure [--db URL] [--json]                               measure data quality (nightly job)
  kehu version

The database URL is sqlite:PATH (default sqlite:data/kehu.db) or postgres://...
Every flag can also be set as KEHU_<FLAG> (KEHU_DB, KEHU_DEMO_PASSWORD, ...) or
read from the file named by KEHU_<FLAG>_FILE.
`

// env is what one command invocation sees of the outside world; tests pass
// their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError is a mistake in the command line: exit status 2, not 1.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs one command and returns the process exit status: 0 on success, 2
// for a wrong command line, 1 for any other failure.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, e, rest)
	case "migrate":
		err = runMigrate(ctx, e, rest)
	case "init":
		err = runInit(ctx, e, rest)
	case "demo":
		err = runDemo(ctx, e, rest)
	case "user":
		err = runUser(ctx, e, rest)
	case "keys":
		err = runKeys(ctx, e, rest)
	case "audit":
		err = runAudit(ctx, e, rest)
	case "import":
		err = runImport(ctx, e, rest)
	case "tags":
		err = runTags(ctx, e, rest)
	case "levels":
		err = runLevels(ctx, e, rest)
	case "quality":
		err = runQuality(ctx, e, rest)
	case "version":
		fmt.Fprintln(stdout, "kehu", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "kehu: %s\nRun 'kehu help' for usage.\n", ue.msg)
		return 2
	}
	fmt.Fprintf(stderr, "kehu: %s\n", describe(err))
	return 1
}

// describe turns an error into the line an operator reads: the message of a
// domain error with its field reasons, or the wrapped chain otherwise.
func describe(err error) string {
	if kehu.ErrorCode(err) == kehu.EINTERNAL {
		return err.Error()
	}
	msg := kehu.ErrorMessage(err)
	for _, f := range kehu.ErrorFields(err) {
		msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Reason)
	}
	return msg
}

// flags returns a FlagSet for a subcommand that reports errors instead of
// exiting and prints its help to stderr.
func flags(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("kehu "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses args, then fills unset flags from KEHU_* variables, and
// refuses stray positional arguments.
func parse(e env, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	if err := config.ApplyEnv(fs, e.getenv); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// dbFlag registers the --db flag every database command has.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", config.DefaultDBURL, "database URL: sqlite:PATH or postgres://...")
}

// openDB opens the database and brings its schema up to date, so every
// command works on a fresh file.
func openDB(ctx context.Context, url string) (*store.DB, error) {
	db, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func runMigrate(ctx context.Context, e env, args []string) error {
	fs := flags(e, "migrate")
	dbURL := dbFlag(fs)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "schema is up to date (version %d)\n", v)
		return nil
	}
	for _, name := range applied {
		fmt.Fprintf(e.stdout, "applied %s\n", name)
	}
	fmt.Fprintf(e.stdout, "schema version %d\n", v)
	return nil
}
