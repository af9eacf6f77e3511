package report_test

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestWorkbook exports a launched campaign and reads the workbook back:
// the results sheet carries every metric for the total and the run, the
// suppression sheet every reason with its count, the member sheet one row
// per member in the reader's scope with names masked for marketing; one
// campaign.export record; a reader without campaign rights gets nothing.
func TestWorkbook(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		lc := b.LaunchedCampaign(t)
		tot := lc.Results.Total
		if tot.Delivered != 6 || tot.Failed != 1 || tot.ConvertedTreatment != 4 || tot.ConvertedControl != 1 ||
			tot.Suppressed["no_consent"] == 0 || tot.Suppressed["consent_withdrawn"] == 0 || !tot.Lift.Defined {
			t.Fatalf("fixture results: %+v", tot)
		}
		svc := b.CampaignReportService(t)
		before, _ := db.CountRows(context.Background(), "audit_log")
		var buf bytes.Buffer
		n, err := svc.Export(b.As("hq_marketing"), lc.Campaign.ID, "zh-CN", &buf)
		if err != nil {
			t.Fatal(err)
		}
		if int64(n) != tot.Audience {
			t.Errorf("%d member rows, audience %d", n, tot.Audience)
		}
		if after, _ := db.CountRows(context.Background(), "audit_log"); after-before != 1 {
			t.Errorf("%d audit records for one export", after-before)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := f.GetSheetList(); strings.Join(got, ",") != "结果,抑制原因,成员" {
			t.Fatalf("sheets %v", got)
		}
		cell := func(sheet, ref string) string {
			t.Helper()
			v, err := f.GetCellValue(sheet, ref)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if cell("结果", "B1") != "稳盈理财春季推广" || cell("结果", "B3") != "短信" || cell("结果", "B5") != "稳盈90天理财" {
			t.Errorf("head: %q %q %q", cell("结果", "B1"), cell("结果", "B3"), cell("结果", "B5"))
		}
		if cell("结果", "A10") != "指标" || cell("结果", "D10") != "第 1 轮" {
			t.Errorf("header row: %q %q", cell("结果", "A10"), cell("结果", "D10"))
		}
		rows, _ := f.GetRows("结果", excelize.Options{RawCellValue: true})
		byKey := map[string][]string{}
		for _, r := range rows[10:] {
			byKey[r[1]] = r
		}
		for key, want := range map[string]string{"audience": strconv.FormatInt(tot.Audience, 10), "delivered": "6", "failed": "1",
			"converted_treatment": "4", "converted_control": "1", "suppressed": strconv.FormatInt(tot.SuppressedTotal, 10)} {
			if r := byKey[key]; len(r) < 4 || r[2] != want || r[3] != want {
				t.Errorf("%s: %v, want %s in total and run 1", key, r, want)
			}
		}
		if r := byKey["lift_low"]; len(r) < 3 || !near(r[2], tot.Lift.Low) {
			t.Errorf("lift low %v, want %v", r, tot.Lift.Low)
		}
		if r := byKey["rate_treatment"]; len(r) < 3 || !near(r[2], tot.RateTreatment) {
			t.Errorf("treatment rate %v, want %v", r, tot.RateTreatment)
		}
		if r := byKey["cost"]; len(r) < 3 || r[2] != strconv.FormatFloat(float64(tot.Cost)/100, 'f', -1, 64) {
			t.Errorf("cost %v (fen %d)", r, tot.Cost)
		}
		if got := cell("结果", "C25"); !strings.HasSuffix(got, "%") {
			t.Errorf("rate formatted %q", got)
		}
		reasons, _ := f.GetRows("抑制原因")
		if len(reasons) != 1+len(tot.Suppressed) || reasons[0][0] != "原因" {
			t.Fatalf("suppression rows %v", reasons)
		}
		for _, r := range reasons[1:] {
			if r[2] != strconv.FormatInt(tot.Suppressed[r[1]], 10) || r[0] == r[1] {
				t.Errorf("reason row %v", r)
			}
		}
		members, _ := f.GetRows("成员")
		if int64(len(members)-1) != tot.Audience || members[0][2] != "客户" {
			t.Fatalf("%d member rows", len(members)-1)
		}
		groups := map[string]int{}
		for _, m := range members[1:] {
			groups[m[3]]++
			if strings.HasPrefix(m[2], "报表客户") || m[2] == "张伟" {
				t.Errorf("a name in clear for marketing: %v", m)
			}
		}
		if int64(groups["对照组"]) != tot.Control || int64(groups["实验组"]) != tot.Treatment {
			t.Errorf("groups %v", groups)
		}
		// An RM without campaign rights: refused, nothing recorded.
		if _, err := svc.Export(b.As("rm_a"), lc.Campaign.ID, "zh-CN", &buf); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("an RM exported: %v", err)
		}
		// In English for the branch manager (the checker), who sees the
		// city's customers in clear.
		var en bytes.Buffer
		if _, err := svc.Export(b.As("branch_manager"), lc.Campaign.ID, "en", &en); err != nil {
			t.Fatal(err)
		}
		g, err := excelize.OpenReader(&en)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if got := strings.Join(g.GetSheetList(), ","); got != "Results,Suppressions,Members" {
			t.Errorf("English sheets %s", got)
		}
		if v, _ := g.GetCellValue("Members", "C2"); !strings.HasPrefix(v, "张伟") && !strings.HasPrefix(v, "王芳") &&
			!strings.HasPrefix(v, "李娜") && !strings.HasPrefix(v, "刘洋") && !strings.HasPrefix(v, "报表客户") {
			t.Errorf("the checker's first member %q", v)
		}
	})
}

// near compares a cell's text with a float to Excel's 15 digits.
func near(cell string, want float64) bool {
	got, err := strconv.ParseFloat(cell, 64)
	return err == nil && math.Abs(got-want) < 1e-12
}
