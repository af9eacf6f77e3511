package httpapi_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/xuri/excelize/v2"

	"kehu/internal/httpapi"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func init() {
	// The contract check reads a workbook like any file body.
	openapi3filter.RegisterBodyDecoder(httpapi.XLSXType, openapi3filter.FileBodyDecoder)
}

// walkCampaignReport drives every documented response of the results
// workbook and opens the file it answers.
func walkCampaignReport(t *testing.T, e *env) {
	lc := e.bank.LaunchedCampaign(t)
	path := "/api/v1/campaigns/" + id(lc.Campaign.ID) + "/results.xlsx"
	mkt := e.login("admin")
	r := e.expect(call{method: "GET", path: path + "?lang=en", token: mkt.token}, 200)
	if ct := r.Header().Get("Content-Type"); ct != httpapi.XLSXType {
		t.Errorf("Content-Type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes()))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("Results", "B1"); v != lc.Campaign.Name {
		t.Errorf("campaign name cell %q", v)
	}
	e.expect(call{method: "GET", path: "/api/v1/campaigns/999999/results.xlsx", token: mkt.token}, 404)
	e.expect(call{method: "GET", path: path + "?members=some", token: mkt.token}, 422)
	e.expect(call{method: "GET", path: path, token: e.login("rm_a").token}, 403)
	e.expect(call{method: "GET", path: path}, 401)
}

// TestCampaignResultsBulkApproval: with the bulk threshold (3) below the
// campaign's audience, the workbook's member list is refused as
// approval-required (naming members=none), the aggregates alone are
// served, and an approved bulk-export request lets exactly one workbook
// with its members out.
func TestCampaignResultsBulkApproval(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		var priv *privacy.Service
		e := newEnvWith(t, db, func(e *env, d *httpapi.Deps) {
			priv = d.Privacy
			d.CampaignReports = e.bank.CampaignReportServiceWith(t, priv)
		})
		lc := e.bank.LaunchedCampaign(t)
		if lc.Results.Total.Audience <= privacyThreshold {
			t.Fatalf("audience %d: not above the threshold", lc.Results.Total.Audience)
		}
		path := "/api/v1/campaigns/" + id(lc.Campaign.ID) + "/results.xlsx"
		mk := e.login("hq_marketing")
		var p struct{ Type, Detail string }
		e.expect(call{method: "GET", path: path, token: mk.token}, 403).decode(t, &p)
		if p.Type != httpapi.ProblemApprovalRequired || !strings.Contains(p.Detail, "members=none") {
			t.Errorf("refusal: %+v", p)
		}
		sheets := func(r response) []string {
			t.Helper()
			f, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes()))
			if err != nil {
				t.Fatalf("the workbook does not open: %v", err)
			}
			defer f.Close()
			return f.GetSheetList()
		}
		if got := sheets(e.expect(call{method: "GET", path: path + "?members=none&lang=en", token: mk.token}, 200)); strings.Join(got, ",") != "Results,Suppressions" {
			t.Errorf("aggregates only: %v", got)
		}
		ap, err := priv.RequestApproval(e.bank.As("hq_marketing"), "季度复盘", int(lc.Results.Total.Audience))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := priv.Decide(e.bank.As("admin"), ap.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if got := sheets(e.expect(call{method: "GET", path: path + "?lang=en", token: mk.token}, 200)); strings.Join(got, ",") != "Results,Suppressions,Members" {
			t.Errorf("with the approval: %v", got)
		}
		e.expect(call{method: "GET", path: path, token: mk.token}, 403)
	})
}
