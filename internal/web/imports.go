package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/kehu"
)

// importRoutes adds 数据导入: upload a file, map its columns, preview the
// first rows with their validation, start, follow the progress, download
// the rejects; resume, cancel or roll back a job. The import service checks
// data.import and the data scope; pages only show what it answers.
func (s *server) importRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /imports", s.signedIn(s.needImports(s.importsPage)))
	mux.HandleFunc("POST /imports/upload", s.signedIn(s.needImports(s.importUpload)))
	mux.HandleFunc("GET /imports/uploads/{id}", s.signedIn(s.needImports(s.importPreviewPage)))
	mux.HandleFunc("POST /imports/uploads/{id}", s.signedIn(s.checkCSRF(s.needImports(s.importMapping))))
	mux.HandleFunc("GET /imports/jobs/{id}", s.signedIn(s.needImports(s.importJobPage)))
	mux.HandleFunc("GET /imports/jobs/{id}/rejects", s.signedIn(s.needImports(s.importRejects)))
	mux.HandleFunc("POST /imports/jobs/{id}/{verb}", s.signedIn(s.checkCSRF(s.needImports(s.importAction))))
}

// needImports answers 404 when the server runs without imports.
func (s *server) needImports(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Imports == nil {
			s.notFound(w, r)
			return
		}
		h(w, r)
	}
}

// importsView is the 数据导入 page: the upload form and recent jobs.
type importsView struct {
	Kinds    []string
	Sources  []identity.SourceSystem
	Kind     string
	Source   string
	MaxMiB   int64
	Jobs     []importer.Job
	ErrorKey string // catalogue key of a refused upload
	Error    string // the service's reason (no personal data)
}

func (s *server) importsPage(w http.ResponseWriter, r *http.Request) {
	v := importsView{Kind: importer.KindCustomers}
	s.renderImports(w, r, http.StatusOK, v)
}

// renderImports loads the sources and recent jobs around v.
func (s *server) renderImports(w http.ResponseWriter, r *http.Request, status int, v importsView) {
	var err error
	if v.Sources, err = s.Imports.SourceSystems(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Jobs, err = s.Imports.Jobs(r.Context(), 0, 20); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Kinds, v.MaxMiB = importer.Kinds, s.Imports.MaxBytes()>>20
	if v.Source == "" && len(v.Sources) > 0 {
		v.Source = v.Sources[0].Code
	}
	s.render(w, r, status, "imports", "layout.html", s.newView(w, r, "imports.title", "imports", v))
}

// importUpload streams the upload form to disk. The form puts the CSRF
// token, kind and source before the file, so the token is checked before a
// byte of the file is stored; the file never passes through memory.
func (s *server) importUpload(w http.ResponseWriter, r *http.Request) {
	if err := s.cop.Check(r); err != nil {
		s.fail(w, r, errCSRF)
		return
	}
	v := importsView{}
	id, err := s.readUpload(w, r, &v)
	if errors.Is(err, errCSRF) {
		s.fail(w, r, errCSRF)
		return
	}
	if err != nil {
		var tl *importer.TooLargeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &tl), errors.As(err, &mbe):
			v.ErrorKey = "imports.error.too_large"
		case kehu.ErrorCode(err) == kehu.EINVALID:
			v.ErrorKey, v.Error = "imports.error.file", kehu.ErrorMessage(err)
		default:
			s.fail(w, r, err)
			return
		}
		s.renderImports(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	q := url.Values{"kind": {v.Kind}, "source": {v.Source}}
	http.Redirect(w, r, "/imports/uploads/"+id+"?"+q.Encode(), http.StatusSeeOther)
}

// readUpload reads the multipart upload form: csrf, kind, source_system,
// then file.
func (s *server) readUpload(w http.ResponseWriter, r *http.Request, v *importsView) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return "", kehu.Errorf(kehu.EINVALID, "the form must be sent as multipart/form-data")
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(time.Hour))
	_ = rc.SetWriteDeadline(time.Now().Add(time.Hour + time.Minute))
	r.Body = http.MaxBytesReader(w, r.Body, s.Imports.MaxBytes()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", kehu.Errorf(kehu.EINVALID, "the form cannot be read")
	}
	csrfOK := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", kehu.Errorf(kehu.EINVALID, "choose a file to import")
		}
		if err != nil {
			return "", err
		}
		if part.FormName() == "file" {
			if !csrfOK {
				return "", errCSRF
			}
			if part.FileName() == "" {
				return "", kehu.Errorf(kehu.EINVALID, "choose a file to import")
			}
			return s.Imports.Stage(r.Context(), part.FileName(), part)
		}
		raw, err := io.ReadAll(io.LimitReader(part, 4<<10))
		if err != nil {
			return "", err
		}
		switch part.FormName() {
		case "csrf":
			want := stateOf(r).session.CSRFToken
			csrfOK = want != "" && subtle.ConstantTimeCompare(raw, []byte(want)) == 1
		case "kind":
			v.Kind = string(raw)
		case "source_system":
			v.Source = string(raw)
		}
	}
}

// importPreviewView is the mapping step: each file column with its canonical
// column (a select), and the first rows with their validation.
type importPreviewView struct {
	importer.Preview
	Notice string // catalogue key after "check again"
	Error  string // why the import could not start
}

// MappedTo returns the canonical column of file column i.
func (p importPreviewView) MappedTo(i int) string {
	if i < len(p.Mapping) {
		return p.Mapping[i]
	}
	return ""
}

// Ready reports whether the import may start.
func (p importPreviewView) Ready() bool { return p.Problem == "" && len(p.Missing) == 0 }

func (s *server) importPreviewPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := s.Imports.PreviewStored(r.Context(), r.PathValue("id"), q.Get("kind"), q.Get("source"), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPreview(w, r, http.StatusOK, importPreviewView{Preview: p})
}

func (s *server) renderPreview(w http.ResponseWriter, r *http.Request, status int, v importPreviewView) {
	s.render(w, r, status, "import_preview", "layout.html", s.newView(w, r, "imports.preview.title", "imports", v))
}

// importMapping handles the mapping form: "check again" previews with the
// chosen mapping, "start" queues the import and shows its progress.
func (s *server) importMapping(w http.ResponseWriter, r *http.Request) {
	id, kind, source := r.PathValue("id"), r.PostFormValue("kind"), r.PostFormValue("source_system")
	header, err := s.Imports.PreviewStored(r.Context(), id, kind, source, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mapping := map[string]string{}
	for i, h := range header.Header {
		mapping[h] = r.PostFormValue("m" + strconv.Itoa(i))
	}
	if r.PostFormValue("step") == "start" {
		j, err := s.Imports.SubmitStored(r.Context(), id, kind, source, mapping)
		if err == nil {
			http.Redirect(w, r, "/imports/jobs/"+strconv.FormatInt(j.ID, 10), http.StatusSeeOther)
			return
		}
		if code := kehu.ErrorCode(err); code != kehu.EINVALID && code != kehu.ECONFLICT {
			s.fail(w, r, err)
			return
		}
		p, perr := s.Imports.PreviewStored(r.Context(), id, kind, source, mapping)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.renderPreview(w, r, http.StatusUnprocessableEntity, importPreviewView{Preview: p, Error: kehu.ErrorMessage(err)})
		return
	}
	p, err := s.Imports.PreviewStored(r.Context(), id, kind, source, mapping)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPreview(w, r, http.StatusOK, importPreviewView{Preview: p, Notice: "imports.preview.checked"})
}

// importJobView is a job's page: progress while it runs, the counts and the
// reject report when it ends, and the actions its state allows.
type importJobView struct {
	importer.Job
	Percent     int
	Running     bool // queued or running: the page polls
	Interrupted bool
	Resumable   bool
	CanCancel   bool
	CanRollback bool
	Notice      string // catalogue key after an action
	Error       string // why an action was refused
}

func (s *server) loadJob(r *http.Request) (importJobView, error) {
	id, ok := pathInt(r, "id")
	if !ok {
		return importJobView{}, kehu.Errorf(kehu.ENOTFOUND, "no such job")
	}
	j, err := s.Imports.Job(r.Context(), id)
	if err != nil {
		return importJobView{}, err
	}
	now := s.Clock.Now()
	v := importJobView{Job: j, Percent: s.Imports.Percent(j), Interrupted: j.Interrupted(now), Resumable: j.Resumable(now)}
	v.Running = (j.Status == importer.StatusQueued || j.Status == importer.StatusRunning) && !v.Interrupted
	v.CanCancel = v.Running
	v.CanRollback = !v.Running && j.Status != importer.StatusRolledBack
	return v, nil
}

// jobNotices are the ?done= markers an action's redirect carries.
var jobNotices = map[string]string{"resume": "imports.job.done.resume", "cancel": "imports.job.done.cancel",
	"rollback": "imports.job.done.rollback"}

func (s *server) importJobPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadJob(r)
	if err != nil {
		s.fragmentFail(w, r, err)
		return
	}
	v.Notice = jobNotices[r.URL.Query().Get("done")]
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" {
		block = "import_progress"
	}
	s.render(w, r, http.StatusOK, "import_job", block, s.newView(w, r, "imports.job.title", "imports", v))
}

func (s *server) importRejects(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if _, err := s.Imports.Job(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-rejects.csv"`, id))
	if err := s.Imports.WriteRejects(r.Context(), id, w); err != nil {
		s.Logger.WarnContext(r.Context(), "import rejects cut short", "job", id, "err", err)
	}
}

// importAction resumes, cancels or rolls back a job, then shows it again.
func (s *server) importAction(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var err error
	switch verb := r.PathValue("verb"); verb {
	case "resume":
		_, err = s.Imports.Resume(r.Context(), id)
	case "cancel":
		_, err = s.Imports.Cancel(r.Context(), id)
	case "rollback":
		if r.PostFormValue("confirm") != "yes" {
			err = kehu.Errorf(kehu.EINVALID, "confirm the rollback")
			break
		}
		_, _, err = s.Imports.Rollback(r.Context(), id)
	default:
		s.notFound(w, r)
		return
	}
	if code := kehu.ErrorCode(err); code == kehu.ECONFLICT || code == kehu.EINVALID {
		// Refused in this state (already finished, rolled back twice, the
		// box not ticked): the job again, with the reason.
		v, lerr := s.loadJob(r)
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		v.Error = kehu.ErrorMessage(err)
		s.render(w, r, http.StatusConflict, "import_job", "layout.html", s.newView(w, r, "imports.job.title", "imports", v))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/imports/jobs/"+strconv.FormatInt(id, 10)+"?done="+r.PathValue("verb"), http.StatusSeeOther)
}
