package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"kehu/internal/demo"

	"golang.org/x/text/width"
	"kehu/internal/store"
)

// defaultDemoPassword is the password of every demo user unless
// --demo-password / KEHU_DEMO_PASSWORD says otherwise. It is public: the demo
// bank holds synthetic people only.
const defaultDemoPassword = "Kehu-Demo-2026"

func runDemo(ctx context.Context, e env, args []string) error {
	fs := flags(e, "demo")
	dbURL := dbFlag(fs)
	customers := fs.Int("customers", 10000, "number of customers to generate")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same bank")
	password := fs.String("password", defaultDemoPassword, "password of every demo user")
	keysFile := keysFlag(fs)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	db, err := openKeyedDB(ctx, e, *dbURL, *keysFile, true, func(msg string) { fmt.Fprintln(e.stderr, msg) })
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := generateDemo(ctx, e, db, *customers, *seed, *password)
	if err != nil {
		return err
	}
	printLogins(e.stdout, res.Logins)
	return nil
}

// generateDemo builds the demo bank, reporting progress on stderr.
func generateDemo(ctx context.Context, e env, db *store.DB, customers int, seed int64, password string) (demo.Result, error) {
	fmt.Fprintf(e.stderr, "creating a demo bank with %d customers (seed %d)...\n", customers, seed)
	last := time.Time{}
	res, err := demo.Generate(ctx, db, demo.Options{Customers: customers, Seed: seed, Password: password,
		Progress: func(stage string, done, total int64) {
			if time.Since(last) < 2*time.Second && done != total {
				return
			}
			last = time.Now()
			fmt.Fprintf(e.stderr, "  %s: %d/%d\n", stage, done, total)
		}})
	if err != nil {
		return res, err
	}
	fmt.Fprintf(e.stderr, "demo bank ready in %s\n", res.Elapsed.Round(100*time.Millisecond))
	return res, nil
}

// ensureDemo creates the demo bank when the database has no organisation yet
// and otherwise lists who can log in, so `make run` is one command both the
// first time and every time after.
func ensureDemo(ctx context.Context, e env, db *store.DB, customers int, password string) error {
	n, err := db.Orgs().CountOrgs(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		res, err := generateDemo(ctx, e, db, customers, 1, password)
		if err != nil {
			return err
		}
		printLogins(e.stdout, res.Logins)
		return nil
	}
	users, err := db.Users().ListUsers(ctx)
	if err != nil {
		return err
	}
	orgs, err := db.Orgs().ListOrgs(ctx)
	if err != nil {
		return err
	}
	orgName := make(map[int64]string, len(orgs))
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}
	// The first users in id order, then the first user of any role not among
	// them yet (the demo plans the data steward and integration account
	// last), so every role can be tried.
	const shown = 30
	logins := make([]demo.Login, 0, shown)
	has := map[string]bool{}
	for _, u := range users {
		if u.Disabled || len(logins) >= shown && has[u.Role] {
			continue
		}
		has[u.Role] = true
		logins = append(logins, demo.Login{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
			OrgName: orgName[u.OrgID], Password: password})
	}
	fmt.Fprintf(e.stdout, "The database already holds a bank with %d users; the first %d (demo users were given the password below unless it was changed since):\n", len(users), len(logins))
	printLogins(e.stdout, logins)
	return nil
}

// printLogins writes the table of demo logins, aligned for a terminal:
// Chinese characters take two columns, which text/tabwriter does not know.
func printLogins(w io.Writer, logins []demo.Login) {
	rows := [][]string{{"USERNAME", "PASSWORD", "ROLE", "ORGANISATION", "NAME"}}
	for _, l := range logins {
		rows = append(rows, []string{l.Username, l.Password, l.Role, l.OrgName, l.DisplayName})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
