package account

import (
	"context"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// mask applies the vault display policy to what a summary shows besides
// the profile (which customer.Service has masked already): account numbers
// everywhere they appear, and the names of related people for roles that
// see names masked.
func mask(ctx context.Context, sum *Summary) {
	a, _ := kehu.ActorFrom(ctx)
	own := sum.Customer.OwnerID != nil && *sum.Customer.OwnerID == a.UserID
	if !vault.ShowsClear(a.Role, "account_no", own) {
		sum.AccountNoMasked = len(sum.Accounts) > 0
		for i := range sum.Accounts {
			sum.Accounts[i].AccountNo = vault.MaskAccountNo(sum.Accounts[i].AccountNo)
		}
		for i := range sum.Holdings {
			sum.Holdings[i].AccountNo = vault.MaskAccountNo(sum.Holdings[i].AccountNo)
		}
		for i := range sum.Transactions {
			sum.Transactions[i].AccountNo = vault.MaskAccountNo(sum.Transactions[i].AccountNo)
		}
	}
	// The related customer's owner is unknown here, so the stricter
	// not-owner rule applies.
	if !vault.ShowsClear(a.Role, "name", false) {
		for i, r := range sum.Relationships {
			sum.Relationships[i].Name = vault.Mask(vault.RuleName, r.Name, r.Type == customer.Corporate)
		}
	}
}
