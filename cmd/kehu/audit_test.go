package main

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestAuditVerifyAndPurge(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			url := testkit.DBURL(t, engine)
			db, err := store.OpenWith(ctx, url, store.Options{Keys: testkit.Keys(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.RegisterKeys(ctx, time.Now()); err != nil {
				t.Fatal(err)
			}
			testkit.NewBank(t, db) // its 13 users and 5 customers each leave an audit record
			code, out, errOut := run(t, nil, "audit", "verify", "--db", url)
			if code != 0 || !strings.Contains(out, "audit trail OK: 18 records") {
				t.Fatalf("verify: %d %q %q", code, out, errOut)
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"--older-than", "90d"}, "at least 180 days"},
				{[]string{"--older-than", "soon"}, "want days (180d)"},
			} {
				code, _, errOut := run(t, nil, append([]string{"audit", "purge", "--db", url}, tc.args...)...)
				if code != 2 || !strings.Contains(errOut, tc.want) {
					t.Errorf("purge %v: %d %q", tc.args, code, errOut)
				}
			}
			if code, out, errOut := run(t, nil, "audit", "purge", "--db", url, "--older-than", "365d"); code != 0 ||
				!strings.Contains(out, "purged 0 audit records") {
				t.Fatalf("purge: %d %q %q", code, out, errOut)
			}
			tamper := []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET count = 99 WHERE id = 3"}
			if engine == "postgres" {
				tamper[0] = "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
			}
			for _, q := range tamper {
				if err := db.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(q); return err }); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			code, _, errOut = run(t, nil, "audit", "verify", "--db", url)
			if code != 1 || !strings.Contains(errOut, "BROKEN at record "+strconv.Itoa(3)) {
				t.Fatalf("verify tampered: %d %q", code, errOut)
			}
		})
	}
}
