package demo

import (
	"fmt"

	"kehu/internal/search"
	"kehu/internal/store"
)

// accountsPerCustomer bounds the accounts of one customer (a current
// account, up to three time deposits, a loan and a card); account numbers
// are drawn from index × accountsPerCustomer + k, so a worker can number and
// seal them without knowing the accounts of earlier customers.
const accountsPerCustomer = 16

// seal does in the generator workers what the single writer would
// otherwise do on its goroutine: AES-GCM and the blind-index HMACs of the
// personal fields, the account numbers sealed, the name's search keys. The
// writer seals again only the rare customer whose ID number or mobile it
// changes to keep them unique.
func seal(db *store.DB, c *genCustomer) error {
	var err error
	if c.sealed, err = db.SealCustomer(c.idNumber, c.mobile, c.email, c.address); err != nil {
		return fmt.Errorf("demo: customer %d: %w", c.index+1, err)
	}
	c.nameKey, c.namePinyin = search.NameKey(c.name), search.NamePinyin(c.name)
	if len(c.accounts) > accountsPerCustomer {
		return fmt.Errorf("demo: customer %d has %d accounts", c.index+1, len(c.accounts))
	}
	for k := range c.accounts {
		a := &c.accounts[k]
		a.no = accountNo(int64(c.index)*accountsPerCustomer+int64(k), a.product.kind)
		if a.sealedNo, a.index, err = db.SealAccountNo(a.no); err != nil {
			return fmt.Errorf("demo: customer %d: %w", c.index+1, err)
		}
	}
	return nil
}
