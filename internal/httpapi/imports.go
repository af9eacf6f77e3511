package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"kehu/internal/importer"
	"kehu/internal/kehu"
)

// uploadDeadline is how long an import upload may take to arrive: the
// server's read timeout is sized for JSON requests, not for gigabytes.
const uploadDeadline = time.Hour

// maxFieldBytes bounds a non-file part of an import upload (kind, source,
// the mapping JSON).
const maxFieldBytes = 64 << 10

// importForm is an import upload's fields; the file itself is staged on
// disk while the body is read (file is its upload id).
type importForm struct {
	kind, source, uploadID string
	mapping                map[string]string
	hasFile                bool
}

// readImportForm streams a multipart/form-data body: the file part goes to
// disk through the import service (never memory), the other parts are
// small fields. The file may come before or after the fields.
func (a *api) readImportForm(w http.ResponseWriter, r *http.Request) (importForm, error) {
	var f importForm
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return f, newProblem(http.StatusUnsupportedMediaType, ProblemMediaType,
			"send the file as multipart/form-data with the fields kind, source_system, mapping and file")
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(uploadDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadDeadline + time.Minute))
	limit := a.d.Imports.MaxBytes()
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return f, badBody("the multipart body cannot be read: " + err.Error())
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, uploadProblem(err, limit)
		}
		name := part.FormName()
		if name == "file" {
			if f.hasFile {
				return f, badBody("one file per import", FieldIssue{"file", "is given twice"})
			}
			f.hasFile = true
			if f.uploadID, err = a.d.Imports.Stage(r.Context(), part.FileName(), part); err != nil {
				return f, uploadProblem(err, limit)
			}
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return f, uploadProblem(err, limit)
		}
		if len(raw) > maxFieldBytes {
			return f, badBody("a form field is too long", FieldIssue{name, "must be at most 64 KiB"})
		}
		if err := f.set(name, string(raw)); err != nil {
			return f, err
		}
	}
	return f, nil
}

// set stores one form field.
func (f *importForm) set(name, value string) error {
	switch name {
	case "kind":
		f.kind = value
	case "source_system":
		f.source = value
	case "upload_id":
		if f.hasFile {
			return badBody("give a file or an upload_id, not both", FieldIssue{"upload_id", "is given with a file"})
		}
		f.uploadID = value
	case "mapping":
		if value == "" {
			return nil
		}
		if err := json.Unmarshal([]byte(value), &f.mapping); err != nil {
			return badBody("the mapping is not a JSON object of strings",
				FieldIssue{"mapping", `must be {"file header": "canonical column", ...}`})
		}
	default:
		return badBody("the form has a field this endpoint does not accept", FieldIssue{name, "is not a known field"})
	}
	return nil
}

// uploadProblem maps a failed upload to its problem: too large (413), a
// client that stopped sending (400), or the service's own error.
func uploadProblem(err error, limit int64) error {
	var mbe *http.MaxBytesError
	var tle *importer.TooLargeError
	switch {
	case errors.As(err, &mbe), errors.As(err, &tle):
		return newProblem(http.StatusRequestEntityTooLarge, ProblemTooLarge,
			fmt.Sprintf("the file must not exceed %d bytes; split it", limit))
	case kehu.ErrorCode(err) != kehu.EINTERNAL:
		return err
	}
	return badBody("the upload was interrupted or malformed: " + err.Error())
}

// needFile checks an upload named a file or a staged upload.
func (f importForm) needFile() error {
	if f.uploadID == "" {
		return newProblem(http.StatusUnprocessableEntity, ProblemValidation, "a file is required",
			FieldIssue{"file", "is required (or the upload_id of a preview)"})
	}
	return nil
}

func (a *api) previewImport(w http.ResponseWriter, r *http.Request) error {
	if a.d.Imports == nil {
		return errNoImports
	}
	f, err := a.readImportForm(w, r)
	if err != nil {
		return err
	}
	if err := f.needFile(); err != nil {
		return err
	}
	p, err := a.d.Imports.PreviewStored(r.Context(), f.uploadID, f.kind, f.source, f.mapping)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *api) createImport(w http.ResponseWriter, r *http.Request) error {
	if a.d.Imports == nil {
		return errNoImports
	}
	f, err := a.readImportForm(w, r)
	if err != nil {
		return err
	}
	if err := f.needFile(); err != nil {
		return err
	}
	j, err := a.d.Imports.SubmitStored(r.Context(), f.uploadID, f.kind, f.source, f.mapping)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/imports/"+strconv.FormatInt(j.ID, 10))
	writeJSON(w, http.StatusAccepted, importJobView(j, a.d.Clock.Now()))
	return nil
}

func (a *api) listImports(w http.ResponseWriter, r *http.Request) error {
	if a.d.Imports == nil {
		return errNoImports
	}
	q := r.URL.Query()
	limit, err := optionalInt(q.Get("limit"))
	if err != nil {
		return badBody("a query parameter is invalid", FieldIssue{"limit", "must be an integer"})
	}
	before, err := optionalInt(q.Get("before"))
	if err != nil {
		return badBody("a query parameter is invalid", FieldIssue{"before", "must be an integer"})
	}
	jobs, err := a.d.Imports.Jobs(r.Context(), int64(before), limit)
	if err != nil {
		return err
	}
	out := struct {
		Items []importJobJSON `json:"items"`
	}{Items: []importJobJSON{}}
	for _, j := range jobs {
		out.Items = append(out.Items, importJobView(j, a.d.Clock.Now()))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func optionalInt(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

func (a *api) getImport(w http.ResponseWriter, r *http.Request) error {
	return a.importJobCall(w, r, http.StatusOK, a.d.Imports.Job)
}

// importRejects streams the reject report. The first error (the job not
// found) is still a problem; once the CSV has started, a failure can only
// cut it short.
func (a *api) importRejects(w http.ResponseWriter, r *http.Request) error {
	if a.d.Imports == nil {
		return errNoImports
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.d.Imports.Job(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-rejects.csv"`, id))
	w.WriteHeader(http.StatusOK)
	if err := a.d.Imports.WriteRejects(r.Context(), id, w); err != nil {
		a.log.WarnContext(r.Context(), "import rejects cut short", "job", id, "err", err)
	}
	return nil
}

func (a *api) resumeImport(w http.ResponseWriter, r *http.Request) error {
	return a.importJobCall(w, r, http.StatusAccepted, a.d.Imports.Resume)
}

func (a *api) cancelImport(w http.ResponseWriter, r *http.Request) error {
	return a.importJobCall(w, r, http.StatusOK, a.d.Imports.Cancel)
}

func (a *api) rollbackImport(w http.ResponseWriter, r *http.Request) error {
	if a.d.Imports == nil {
		return errNoImports
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, res, err := a.d.Imports.Rollback(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Job      importJobJSON           `json:"job"`
		Rollback importer.RollbackResult `json:"rollback"`
	}{importJobView(j, a.d.Clock.Now()), res})
	return nil
}

// importJobCall runs one call on the job named by the path and answers
// with the job: reading, resuming and cancelling differ only in the call
// and the status.
func (a *api) importJobCall(w http.ResponseWriter, r *http.Request, status int,
	call func(context.Context, int64) (importer.Job, error)) error {
	if a.d.Imports == nil {
		return errNoImports
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := call(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, status, importJobView(j, a.d.Clock.Now()))
	return nil
}

// errNoImports answers the import routes of a server run without imports.
var errNoImports = kehu.Errorf(kehu.ENOTFOUND, "imports are not enabled on this server")

// importJobJSON is a job as the API shows it: the job plus whether it was
// interrupted (its worker died) and may be resumed.
type importJobJSON struct {
	importer.Job
	Interrupted bool   `json:"interrupted"`
	Resumable   bool   `json:"resumable"`
	RejectsURL  string `json:"rejects_url"`
}

func importJobView(j importer.Job, now time.Time) importJobJSON {
	if j.Mapping == nil {
		j.Mapping = map[string]string{}
	}
	return importJobJSON{Job: j, Interrupted: j.Interrupted(now), Resumable: j.Resumable(now),
		RejectsURL: "/api/v1/imports/" + strconv.FormatInt(j.ID, 10) + "/rejects"}
}
