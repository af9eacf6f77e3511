package importer

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// DefaultMaxUpload is the largest file the server accepts (2 GiB).
const DefaultMaxUpload = 2 << 30

// Service is what the API and the UI call: uploads become queued jobs run in
// the background by a Runner; jobs, their progress and rejects can be read;
// an interrupted job resumed, a finished one rolled back. Every call needs
// data.import; users see their own jobs, administrators everybody's.
type Service struct {
	engine    *Engine
	store     Store
	customers *customer.Service
	audit     audit.Recorder
	tx        kehu.Transactor
	clock     kehu.Clock
	dir       string
	maxBytes  int64
	runner    *Runner

	mu        sync.Mutex
	lastLines map[int64]int64 // per job: the last line of its file, for Percent
}

// ServiceDeps are the collaborators of a Service.
type ServiceDeps struct {
	Engine    *Engine
	Customers *customer.Service
	// Dir keeps uploaded files until their job is done (a failed or
	// interrupted job is resumed from it). Created when missing.
	Dir string
	// MaxBytes bounds an upload (default DefaultMaxUpload).
	MaxBytes int64
}

// NewService returns a Service over the engine's store. Start a Runner
// (NewRunner) to run the jobs it queues.
func NewService(d ServiceDeps) *Service {
	if d.Engine == nil || d.Customers == nil || d.Dir == "" {
		panic("importer.NewService: Engine, Customers and Dir are required")
	}
	if d.MaxBytes <= 0 {
		d.MaxBytes = DefaultMaxUpload
	}
	e := d.Engine
	return &Service{engine: e, store: e.store, customers: d.Customers, audit: e.audit, tx: e.tx, clock: e.clock,
		dir: d.Dir, maxBytes: d.MaxBytes, lastLines: map[int64]int64{}}
}

// MaxBytes is the largest upload accepted.
func (s *Service) MaxBytes() int64 { return s.maxBytes }

// actor checks the caller may import.
func (s *Service) actor(ctx context.Context) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.DataImport) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "your role may not import data")
	}
	return a, nil
}

// Upload is a file to import or preview.
type Upload struct {
	Kind         string
	SourceSystem string
	// Mapping overrides the suggested mapping: header → canonical column
	// ("" ignores the column).
	Mapping  map[string]string
	FileName string
	Body     io.Reader
}

// saved is an upload written to disk.
type saved struct {
	path   string
	sha256 string
	size   int64
}

// TooLargeError refuses an upload larger than the configured limit.
type TooLargeError struct{ Max int64 }

func (e *TooLargeError) Error() string {
	return "the file is larger than " + byteSize(e.Max) + "; split it"
}

// save streams body into a new file in dir, hashing it, and refuses it once
// it passes maxBytes: an upload never sits in memory.
func (s *Service) save(body io.Reader) (saved, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return saved{}, kehu.Errorf(kehu.EUNAVAILABLE, "cannot create the import directory: %v", err)
	}
	f, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		return saved{}, kehu.Errorf(kehu.EUNAVAILABLE, "cannot store the upload: %v", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, s.maxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > s.maxBytes {
		err = &TooLargeError{Max: s.maxBytes}
	}
	if err == nil && n == 0 {
		err = kehu.Errorf(kehu.EINVALID, "the file is empty")
	}
	if err != nil {
		os.Remove(f.Name())
		return saved{}, err
	}
	return saved{path: f.Name(), sha256: hex.EncodeToString(h.Sum(nil)), size: n}, nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// checkUpload validates the job's parameters before the file is read.
func (s *Service) checkUpload(ctx context.Context, u *Upload) error {
	var v kehu.Validation
	if !ValidKind(u.Kind) {
		v.Add("kind", "must be one of "+strings.Join(Kinds, ", "))
	}
	refs, err := s.store.Refs(ctx)
	if err != nil {
		return err
	}
	if !refs.Sources[u.SourceSystem] {
		v.Add("source_system", "must be a configured source system")
	}
	u.FileName = cleanFileName(u.FileName)
	return v.Err()
}

// cleanFileName keeps the base name of an upload, printable and bounded.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" {
		name = "upload"
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

// Submit stores an upload and queues its import. The file is checked before
// it is queued (readable, a header with the required columns), so a wrong
// file is refused at once. The same file of the same kind while its import
// is queued or running is refused (ECONFLICT).
func (s *Service) Submit(ctx context.Context, u Upload) (Job, error) {
	if _, err := s.actor(ctx); err != nil {
		return Job{}, err
	}
	if err := s.checkUpload(ctx, &u); err != nil {
		return Job{}, err
	}
	f, err := s.save(u.Body)
	if err != nil {
		return Job{}, err
	}
	return s.submitFile(ctx, u, f)
}

// submitFile queues the import of a stored file, which it owns from now on
// (removed when refused).
func (s *Service) submitFile(ctx context.Context, u Upload, f saved) (Job, error) {
	a, err := s.actor(ctx)
	if err != nil {
		os.Remove(f.path)
		return Job{}, err
	}
	if err := checkFile(f.path, u.Kind, u.Mapping); err != nil {
		os.Remove(f.path)
		return Job{}, err
	}
	j := Job{Kind: u.Kind, FileName: u.FileName, SHA256: f.sha256, FileSize: f.size, FilePath: f.path,
		SourceSystem: u.SourceSystem, Mapping: u.Mapping, Status: StatusQueued, CreatedBy: a.UserID,
		CreatedByName: a.Username, ActorRole: a.Role, ActorOrgID: a.OrgID, CreatedAt: s.clock.Now()}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if j, err = s.store.CreateJob(ctx, j); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: AuditSubmit, Object: jobObject(j.ID), Changes: []audit.Change{
			{Field: "kind", New: j.Kind}, {Field: "source_system", New: j.SourceSystem}, {Field: "file_name", New: j.FileName},
			{Field: "file_size", New: strconv.FormatInt(j.FileSize, 10)}, {Field: "sha256", New: j.SHA256}}})
	})
	if err != nil {
		os.Remove(f.path)
		return Job{}, err
	}
	if s.runner != nil {
		s.runner.Enqueue(j.ID)
	}
	return j, nil
}

// checkFile opens a file and checks its header has the kind's columns.
func checkFile(path, kind string, mapping map[string]string) error {
	src, err := OpenFile(path)
	if err != nil {
		return err
	}
	defer src.Close()
	m, err := SuggestMapping(kind, src.Header(), mapping)
	if err != nil {
		return err
	}
	if miss := m.Missing(kind, "source_system"); len(miss) > 0 {
		return kehu.Errorf(kehu.EINVALID, "the file has no column for %s (required for %s): check the header row, or "+
			"map a column to it", strings.Join(miss, ", "), kind)
	}
	return nil
}

// visible reads a job the actor may see: their own, or any for an
// administrator (user.manage). Others are ENOTFOUND.
func (s *Service) visible(ctx context.Context, id int64) (Job, kehu.Actor, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return Job{}, a, err
	}
	j, err := s.store.Job(ctx, id)
	if err != nil {
		return Job{}, a, err
	}
	if j.CreatedBy != a.UserID && !access.Can(a.Role, access.UserManage) {
		return Job{}, a, kehu.Errorf(kehu.ENOTFOUND, "import job not found")
	}
	return j, a, nil
}

// Jobs lists recent jobs, newest first: the actor's own, or everybody's for
// an administrator.
func (s *Service) Jobs(ctx context.Context, before int64, limit int) ([]Job, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	f := JobFilter{Before: before, Limit: kehu.ClampLimit(limit)}
	if !access.Can(a.Role, access.UserManage) {
		f.CreatedBy = a.UserID
	}
	return s.store.Jobs(ctx, f)
}

// Job returns one job with its progress.
func (s *Service) Job(ctx context.Context, id int64) (Job, error) {
	j, _, err := s.visible(ctx, id)
	return j, err
}

// WriteRejects writes a job's reject report as CSV (UTF-8 with a BOM, so
// Excel opens it in Chinese): line, column, reason. Reasons carry masked
// values only; the download is recorded.
func (s *Service) WriteRejects(ctx context.Context, id int64, w io.Writer) error {
	j, _, err := s.visible(ctx, id)
	if err != nil {
		return err
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: AuditRejects, Object: jobObject(j.ID),
		Count: int(j.Counts.Rejected)}); err != nil {
		return err
	}
	return WriteRejectCSV(ctx, s.store, j.ID, w)
}

// WriteRejectCSV streams a job's rejects as CSV (the CLI's --rejects file).
func WriteRejectCSV(ctx context.Context, st Store, id int64, w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"line", "column", "reason"}); err != nil {
		return err
	}
	err := st.Rejects(ctx, id, func(r Reject) error {
		return cw.Write([]string{strconv.FormatInt(r.Line, 10), r.Column, csvSafe(r.Reason)})
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Resume restarts a failed or interrupted job from its checkpoint.
func (s *Service) Resume(ctx context.Context, id int64) (Job, error) {
	j, _, err := s.visible(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if !j.Resumable(s.clock.Now()) {
		return j, kehu.Errorf(kehu.ECONFLICT, "job %d is %s: only a failed or interrupted import can be resumed", j.ID, j.Status)
	}
	if _, err := os.Stat(j.FilePath); err != nil {
		return j, kehu.Errorf(kehu.ECONFLICT, "the file of job %d is no longer on the server: upload it again", j.ID)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: AuditResume, Object: jobObject(j.ID),
		Changes: []audit.Change{{Field: "checkpoint_line", New: strconv.FormatInt(j.CheckpointLine, 10)}}}); err != nil {
		return j, err
	}
	if s.runner != nil {
		s.runner.Enqueue(j.ID)
	}
	return j, nil
}

// Cancel stops a queued or running job: the batches committed stay (roll
// them back if needed).
func (s *Service) Cancel(ctx context.Context, id int64) (Job, error) {
	j, _, err := s.visible(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if j.Status != StatusQueued && j.Status != StatusRunning {
		return j, kehu.Errorf(kehu.ECONFLICT, "job %d is %s: only a queued or running import can be cancelled", j.ID, j.Status)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: AuditCancel, Object: jobObject(j.ID)}); err != nil {
		return j, err
	}
	if s.runner != nil && s.runner.cancel(j.ID) {
		return j, nil // the runner finishes it as cancelled
	}
	if err := s.store.FinishJob(ctx, j.ID, StatusCancelled, "cancelled by a user", s.clock.Now()); err != nil {
		return j, err
	}
	return s.store.Job(ctx, j.ID)
}

// Rollback removes what a finished, failed, cancelled or interrupted job
// created (docs/IMPORT.md, "Rollback"). It does not revert changes the job
// made to records that existed before it: those are on the audit trail.
func (s *Service) Rollback(ctx context.Context, id int64) (Job, RollbackResult, error) {
	j, _, err := s.visible(ctx, id)
	if err != nil {
		return Job{}, RollbackResult{}, err
	}
	return s.engine.Rollback(ctx, j)
}

// Rollback removes what job j created, as Service.Rollback describes; the
// CLI calls it directly.
func (e *Engine) Rollback(ctx context.Context, j Job) (Job, RollbackResult, error) {
	now := e.clock.Now()
	switch {
	case j.IsFeed():
		// A feed's standing job collects every record the source system
		// has sent over time: rolling it back would delete all of them.
		return j, RollbackResult{}, kehu.Errorf(kehu.ECONFLICT,
			"job %d is the standing job of a feed (%s): feeds cannot be rolled back; correct the records through the feed", j.ID, j.SHA256)
	case j.Status == StatusQueued || j.Status == StatusRunning && !j.Interrupted(now):
		return j, RollbackResult{}, kehu.Errorf(kehu.ECONFLICT, "job %d is %s: cancel it first", j.ID, j.Status)
	case j.Status == StatusRolledBack:
		return j, RollbackResult{}, kehu.Errorf(kehu.ECONFLICT, "job %d was rolled back already", j.ID)
	}
	var res RollbackResult
	err := e.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if res, err = e.store.Rollback(ctx, j.ID); err != nil {
			return err
		}
		if e.recompute == nil && len(res.Touched) > 0 {
			if err := e.store.RecomputeAUM(ctx, res.Touched, e.levelOf); err != nil {
				return err
			}
		}
		if err := e.store.FinishJob(ctx, j.ID, StatusRolledBack, "", now); err != nil {
			return err
		}
		return e.audit.Record(ctx, audit.Entry{Action: AuditRollback, Object: jobObject(j.ID), Changes: rollbackChanges(res)})
	})
	if err != nil {
		return j, res, err
	}
	if e.recompute != nil && len(res.Touched) > 0 {
		if err := e.recompute(ctx, res.Touched); err != nil {
			e.log.WarnContext(ctx, "import rollback: recompute", "job", j.ID, "err", err)
		}
	}
	if j.FilePath != "" {
		os.Remove(j.FilePath)
	}
	j.Status = StatusRolledBack
	return j, res, nil
}

func rollbackChanges(r RollbackResult) []audit.Change {
	var out []audit.Change
	for _, x := range []struct {
		f string
		n int64
	}{{"customers", r.Customers}, {"customers_kept", r.CustomersKept}, {"links", r.Links}, {"accounts", r.Accounts},
		{"accounts_kept", r.AccountsKept}, {"holdings", r.Holdings}, {"transactions", r.Transactions},
		{"relationships", r.Relationships}, {"events", r.Events}, {"suspected_duplicates", r.Duplicates}} {
		out = append(out, audit.Change{Field: x.f, New: strconv.FormatInt(x.n, 10)})
	}
	return out
}

// describeJob is a one-line summary for logs (no personal data).
func describeJob(j Job) string {
	return fmt.Sprintf("job %d (%s from %s, %d bytes)", j.ID, j.Kind, j.SourceSystem, j.FileSize)
}

// SourceSystems lists the systems files may come from, most trusted first
// (without "kehu", which stands for edits in Kehu itself).
func (s *Service) SourceSystems(ctx context.Context) ([]identity.SourceSystem, error) {
	if _, err := s.actor(ctx); err != nil {
		return nil, err
	}
	all, err := s.engine.identity.SourceSystems(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, x := range all {
		if x.Code != identity.SourceKehu {
			out = append(out, x)
		}
	}
	return out, nil
}

// Percent estimates how far a job has come, from its checkpoint and the
// last line of its file (counted once per job and remembered): 100 when it
// is finished, -1 when unknown (the file is gone).
func (s *Service) Percent(j Job) int {
	switch j.Status {
	case StatusDone, StatusRolledBack:
		return 100
	case StatusQueued:
		return 0
	}
	s.mu.Lock()
	last, ok := s.lastLines[j.ID]
	s.mu.Unlock()
	if !ok {
		n, err := LastLine(j.FilePath)
		if err != nil {
			return -1
		}
		last = n
		s.mu.Lock()
		s.lastLines[j.ID] = n
		s.mu.Unlock()
	}
	if last <= 1 {
		return 0
	}
	return int(min(100, max(0, (j.CheckpointLine-1)*100/(last-1))))
}
