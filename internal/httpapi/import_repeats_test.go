package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestImportPreviewRepeats: the preview marks rows repeated inside the file
// as the import treats them — the same source key is a problem naming the
// first line (the import rejects it), the same identity document under
// another source id is marked but valid (both resolve to one customer).
func TestImportPreviewRepeats(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login("admin")
		x, y := testkit.ResidentID("33010619870707101"), testkit.ResidentID("33010619870707202")
		file := csvOf([][]string{{"客户号", "姓名", "证件号码", "手机号码", "机构号"},
			{"R1", "柳青", x, "13500000001", "HZ-A"},
			{"R2", "柳青", x, "13500000001", "HZ-A"}, // same document as line 2
			{"R1", "柳红", y, "13500000002", "HZ-A"}, // same key as line 2
			{"R3", "柳白", testkit.ResidentID("33010619870707303"), "13500000003", "HZ-A"},
			{"R3", "柳白", "330106198707070000", "13500000003", "HZ-A"}, // invalid: never a repeat
		})
		r := e.do(uploadCall("/api/v1/imports/preview", admin.token,
			map[string]string{"kind": "customers", "source_system": "core_banking"}, "r.csv", file))
		var p importer.Preview
		r.decode(t, &p)
		if r.Code != http.StatusOK || len(p.Rows) != 5 {
			t.Fatalf("preview %d %s", r.Code, r.Body)
		}
		want := []struct {
			ok     bool
			repeat *importer.Repeat
		}{
			{true, nil},
			{true, &importer.Repeat{Line: 2, By: importer.RepeatIdentity}},
			{false, &importer.Repeat{Line: 2, By: importer.RepeatKey}},
			{true, nil},
			{false, nil},
		}
		for i, w := range want {
			row := p.Rows[i]
			if row.OK != w.ok || (row.Repeats == nil) != (w.repeat == nil) || (w.repeat != nil && *row.Repeats != *w.repeat) {
				t.Errorf("line %d: ok %v repeats %+v, want %v %+v (%+v)", row.Line, row.OK, row.Repeats, w.ok, w.repeat, row.Problems)
			}
		}
		if pr := p.Rows[2].Problems; len(pr) != 1 || pr[0].Column != "source_id" || !strings.Contains(pr[0].Reason, "line 2") {
			t.Errorf("key repeat problems %+v", pr)
		}
		if strings.Contains(r.Body.String(), x) {
			t.Error("the preview shows an ID number in clear")
		}
		// The import agrees: line 4 rejected against line 2, line 3 merged
		// into the customer line 2 created.
		r = e.do(uploadCall("/api/v1/imports", admin.token, map[string]string{"kind": "customers",
			"source_system": "core_banking", "upload_id": p.UploadID}, "", nil))
		var j importer.Job
		r.decode(t, &j)
		done := waitImport(t, e, admin.token, j.ID)
		if done.Counts.Created != 2 || done.Counts.Merged != 1 || done.Counts.Rejected != 2 {
			t.Errorf("import counts %+v", done.Counts)
		}
	})
}
