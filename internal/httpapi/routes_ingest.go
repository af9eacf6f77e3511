package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
)

// ingestRoutes are the feeds from source systems (docs/INGEST.md): an API
// token with the data.ingest scope posts batches of JSON lines.
func ingestRoutes() []route {
	return []route{
		{"POST /api/v1/ingest/{kind}", signedIn, access.DataIngest, (*api).ingestBatch},
	}
}

// NDJSONMediaType is the media type of a feed batch: one JSON object per line.
const NDJSONMediaType = "application/x-ndjson"

// ingestBatch applies one batch. The answer is 200 with a per-line report
// even when every line was rejected, so a source always learns what to fix
// line by line; only a body without one JSON object line is a 422.
func (a *api) ingestBatch(w http.ResponseWriter, r *http.Request) error {
	if a.d.Ingest == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "feeds are not enabled on this server")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != NDJSONMediaType {
		return newProblem(http.StatusUnsupportedMediaType, ProblemMediaType,
			"a batch must be JSON lines, sent with Content-Type: "+NDJSONMediaType)
	}
	limit := a.d.Ingest.Config().MaxBytes
	batchTooLarge := newProblem(http.StatusRequestEntityTooLarge, ProblemTooLarge,
		"a batch must not exceed "+strconv.FormatInt(limit, 10)+" bytes; split it")
	if r.ContentLength > limit {
		return batchTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return batchTooLarge
	case err != nil:
		return badBody("the request body could not be read")
	}
	key := r.Header.Get("Idempotency-Key")
	if err := ingest.CheckKey(key); err != nil {
		return badBody("the Idempotency-Key header is malformed", FieldIssue{Field: "Idempotency-Key",
			Message: kehu.ErrorFields(err)[0].Reason})
	}
	res, err := a.d.Ingest.Ingest(r.Context(), ingest.Batch{Kind: ingest.Kind(r.PathValue("kind")), Key: key, Body: body})
	var limitErr *ingest.LimitError
	if errors.As(err, &limitErr) {
		return newProblem(http.StatusRequestEntityTooLarge, ProblemTooLarge, limitErr.Message)
	}
	if err != nil {
		return err
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
