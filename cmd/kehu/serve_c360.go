package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"kehu/internal/account"
	"kehu/internal/audit"
	"kehu/internal/c360"
	"kehu/internal/contact"
	"kehu/internal/customer"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/tag"
)

// c360Config is the customer 360's part of `kehu serve`.
type c360Config struct {
	quietDays int
}

// c360Flags registers --pitch-quiet-days (KEHU_PITCH_QUIET_DAYS).
func c360Flags(fs *flag.FlagSet) *c360Config {
	c := &c360Config{}
	fs.IntVar(&c.quietDays, "pitch-quiet-days", interaction.DefaultQuietDays,
		"days a product the customer declined is not pitched to them again (the 360 and the contact policy show it)")
	return c
}

func (c *c360Config) validate() error {
	if c.quietDays < 1 || c.quietDays > 365 {
		return usageError{"serve: --pitch-quiet-days must be between 1 and 365"}
	}
	return nil
}

// c360Services are the 360 view and the interaction and tag services.
type c360Services struct {
	view         *c360.Service
	interactions *interaction.Service
	tags         *tag.Service
	contact      *contact.Service // contact preferences; the campaign contact policy reads them (For)
}

// services wires the 360's services over the database.
func (c *c360Config) services(db *store.DB, clock kehu.Clock, trail audit.Recorder, customers *customer.Service,
	accounts *account.Service, levels c360.Leveler) c360Services {
	var s c360Services
	s.interactions = interaction.NewService(interaction.Deps{Store: db.Interactions(), Customers: customers, Clock: clock,
		Audit: trail, Tx: db, Config: interaction.Config{QuietDays: c.quietDays}})
	s.tags = tag.NewService(tag.Deps{Store: db.Tags(), Customers: customers, Clock: clock, Audit: trail, Tx: db})
	s.contact = contact.NewService(contact.Deps{Store: db.Contact(), Customers: customers, Clock: clock, Audit: trail,
		Tx: db})
	s.view = c360.NewService(c360.Deps{Store: db.C360(), Customers: customers, Accounts: accounts,
		Interactions: s.interactions, Tags: s.tags, Contact: s.contact, Clock: clock, Levels: levels})
	return s
}

// ensureTagCatalogue creates the built-in tags (高净值, 代发工资, 满意, 不满意, …)
// a database lacks; run when the server starts.
func ensureTagCatalogue(ctx context.Context, db *store.DB) error {
	if _, err := tag.EnsureDefaults(ctx, db.Tags(), time.Now()); err != nil {
		return fmt.Errorf("tag catalogue: %w", err)
	}
	return nil
}

// runTags is `kehu tags recompute --db URL [--json] [--restart] [--batch N]`:
// the bank-wide evaluation of every customer's computed tags (the nightly
// job runs the same). It resumes a run that died unless --restart; --json
// prints the run as one JSON object.
func runTags(ctx context.Context, e env, args []string) error {
	var restart bool
	var batch int
	return batchCommand[tag.Run]{name: "tags", verb: "recompute", flagsUsage: " [--restart] [--batch N]",
		flags: func(fs *flag.FlagSet) func() error {
			fs.BoolVar(&restart, "restart", false, "start afresh instead of resuming an unfinished run")
			fs.IntVar(&batch, "batch", tag.DefaultBatch, "customers per batch (each batch commits with the run's progress)")
			return func() error {
				if batch < 1 || batch > 50_000 {
					return usageError{"tags recompute: --batch must be between 1 and 50000"}
				}
				return nil
			}
		},
		run: func(ctx context.Context, e env, b batchDeps, quiet bool) (tag.Run, error) {
			svc := tag.NewService(tag.Deps{Store: b.db.Tags(), Customers: b.customers, Clock: b.clock, Audit: b.trail,
				Tx: b.db})
			start := time.Now()
			next := int64(100_000)
			return svc.RecomputeBank(ctx, tag.RunOptions{Trigger: "cli", Restart: restart, BatchSize: batch}, func(r tag.Run) {
				if !quiet && r.Customers >= next {
					fmt.Fprintf(e.stderr, "… %d customers (%.0f s)\n", r.Customers, time.Since(start).Seconds())
					next += 100_000
				}
			})
		},
		summary: func(run tag.Run, took time.Duration) string {
			resumed := ""
			if run.Resumed {
				resumed = " (resumed run)"
			}
			return fmt.Sprintf("computed tags of %d customers%s: %d added, %d removed, %d reasons updated in %.1f s",
				run.Customers, resumed, run.Added, run.Removed, run.Changed, took.Seconds())
		},
	}.main(ctx, e, args)
}
