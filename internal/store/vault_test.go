package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/vault"
)

// vaultDB is a test bank with a portfolio on engine, plus its URL (to open
// it again with other keys) and a plain database/sql handle to read the
// stored bytes.
func vaultDB(t *testing.T, engine string) (string, *testkit.Bank, *sql.DB) {
	t.Helper()
	url := testkit.DBURL(t, engine)
	db := openWithKeys(t, url, testkit.TestKeysAES)
	must(t, db.RegisterKeys(context.Background(), bulkNow))
	b := testkit.NewBank(t, db)
	b.AddPortfolio(t)
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
	}
	raw, err := sql.Open(driver, dsn)
	must(t, err)
	t.Cleanup(func() { raw.Close() })
	return url, b, raw
}

func openWithKeys(t *testing.T, url, keys string) *store.DB {
	t.Helper()
	k, err := vault.ParseKeys(keys)
	must(t, err)
	db, err := store.OpenWith(context.Background(), url, store.Options{Keys: k})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(context.Background())
	must(t, err)
	return db
}

// rawColumn returns every value of a column, in id order.
func rawColumn(t *testing.T, raw *sql.DB, table, col string) []string {
	t.Helper()
	rows, err := raw.Query("SELECT " + col + " FROM " + table + " ORDER BY 1")
	must(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		must(t, rows.Scan(&v))
		out = append(out, v)
	}
	must(t, rows.Err())
	return out
}

// TestNoPlaintextAtRest reads the stored rows directly: no encrypted column
// and no blind index holds or contains a clear ID number, mobile or account
// number, and search by them still works.
func TestNoPlaintextAtRest(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			_, b, raw := vaultDB(t, engine)
			var secrets []string
			for _, c := range b.Customers {
				secrets = append(secrets, c.IDNumber)
				if c.Mobile != "" {
					secrets = append(secrets, c.Mobile, c.Mobile[3:])
				}
			}
			for i := 1; i <= 4; i++ {
				secrets = append(secrets, testkit.AccountNo(i), testkit.AccountNo(i)[6:])
			}
			for _, tc := range []struct{ table, col string }{{"customers", "id_number"}, {"customers", "mobile"},
				{"customers", "email"}, {"customers", "address"}, {"customers", "id_number_bidx"},
				{"customers", "mobile_bidx"}, {"accounts", "account_no"}, {"accounts", "account_no_bidx"}} {
				vals := rawColumn(t, raw, tc.table, tc.col)
				if len(vals) == 0 {
					t.Fatalf("%s.%s: no rows", tc.table, tc.col)
				}
				for _, v := range vals {
					for _, s := range secrets {
						if strings.Contains(v, s) {
							t.Errorf("%s.%s holds %q in clear: %q", tc.table, tc.col, s, v)
						}
					}
					if v != "" && !strings.HasSuffix(tc.col, "_bidx") && !strings.HasPrefix(v, "v1:t-aes-1:") {
						t.Errorf("%s.%s value not sealed under the active key: %q", tc.table, tc.col, v)
					}
				}
			}
			svc := b.CustomerService()
			a1 := b.Customers["a1"]
			for _, q := range []string{a1.Mobile, a1.IDNumber, strings.ToLower(a1.IDNumber), testkit.AccountNo(2)} {
				p, err := svc.List(b.As("admin"), customer.Filter{Query: q})
				must(t, err)
				if len(p.Items) != 1 || p.Items[0].ID != a1.ID {
					t.Errorf("search %q found %d customers", q, len(p.Items))
				}
			}
			got, err := b.DB.Customers().GetCustomer(context.Background(), a1.ID, customer.ScopeFilter{})
			must(t, err)
			if got.IDNumber != a1.IDNumber || got.Mobile != a1.Mobile {
				t.Errorf("read back %q %q", got.IDNumber, got.Mobile)
			}
			// Identity uniqueness now lives on the blind index.
			dup := a1
			dup.ID = 0
			if _, err := b.DB.Customers().CreateCustomer(context.Background(), dup); err == nil {
				t.Error("a second customer with the same ID number was stored")
			}
		})
	}
}

// otherKeys reuses the test key ids with different secrets: the wrong key
// file for this database.
const otherKeys = "t-aes-1 aes active ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=\n" +
	"t-idx-1 aes index AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"

func TestWrongKeyRefusesAndChangesNothing(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			url, _, raw := vaultDB(t, engine)
			before := strings.Join(rawColumn(t, raw, "customers", "mobile"), ",")
			keysBefore := strings.Join(rawColumn(t, raw, "vault_keys", "fingerprint"), ",")
			newActive, _ := vault.GenerateKeyLine(vault.SuiteAES, vault.Active, bulkNow)
			for name, c := range map[string]struct{ keys, want string }{
				"same id, other secret": {otherKeys, "fingerprint differs"},
				"old key missing": {newActive + "\n" + strings.SplitAfter(testkit.TestKeysAES, "\n")[1],
					"not configured"},
				"other index key": {strings.SplitAfter(testkit.TestKeysAES, "\n")[0] +
					"t-idx-2 aes index ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=\n", "blind-index key"},
			} {
				k, err := vault.ParseKeys(c.keys)
				must(t, err)
				db, err := store.OpenWith(context.Background(), url, store.Options{Keys: k})
				must(t, err)
				if err := db.CheckKeys(context.Background()); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: CheckKeys = %v", name, err)
				}
				if err := db.RegisterKeys(context.Background(), bulkNow); err == nil || !strings.Contains(err.Error(), "Nothing was changed") && !strings.Contains(err.Error(), "nothing was changed") {
					t.Errorf("%s: RegisterKeys = %v", name, err)
				}
				db.Close()
			}
			if after := strings.Join(rawColumn(t, raw, "customers", "mobile"), ","); after != before {
				t.Error("a refused start changed customer data")
			}
			if after := strings.Join(rawColumn(t, raw, "vault_keys", "fingerprint"), ","); after != keysBefore {
				t.Error("a refused start changed the key table")
			}
		})
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			_, b, raw := vaultDB(t, engine)
			a1, a2 := b.Customers["a1"].ID, b.Customers["a2"].ID
			var mobile, idNumber string
			must(t, raw.QueryRow("SELECT mobile, id_number FROM customers WHERE id = $1", a1).Scan(&mobile, &idNumber))
			// Flip one character of the ciphertext.
			last := mobile[len(mobile)-2]
			flipped := byte('A')
			if last == 'A' {
				flipped = 'B'
			}
			tampered := mobile[:len(mobile)-2] + string(flipped) + mobile[len(mobile)-1:]
			_, err := raw.Exec("UPDATE customers SET mobile = $1 WHERE id = $2", tampered, a1)
			must(t, err)
			_, err = b.DB.Customers().GetCustomer(context.Background(), a1, customer.ScopeFilter{})
			if err == nil || !strings.Contains(err.Error(), "failed authentication") {
				t.Errorf("tampered mobile: %v", err)
			}
			// A valid ciphertext moved to another column or row's column.
			_, err = raw.Exec("UPDATE customers SET mobile = $1 WHERE id = $2", idNumber, a2)
			must(t, err)
			if _, err := b.DB.Customers().GetCustomer(context.Background(), a2, customer.ScopeFilter{}); err == nil {
				t.Error("an ID number moved into the mobile column was accepted")
			}
			// Plain text written behind the store's back is refused too.
			_, err = raw.Exec("UPDATE customers SET mobile = '13800000009' WHERE id = $1", a2)
			must(t, err)
			if _, err := b.DB.Customers().GetCustomer(context.Background(), a2, customer.ScopeFilter{}); !errors.Is(err, vault.ErrNotSealed) {
				t.Errorf("clear value: %v", err)
			}
		})
	}
}
