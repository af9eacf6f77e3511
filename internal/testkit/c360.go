package testkit

import (
	"kehu/internal/c360"
	"kehu/internal/contact"
	"kehu/internal/interaction"
	"kehu/internal/tag"
)

// InteractionService returns the interaction service over the bank with the
// default 30-day pitch quiet period.
func (b *Bank) InteractionService() *interaction.Service {
	return interaction.NewService(interaction.Deps{Store: b.DB.Interactions(), Customers: b.CustomerService(),
		Clock: b.Clock, Audit: b.Audit, Tx: b.DB})
}

// TagService returns the tag service over the bank.
func (b *Bank) TagService() *tag.Service {
	return tag.NewService(tag.Deps{Store: b.DB.Tags(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}

// C360Service returns the 360 view service over the bank, wired like
// `kehu serve`'s (the level explanation falls back to the stored level).
func (b *Bank) C360Service() *c360.Service {
	return c360.NewService(c360.Deps{Store: b.DB.C360(), Customers: b.CustomerService(),
		Accounts: b.AccountService(), Interactions: b.InteractionService(), Tags: b.TagService(),
		Contact: b.ContactService(), Clock: b.Clock})
}

// ContactService returns the contact-preference service over the bank.
func (b *Bank) ContactService() *contact.Service {
	return contact.NewService(contact.Deps{Store: b.DB.Contact(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}
