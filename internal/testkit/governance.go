package testkit

import (
	"kehu/internal/governance"
	"kehu/internal/level"
	"kehu/internal/org"
)

// LevelService returns the customer-level engine over the bank, wired like
// `kehu serve`'s: recording to b.Audit, scope through CustomerService.
func (b *Bank) LevelService() *level.Service {
	return level.NewService(level.Deps{Store: b.DB.Levels(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB})
}

// DictionaryService returns the governed data dictionary over the bank.
func (b *Bank) DictionaryService() *governance.Dictionary {
	return governance.NewDictionary(governance.DictionaryDeps{Store: b.DB.Governance(), Clock: b.Clock, Audit: b.Audit,
		Tx: b.DB})
}

// QualityService returns the data-quality measurement over the bank.
func (b *Bank) QualityService() *governance.Quality {
	return governance.NewQuality(governance.QualityDeps{Store: b.DB.Governance(), Dictionary: b.DictionaryService(),
		Orgs: org.NewService(b.DB.Orgs()), Clock: b.Clock, Audit: b.Audit, Tx: b.DB})
}
