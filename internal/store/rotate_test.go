package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/vault"
)

// TestRotateKeys rotates to a new active key in small batches, kills the
// rotation after its first batch, checks every value is still readable
// half-way, resumes, and checks every value ends under the new key and the
// old key is retired.
func TestRotateKeys(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			url, b, raw := vaultDB(t, engine)
			// A TOTP seed sealed by the auth service under the old key.
			const seed = "JBSWY3DPEHPK3PXP"
			sealedSeed, err := b.DB.Keys().Encrypt("auth_state.totp_secret", seed)
			must(t, err)
			must(t, b.DB.Users().SetTOTPSecret(ctx, b.Users["rm_a"].ID, sealedSeed))
			newActive, err := vault.GenerateKeyLine(vault.SuiteSM, vault.Active, bulkNow)
			must(t, err)
			lines := strings.SplitAfter(testkit.TestKeysAES, "\n")
			rotated := newActive + "\n" + strings.Replace(lines[0], " active ", " data ", 1) + lines[1]
			db := openWithKeys(t, url, rotated)
			must(t, db.RegisterKeys(ctx, bulkNow))
			newID := db.Keys().ActiveKeyID()

			// The first run is killed after one committed batch.
			kill, cancel := context.WithCancel(ctx)
			var firstLast int64
			_, err = db.RotateKeys(kill, store.RotateOptions{Batch: 2, Progress: func(table string, last, _ int64) {
				firstLast = last
				cancel()
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("killed rotation: %v", err)
			}
			mixed := rawColumn(t, raw, "customers", "mobile")
			under := map[string]int{}
			for _, v := range mixed {
				id, _ := vault.KeyIDOf(v)
				under[id]++
			}
			if under[newID] == 0 || under["t-aes-1"] == 0 {
				t.Fatalf("after one batch the keys are %v, want a mix", under)
			}
			// Half-way, every value opens, through the new keyring.
			p, err := db.Customers().ListCustomers(ctx, customer.Filter{Limit: 50})
			must(t, err)
			for _, c := range p.Items {
				if c.IDNumber != b.Customers[keyOf(b, c.ID)].IDNumber {
					t.Errorf("customer %d reads %q half-way", c.ID, c.IDNumber)
				}
			}

			// The second run resumes after the committed batch.
			var resumedAt int64 = -1
			res, err := db.RotateKeys(ctx, store.RotateOptions{Batch: 2, Progress: func(table string, last, _ int64) {
				if resumedAt < 0 && table == "customers" {
					resumedAt = last
				}
			}})
			must(t, err)
			if resumedAt <= firstLast {
				t.Errorf("resumed at id %d, the killed run had committed up to %d", resumedAt, firstLast)
			}
			if res.Rewritten["customers"] != int64(len(b.Customers)) || res.Rewritten["accounts"] != 4 ||
				res.Rewritten["auth_state"] != 1 {
				t.Errorf("rewritten %v", res.Rewritten)
			}
			if len(res.Retired) != 1 || res.Retired[0] != "t-aes-1" {
				t.Errorf("retired %v", res.Retired)
			}
			for _, col := range []struct{ table, col string }{{"customers", "id_number"}, {"customers", "mobile"},
				{"customers", "email"}, {"customers", "address"}, {"accounts", "account_no"}, {"auth_state", "totp_secret"}} {
				for _, v := range rawColumn(t, raw, col.table, col.col) {
					if v != "" && !strings.HasPrefix(v, "v1:"+newID+":") {
						t.Errorf("%s.%s still under an old key: %.20s", col.table, col.col, v)
					}
				}
			}
			// Search still works (the index key did not change), and the
			// old key may now leave the key file.
			without := openWithKeys(t, url, newActive+"\n"+lines[1])
			must(t, without.CheckKeys(ctx))
			if seeds := rawColumn(t, raw, "auth_state", "totp_secret"); len(seeds) != 1 {
				t.Errorf("auth_state holds %d seeds", len(seeds))
			} else if got, err := without.Keys().Decrypt("auth_state.totp_secret", seeds[0]); err != nil || got != seed {
				t.Errorf("TOTP seed after rotation opens as %q, %v", got, err)
			}
			svc := customer.NewService(customer.Deps{Store: without.Customers(), Clock: b.Clock, Audit: b.Audit, Tx: without})
			pg, err := svc.List(b.As("admin"), customer.Filter{Query: b.Customers["b1"].Mobile})
			must(t, err)
			if len(pg.Items) != 1 {
				t.Errorf("search by mobile after rotation found %d", len(pg.Items))
			}
			// A server still configured with the retired key as active is
			// refused: it would seal new values under it.
			stale := openWithKeys(t, url, testkit.TestKeysAES)
			if err := stale.CheckKeys(ctx); err == nil || !strings.Contains(err.Error(), "retired") {
				t.Errorf("retired active key: %v", err)
			}
			// Running rotate again is a no-op.
			again, err := db.RotateKeys(ctx, store.RotateOptions{})
			must(t, err)
			if again.Rewritten["customers"] != res.Rewritten["customers"] {
				t.Errorf("second rotation rewrote %v", again.Rewritten)
			}
		})
	}
}

func keyOf(b *testkit.Bank, id int64) string {
	for k, c := range b.Customers {
		if c.ID == id {
			return k
		}
	}
	return ""
}
