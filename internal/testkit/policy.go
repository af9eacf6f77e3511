package testkit

import (
	"kehu/internal/policy"
	"kehu/internal/privacy"
	"kehu/internal/suitability"
)

// PolicyService returns the contact policy engine over the bank, wired like
// `kehu serve`'s (the product quiet period defaults to interaction's).
func (b *Bank) PolicyService() *policy.Service {
	return policy.NewService(policy.Deps{Store: b.DB.Policy(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, QuietDays: b.InteractionService().QuietDays()})
}

// SuitabilityService returns the suitability service over the bank, its
// assessment validity read from the contact policy settings.
func (b *Bank) SuitabilityService() *suitability.Service {
	return suitability.NewService(suitability.Deps{Store: b.DB.Suitability(), Customers: b.CustomerService(),
		Settings: b.PolicyService(), Clock: b.Clock, Audit: b.Audit})
}

// PrivacyService returns the privacy service over the bank with the default
// configuration.
func (b *Bank) PrivacyService() *privacy.Service {
	return privacy.NewService(privacy.Deps{Store: b.DB.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}
