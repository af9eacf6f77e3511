package testkit

import (
	"testing"

	"kehu/internal/journey/report"
)

// JourneyReportService returns the journey results workbook service over
// the bank.
func (b *Bank) JourneyReportService(t testing.TB) *report.Service {
	s, err := report.NewService(report.Deps{Journeys: b.JourneyService(), Store: b.DB.JourneyReports(),
		Customers: b.CustomerService(), Products: b.DB.Journeys(), Audit: b.Audit, Tx: b.DB, Clock: b.Clock})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
