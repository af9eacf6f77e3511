package testkit

import (
	"testing"

	"kehu/internal/journey/report"
)

// JourneyReportService returns the journey results workbook service over
// the bank, its firing lists under the privacy module's default bulk rule.
func (b *Bank) JourneyReportService(t testing.TB) *report.Service {
	return b.JourneyReportServiceWith(t, b.PrivacyService())
}

// JourneyReportServiceWith is JourneyReportService with another bulk rule
// (a privacy service with a lower threshold).
func (b *Bank) JourneyReportServiceWith(t testing.TB, bulk report.ExportGate) *report.Service {
	s, err := report.NewService(report.Deps{Journeys: b.JourneyService(), Store: b.DB.JourneyReports(),
		Customers: b.CustomerService(), Products: b.DB.Journeys(), Audit: b.Audit, Tx: b.DB, Clock: b.Clock, Bulk: bulk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
