package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// runAudit checks and prunes the audit trail from the server's shell: verify
// walks the hash chain, purge applies the retention period.
func runAudit(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{"audit: want verify or purge"}
	}
	sub, rest := args[0], args[1:]
	fs := flags(e, "audit "+sub)
	dbURL := dbFlag(fs)
	var olderThan *string
	switch sub {
	case "verify":
	case "purge":
		olderThan = fs.String("older-than", "180d", "delete records older than this (e.g. 180d, 365d; at least 180d)")
	default:
		return usageError{fmt.Sprintf("audit: unknown subcommand %q (want verify or purge)", sub)}
	}
	if err := parse(e, fs, rest); err != nil {
		return err
	}
	var age time.Duration
	if olderThan != nil {
		var err error
		if age, err = parseAge(*olderThan); err != nil {
			return usageError{"audit purge: --older-than: " + err.Error()}
		}
		if age < audit.MinRetention {
			return usageError{fmt.Sprintf("audit purge: --older-than %s: audit records must be kept at least %d days",
				*olderThan, int(audit.MinRetention/(24*time.Hour)))}
		}
	}
	db, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	log := audit.NewLog(db.Audit(), db, kehu.SystemClock{})
	if sub == "purge" {
		cp, err := log.Purge(ctx, age)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "purged %d audit records written before %s\n", cp.Purged, cp.Cutoff.Format(time.RFC3339))
		return nil
	}
	res, err := log.Verify(ctx)
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("audit trail BROKEN at record %d (%s); %d records checked", res.BrokenID, res.Reason, res.Records)
	}
	fmt.Fprintf(e.stdout, "audit trail OK: %d records\n", res.Records)
	return nil
}

// parseAge reads "180d" (days) or a Go duration such as "4320h".
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want days (180d) or a duration (4320h)", s)
	}
	return d, nil
}
