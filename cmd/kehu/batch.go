package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
)

// batchCommand is the shape of the commands that run one of the bank-wide
// batch runs by hand (`kehu levels recompute`, `kehu quality measure`, `kehu
// tags recompute`): the same run the nightly job starts, claimed in the
// database, so a command and a server never run it twice at once. R is the
// module's run, printed as one JSON object with --json.
type batchCommand[R any] struct {
	name, verb string // `kehu <name> <verb>`
	flagsUsage string // the command's own flags for the usage line: " [--restart]"
	// flags declares the command's own flags and returns their check, made
	// after parsing; nil when the command has none.
	flags func(fs *flag.FlagSet) (check func() error)
	// run runs the batch; it may report progress on stderr unless quiet
	// (--json).
	run func(ctx context.Context, e env, b batchDeps, quiet bool) (R, error)
	// summary is the line printed without --json; took is how long the run
	// took.
	summary func(run R, took time.Duration) string
}

// batchDeps are what every batch command builds its module's service on: the
// keyed database (the runs open sealed fields), the system clock, the audit
// trail and the customer service.
type batchDeps struct {
	db        *store.DB
	clock     kehu.Clock
	trail     audit.Recorder
	customers *customer.Service
}

// main parses the command line, opens the keyed database, runs the batch and
// prints it.
func (c batchCommand[R]) main(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != c.verb {
		return usageError{fmt.Sprintf("%s: want `kehu %s %s --db URL [--json]%s`", c.name, c.name, c.verb, c.flagsUsage)}
	}
	fs := flags(e, c.name+" "+c.verb)
	dbURL := dbFlag(fs)
	keysFile := keysFlag(fs)
	asJSON := fs.Bool("json", false, "print the run as one JSON object")
	check := func() error { return nil }
	if c.flags != nil {
		check = c.flags(fs)
	}
	if err := parse(e, fs, args[1:]); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	db, err := openKeyedDB(ctx, e, *dbURL, *keysFile, true, func(msg string) { fmt.Fprintln(e.stderr, msg) })
	if err != nil {
		return err
	}
	defer db.Close()
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	b := batchDeps{db: db, clock: clock, trail: trail,
		customers: customer.NewService(customer.Deps{Store: db.Customers(), Clock: clock, Audit: trail, Tx: db})}
	began := time.Now()
	run, err := c.run(ctx, e, b, *asJSON)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(run)
	}
	fmt.Fprintln(e.stdout, c.summary(run, time.Since(began)))
	return nil
}
