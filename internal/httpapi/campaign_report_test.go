package httpapi_test

import (
	"bytes"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/xuri/excelize/v2"

	"kehu/internal/httpapi"
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
	e.expect(call{method: "GET", path: path, token: e.login("rm_a").token}, 403)
	e.expect(call{method: "GET", path: path}, 401)
}
