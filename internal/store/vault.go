package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// Options configures OpenWith.
type Options struct {
	// Keys seal and open the encrypted columns and compute blind indexes.
	// Without keys the database still opens (for migrate and user
	// commands), but reading or writing customers and accounts fails.
	Keys *vault.Keyring
}

// OpenWith opens a database like Open, with the options that need more
// than a URL.
func OpenWith(ctx context.Context, rawURL string, opt Options) (*DB, error) {
	db, err := Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	db.keys = opt.Keys
	return db, nil
}

// Keys returns the keyring the database was opened with, nil without one.
func (db *DB) Keys() *vault.Keyring { return db.keys }

// keyring returns the keys or the error every encrypted read and write gives
// without them: refusing beats storing personal data in clear.
func (db *DB) keyring() (*vault.Keyring, error) {
	if db.keys == nil {
		return nil, kehu.Errorf(kehu.EUNAVAILABLE, "no encryption keys configured: set KEHU_KEYS or --keys-file")
	}
	return db.keys, nil
}

// Sealed column names, used as the authenticated context of each value.
const (
	colIDNumber  = "customers.id_number"
	colMobile    = "customers.mobile"
	colEmail     = "customers.email"
	colAddress   = "customers.address"
	colAccountNo = "accounts.account_no"
)

// sealAll encrypts pairs of (column, value) in place: vals[i] is replaced
// by its sealed form.
func sealAll(k *vault.Keyring, cols []string, vals []*string) error {
	for i, c := range cols {
		s, err := k.Encrypt(c, *vals[i])
		if err != nil {
			return err
		}
		*vals[i] = s
	}
	return nil
}

// openAll decrypts pairs of (column, value) in place.
func openAll(k *vault.Keyring, cols []string, vals []*string) error {
	for i, c := range cols {
		s, err := k.Decrypt(c, *vals[i])
		if err != nil {
			return err
		}
		*vals[i] = s
	}
	return nil
}

// storedKey is one row of vault_keys.
type storedKey struct {
	id, suite, purpose, fingerprint string
	retired                         bool
}

// CheckKeys compares the configured keys with the keys the database has
// seen, without changing anything: a key whose fingerprint differs (the
// wrong key file), a missing key that values may still be sealed under, or
// a different blind-index key is refused with a message that says what to
// do. A database not yet migrated passes.
func (db *DB) CheckKeys(ctx context.Context) error {
	k, err := db.keyring()
	if err != nil {
		return err
	}
	stored, err := loadStoredKeys(ctx, db.reader(ctx))
	if err != nil {
		if isMissingTable(err) {
			return nil
		}
		return err
	}
	return compareKeys(k, stored)
}

// RegisterKeys checks the configured keys (see CheckKeys) and records the
// ones the database has not seen, so a later start with a wrong key is
// caught. Call it after Migrate and before writing.
func (db *DB) RegisterKeys(ctx context.Context, now time.Time) error {
	k, err := db.keyring()
	if err != nil {
		return err
	}
	return db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		stored, err := loadStoredKeys(ctx, q)
		if err != nil {
			return err
		}
		if err := compareKeys(k, stored); err != nil {
			return err
		}
		for _, x := range k.Keys() {
			if _, ok := stored[x.ID]; ok {
				continue
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO vault_keys (key_id, suite, purpose, fingerprint, created_at)
				VALUES ($1, $2, $3, $4, $5)`, x.ID, x.Suite, kind(x.Purpose), x.Fingerprint, now.UTC()); err != nil {
				return fmt.Errorf("register key %s: %w", x.ID, err)
			}
		}
		return nil
	})
}

func loadStoredKeys(ctx context.Context, q querier) (map[string]storedKey, error) {
	rows, err := q.QueryContext(ctx, "SELECT key_id, suite, purpose, fingerprint, retired FROM vault_keys")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]storedKey{}
	for rows.Next() {
		var s storedKey
		if err := rows.Scan(&s.id, &s.suite, &s.purpose, &s.fingerprint, &s.retired); err != nil {
			return nil, fmt.Errorf("read vault_keys: %w", err)
		}
		out[s.id] = s
	}
	return out, rows.Err()
}

// kind is the purpose as vault_keys stores it: active and retired keys are
// both data keys.
func kind(p vault.Purpose) string {
	if p == vault.Index {
		return "index"
	}
	return "data"
}

func compareKeys(k *vault.Keyring, stored map[string]storedKey) error {
	conf := map[string]vault.KeyInfo{}
	var index vault.KeyInfo
	for _, x := range k.Keys() {
		conf[x.ID] = x
		if x.Purpose == vault.Index {
			index = x
		}
	}
	if s, ok := stored[k.ActiveKeyID()]; ok && s.retired {
		return kehu.Errorf(kehu.EINVALID, "encryption key %s was retired by a rotation and must not seal new values: "+
			"generate a new active key (kehu keys generate). Nothing was changed", s.id)
	}
	for _, s := range stored {
		x, ok := conf[s.id]
		switch {
		case ok && (x.Fingerprint != s.fingerprint || kind(x.Purpose) != s.purpose):
			return kehu.Errorf(kehu.EINVALID, "encryption key %s is not the key this database was encrypted with "+
				"(its fingerprint differs): wrong key file or KEHU_KEYS? Kehu refuses to start so nothing is "+
				"written under a wrong key; nothing was changed", s.id)
		case !ok && s.purpose == "index":
			return kehu.Errorf(kehu.EINVALID, "this database's blind-index key is %s, which is not configured "+
				"(configured: %s): searches and uniqueness depend on it; restore the right key file. Nothing was changed",
				s.id, index.ID)
		case !ok && !s.retired:
			return kehu.Errorf(kehu.EINVALID, "the database may hold values encrypted under key %s (%s), which is not "+
				"configured: add it to the key file with purpose data, or restore the right key file. Nothing was changed",
				s.id, s.suite)
		}
	}
	return nil
}

// isMissingTable reports an error about a table that does not exist yet.
func isMissingTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist")
}

// SealedCustomer is the stored form of a customer's encrypted fields and
// blind indexes, for bulk loaders that write rows without CustomerStore.
type SealedCustomer struct {
	IDNumber, Mobile, Email, Address string
	IDNumberIndex, MobileIndex       string // id_number_bidx, mobile_bidx
}

// SealCustomer seals a customer's personal fields as CreateCustomer would.
func (db *DB) SealCustomer(idNumber, mobile, email, address string) (SealedCustomer, error) {
	k, err := db.keyring()
	if err != nil {
		return SealedCustomer{}, err
	}
	s := SealedCustomer{IDNumber: idNumber, Mobile: mobile, Email: email, Address: address,
		IDNumberIndex: k.BlindIndex(vault.IndexIDNumber, idNumber), MobileIndex: k.BlindIndex(vault.IndexMobile, mobile)}
	if err := sealAll(k, sealedCustomerColumns, []*string{&s.IDNumber, &s.Mobile, &s.Email, &s.Address}); err != nil {
		return SealedCustomer{}, err
	}
	return s, nil
}

// SealAccountNo returns the stored form of an account number and its blind
// index (accounts.account_no, accounts.account_no_bidx).
func (db *DB) SealAccountNo(no string) (sealed, index string, err error) {
	k, err := db.keyring()
	if err != nil {
		return "", "", err
	}
	sealed, err = k.Encrypt(colAccountNo, no)
	return sealed, k.BlindIndex(vault.IndexAccountNo, no), err
}
