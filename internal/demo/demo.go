// Package demo builds a deterministic synthetic bank for demonstrations,
// tests and benchmarks: an organisation tree in real cities, staff of every
// role, a product catalogue, and customers with valid Chinese identifiers,
// accounts, holdings, twelve months of transactions and channel events.
//
// The same Seed, Customers and Now give the same rows, byte for byte (only
// the password hash, which has a random salt, differs). Every customer is
// drawn from its own random stream derived from (Seed, customer index), so
// customers are generated in parallel and streamed to the database in
// batches without the result depending on scheduling.
package demo

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/auth"
	"kehu/internal/kehu"
	"kehu/internal/store"
)

// Options says what demo bank to build.
type Options struct {
	// Customers is the number of customers, individual and corporate.
	Customers int
	// Seed selects the bank: the same seed and Customers give identical data.
	Seed int64
	// Password is the password of every demo user.
	Password string
	// Now is "today", the end of the twelve months of history; zero means
	// time.Now(). Tests fix it so generated dates do not drift.
	Now time.Time
	// Progress, if set, is told how far each stage has come, at most a few
	// times per second and once when a stage completes.
	Progress func(stage string, done, total int64)
}

// Login is one demo user a person can sign in as, for the table the CLI
// prints.
type Login struct {
	Username, DisplayName, Role, OrgName, Password string
}

// Result reports what Generate built.
type Result struct {
	// Logins are the admin and a selection of users of every role at the
	// head office, the first branches and several outlets (not every user).
	Logins []Login
	// Counts are the rows written per table.
	Counts  map[string]int64
	Elapsed time.Duration
}

// MaxCustomers bounds Options.Customers; the identifiers the generator
// builds stay unique far beyond it, but a larger demo is a mistake.
const MaxCustomers = 20_000_000

// Generate builds the demo bank in an empty, migrated database. It refuses
// (ECONFLICT) a database that already has organisations, since demo rows
// use fixed ids and would collide with or pollute a real bank.
func Generate(ctx context.Context, db *store.DB, opt Options) (Result, error) {
	began := time.Now()
	if err := opt.validate(); err != nil {
		return Result{}, err
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	n, err := db.Orgs().CountOrgs(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	if n > 0 {
		return Result{}, kehu.Errorf(kehu.ECONFLICT,
			"the database already holds %d organisations: the demo bank needs an empty database", n)
	}
	// One hash for every demo user: argon2id at 64 MiB takes a noticeable
	// fraction of a second, and thousands of users share the password anyway.
	hash, err := auth.HashPassword(opt.Password, auth.DefaultArgon2)
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	b := planBank(opt.Seed, opt.Customers, opt.Now)
	counts, err := write(ctx, db, b, hash, opt)
	if err != nil {
		return Result{}, err
	}
	if err := recomputeLevels(ctx, db, opt.Now, opt.Progress); err != nil {
		return Result{}, err
	}
	return Result{Logins: b.logins(opt.Password), Counts: counts, Elapsed: time.Since(began)}, nil
}

// validate checks the options a caller controls.
func (o Options) validate() error {
	var v kehu.Validation
	if o.Customers < 1 || o.Customers > MaxCustomers {
		v.Add("customers", fmt.Sprintf("must be between 1 and %d", MaxCustomers))
	}
	if reason := auth.CheckPolicy(o.Password); reason != "" {
		v.Add("password", reason)
	}
	return v.Err()
}
