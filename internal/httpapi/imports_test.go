package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// importMaxBytes is the upload limit of the test server: small, so a file
// that is too large is cheap to send.
const importMaxBytes = 256 << 10

// importUncovered are the documented responses of the import routes the
// walk cannot provoke.
var importUncovered = map[string]string{}

// multipartBody builds an import upload: fields, then the file (when name
// is not empty).
func multipartBody(fields map[string]string, name string, content []byte) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = w.WriteField(k, fields[k])
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// uploadCall is a multipart call to path.
func uploadCall(path, token string, fields map[string]string, name string, content []byte) call {
	body, ct := multipartBody(fields, name, content)
	return call{method: "POST", path: path, token: token, body: body, header: map[string]string{"Content-Type": ct}}
}

func csvOf(rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows)
	return b.Bytes()
}

// sampleCustomers is a customers file with one bad row (line 3).
func sampleCustomers(e *env, prefix string) []byte {
	return csvOf([][]string{{"客户号", "姓名", "证件号码", "手机号码", "机构号"},
		{prefix + "1", "柳青", testkit.ResidentID("33010619870707" + prefix[:1] + "01"), "13500000001", "HZ-A"},
		{prefix + "2", "柳红", "330106198707070000", "13500000002", "HZ-A"},
	})
}

// waitImport polls a job until it leaves queued and running.
func waitImport(t *testing.T, e *env, token string, id int64) importer.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var j importer.Job
		r := e.do(call{method: "GET", path: "/api/v1/imports/" + testID(id), token: token})
		if r.Code != http.StatusOK {
			t.Fatalf("get import %d: %d %s", id, r.Code, r.Body)
		}
		r.decode(t, &j)
		if j.Status != importer.StatusQueued && j.Status != importer.StatusRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d still %s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testID(n int64) string { return id(n) }

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// importCalls exercises the import routes for the conformance walk: the
// uploads run here (their ids are needed), the rest is returned.
func importCalls(t *testing.T, e *env) []call {
	admin, bm, teller := e.login("admin"), e.login("branch_manager"), e.login("teller_a")
	fields := map[string]string{"kind": "customers", "source_system": "core_banking"}
	file := sampleCustomers(e, "7")
	prev := e.do(uploadCall("/api/v1/imports/preview", admin.token, fields, "c.csv", file))
	var p importer.Preview
	prev.decode(t, &p)
	created := e.do(uploadCall("/api/v1/imports", admin.token, fields, "c.csv", file))
	var job importer.Job
	created.decode(t, &job)
	if created.Code != http.StatusAccepted {
		t.Fatalf("create import: %d %s", created.Code, created.Body)
	}
	waitImport(t, e, admin.token, job.ID)
	// A file whose import is running refuses a second one.
	busy := sampleCustomers(e, "8")
	runningJob := plantJob(t, e, busy, importer.StatusRunning, admin.user)
	// A failed job with its file can be resumed; a queued one cancelled,
	// then rolled back.
	failed := plantJob(t, e, sampleCustomers(e, "9"), importer.StatusFailed, admin.user)
	queued := plantJob(t, e, sampleCustomers(e, "6"), importer.StatusQueued, admin.user)
	_ = runningJob
	big := bytes.Repeat([]byte("x"), importMaxBytes+1024)
	jobPath := "/api/v1/imports/" + testID(job.ID)
	return []call{
		uploadCall("/api/v1/imports/preview", admin.token, map[string]string{"kind": "customers",
			"source_system": "core_banking", "upload_id": p.UploadID, "mapping": `{"机构号":"org_id"}`}, "", nil),
		uploadCall("/api/v1/imports/preview", admin.token, fields, "", nil),
		uploadCall("/api/v1/imports/preview", admin.token, map[string]string{"kind": "customers", "source_system": "core_banking",
			"upload_id": "0123456789abcdef0123456789abcdef"}, "", nil),
		uploadCall("/api/v1/imports/preview", admin.token, map[string]string{"kind": "customers", "source_system": "core_banking",
			"mapping": "[1,2]"}, "c.csv", file),
		uploadCall("/api/v1/imports/preview", admin.token, fields, "big.csv", big),
		uploadCall("/api/v1/imports/preview", teller.token, fields, "c.csv", file),
		uploadCall("/api/v1/imports/preview", "", fields, "c.csv", file),
		{method: "POST", path: "/api/v1/imports/preview", token: admin.token, body: map[string]any{"kind": "customers"}},

		uploadCall("/api/v1/imports", admin.token, fields, "busy.csv", busy),
		uploadCall("/api/v1/imports", admin.token, map[string]string{"kind": "loans", "source_system": "core_banking"}, "c.csv", file),
		uploadCall("/api/v1/imports", admin.token, fields, "x.csv", []byte("a,b\n1,2\n")),
		uploadCall("/api/v1/imports", admin.token, map[string]string{"kind": "customers", "source_system": "core_banking",
			"upload_id": "0123456789abcdef0123456789abcdef"}, "", nil),
		uploadCall("/api/v1/imports", admin.token, map[string]string{"kind": "customers", "colour": "red"}, "c.csv", file),
		uploadCall("/api/v1/imports", admin.token, fields, "big.csv", big),
		uploadCall("/api/v1/imports", teller.token, fields, "c.csv", file),
		uploadCall("/api/v1/imports", "", fields, "c.csv", file),
		{method: "POST", path: "/api/v1/imports", token: admin.token, body: "kind=customers",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},

		{method: "GET", path: "/api/v1/imports?limit=5", token: admin.token},
		{method: "GET", path: "/api/v1/imports?limit=x", token: admin.token},
		{method: "GET", path: "/api/v1/imports", token: teller.token},
		{method: "GET", path: "/api/v1/imports"},
		{method: "GET", path: jobPath, token: admin.token},
		{method: "GET", path: jobPath, token: bm.token},
		{method: "GET", path: jobPath, token: teller.token},
		{method: "GET", path: jobPath},
		{method: "GET", path: jobPath + "/rejects", token: admin.token},
		{method: "GET", path: "/api/v1/imports/999999/rejects", token: admin.token},
		{method: "GET", path: jobPath + "/rejects", token: teller.token},
		{method: "GET", path: jobPath + "/rejects"},

		{method: "POST", path: "/api/v1/imports/" + testID(failed) + "/resume", token: admin.token},
		{method: "POST", path: "/api/v1/imports/" + testID(queued) + "/resume", token: admin.token},
		{method: "POST", path: "/api/v1/imports/999999/resume", token: admin.token},
		{method: "POST", path: jobPath + "/resume", token: teller.token},
		{method: "POST", path: jobPath + "/resume"},
		{method: "POST", path: "/api/v1/imports/" + testID(queued) + "/cancel", token: admin.token},
		{method: "POST", path: "/api/v1/imports/" + testID(queued) + "/cancel", token: admin.token},
		{method: "POST", path: "/api/v1/imports/999999/cancel", token: admin.token},
		{method: "POST", path: jobPath + "/cancel", token: teller.token},
		{method: "POST", path: jobPath + "/cancel"},
		{method: "POST", path: "/api/v1/imports/" + testID(queued) + "/rollback", token: admin.token},
		{method: "POST", path: "/api/v1/imports/" + testID(queued) + "/rollback", token: admin.token},
		{method: "POST", path: "/api/v1/imports/999999/rollback", token: admin.token},
		{method: "POST", path: jobPath + "/rollback", token: teller.token},
		{method: "POST", path: jobPath + "/rollback"},
	}
}

// plantJob stores a job of content in the given state directly, with its
// file on disk, as if it had been uploaded earlier by user.
func plantJob(t *testing.T, e *env, content []byte, status string, user map[string]any) int64 {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "planted.csv")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	uid := int64(user["id"].(float64))
	now := e.bank.Clock.Now()
	j, err := e.bank.DB.Imports().CreateJob(context.Background(), importer.Job{Kind: importer.KindCustomers,
		FileName: "planted.csv", SHA256: sha(content), FileSize: int64(len(content)), FilePath: path,
		SourceSystem: "core_banking", Status: status, CreatedBy: uid, CreatedByName: user["username"].(string),
		ActorRole: user["role"].(string), CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if status == importer.StatusRunning {
		if err := e.bank.DB.Imports().Heartbeat(context.Background(), j.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return j.ID
}

func TestImportThroughTheAPI(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login("admin")
		fields := map[string]string{"kind": "customers", "source_system": "core_banking"}
		file := sampleCustomers(e, "5")

		r := e.do(uploadCall("/api/v1/imports/preview", admin.token, fields, "客户.csv", file))
		var p importer.Preview
		r.decode(t, &p)
		if r.Code != http.StatusOK || p.Encoding != importer.EncodingUTF8 || len(p.Rows) != 2 || !p.Rows[0].OK ||
			p.Rows[1].OK || p.Mapping[2] != "id_number" || p.FileName != "客户.csv" {
			t.Fatalf("preview %d %+v", r.Code, p)
		}
		if strings.Contains(r.Body.String(), "330106198707070000") || !strings.Contains(p.Rows[1].Cells[2], "****") {
			t.Errorf("the preview shows an ID number in clear: %v", p.Rows[1].Cells)
		}
		// Start the previewed upload without sending the file again.
		r = e.do(uploadCall("/api/v1/imports", admin.token, map[string]string{"kind": "customers",
			"source_system": "core_banking", "upload_id": p.UploadID}, "", nil))
		if r.Code != http.StatusAccepted || !strings.HasPrefix(r.Header().Get("Location"), "/api/v1/imports/") {
			t.Fatalf("start %d %s", r.Code, r.Body)
		}
		var j importer.Job
		r.decode(t, &j)
		done := waitImport(t, e, admin.token, j.ID)
		if done.Status != importer.StatusDone || done.Counts.Created != 1 || done.Counts.Rejected != 1 {
			t.Fatalf("job %+v", done)
		}
		r = e.do(call{method: "GET", path: "/api/v1/imports/" + testID(j.ID) + "/rejects", token: admin.token})
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body.String(), "\ufeff"))).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][0] != "3" || rows[1][1] != "id_number" ||
			strings.Contains(r.Body.String(), "330106198707070000") {
			t.Errorf("rejects %q %v", r.Body.String(), err)
		}
		// The same file again: a new job that changes nothing.
		r = e.do(uploadCall("/api/v1/imports", admin.token, fields, "again.csv", file))
		r.decode(t, &j)
		if again := waitImport(t, e, admin.token, j.ID); again.Counts.Changes() != 0 || again.Counts.Unchanged != 1 {
			t.Errorf("re-import %+v", again.Counts)
		}
		// Each job is on the audit trail: queued, finished, rejects read.
		for _, action := range []string{importer.AuditSubmit, importer.AuditFinish, importer.AuditRejects} {
			page, err := e.bank.Audit.Search(e.bank.As("hq_compliance"), audit.Filter{Action: action, Actor: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) == 0 {
				t.Errorf("no %s audit record", action)
			}
		}
	})
}

func TestTellerCannotImport(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, user := range []string{"teller_a", "rm_a", "lobby_a", "hq_compliance", "hq_marketing"} {
			s := e.login(user)
			r := e.do(uploadCall("/api/v1/imports", s.token, map[string]string{"kind": "customers",
				"source_system": "core_banking"}, "c.csv", sampleCustomers(e, "4")))
			if r.Code != http.StatusForbidden {
				t.Errorf("%s: %d", user, r.Code)
			}
		}
		// A branch manager may import, within the branch: head office's
		// organisation is outside the city branch.
		bm := e.login("branch_manager")
		file := csvOf([][]string{{"客户号", "姓名", "证件号码", "机构号"},
			{"H-1", "总行客户", testkit.ResidentID("33010619870707301"), "HO"},
			{"H-2", "支行客户", testkit.ResidentID("33010619870707302"), "HZ-B"}})
		r := e.do(uploadCall("/api/v1/imports", bm.token, map[string]string{"kind": "customers", "source_system": "crm_legacy"},
			"bm.csv", file))
		var j importer.Job
		r.decode(t, &j)
		done := waitImport(t, e, bm.token, j.ID)
		if done.Counts.Created != 1 || done.Counts.Rejected != 1 {
			t.Errorf("branch manager's import %+v", done.Counts)
		}
		// The administrator sees it; another branch manager's view is theirs.
		if r := e.do(call{method: "GET", path: "/api/v1/imports/" + testID(j.ID), token: e.login("admin").token}); r.Code != http.StatusOK {
			t.Errorf("admin reading a branch manager's job: %d", r.Code)
		}
	})
}

// TestImportJobsAreTheirOwners: a job is visible to the user who queued it
// and to administrators; another user with data.import gets 404 on every
// route of it, as for an unknown id.
func TestImportJobsAreTheirOwners(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, bm := e.login("admin"), e.login("branch_manager")
		r := e.do(uploadCall("/api/v1/imports", admin.token, map[string]string{"kind": "customers",
			"source_system": "core_banking"}, "c.csv", sampleCustomers(e, "3")))
		var j importer.Job
		r.decode(t, &j)
		waitImport(t, e, admin.token, j.ID)
		path := "/api/v1/imports/" + testID(j.ID)
		for _, c := range []call{
			{method: "GET", path: path, token: bm.token},
			{method: "GET", path: path + "/rejects", token: bm.token},
			{method: "POST", path: path + "/resume", token: bm.token},
			{method: "POST", path: path + "/cancel", token: bm.token},
			{method: "POST", path: path + "/rollback", token: bm.token},
		} {
			if r := e.do(c); r.Code != http.StatusNotFound {
				t.Errorf("%s %s by another user: %d", c.method, c.path, r.Code)
			}
		}
		var list struct {
			Items []importer.Job `json:"items"`
		}
		e.do(call{method: "GET", path: "/api/v1/imports", token: bm.token}).decode(t, &list)
		for _, x := range list.Items {
			if x.ID == j.ID {
				t.Error("another user's job is listed")
			}
		}
		if r := e.do(call{method: "POST", path: path + "/rollback", token: admin.token}); r.Code != http.StatusOK {
			t.Errorf("the owner's rollback: %d %s", r.Code, r.Body)
		}
	})
}
