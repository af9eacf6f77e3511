package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"kehu/internal/kehu"
)

// MaxBodyBytes bounds every request body. The largest legitimate body, a
// customer with every field filled, is a few KiB; 1 MiB leaves room for later
// bulk endpoints while keeping a client from exhausting memory.
const MaxBodyBytes = 1 << 20

// decodeJSON reads the request body into dst, which must be a pointer to a
// struct. Each client mistake becomes a problem naming what to fix: the wrong
// media type (415), an oversize body (413), or a body that does not match the
// schema — malformed JSON, an unknown or mistyped member, trailing data (400).
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return newProblem(http.StatusUnsupportedMediaType, ProblemMediaType,
			"the request body must be JSON, sent with Content-Type: application/json")
	}
	if r.ContentLength > MaxBodyBytes {
		return tooLarge()
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return badBody("the body must hold exactly one JSON object; unexpected data follows it")
	}
	return nil
}

func tooLarge() *Problem {
	return newProblem(http.StatusRequestEntityTooLarge, ProblemTooLarge,
		fmt.Sprintf("the request body must not exceed %d bytes", MaxBodyBytes))
}

func badBody(detail string, issues ...FieldIssue) *Problem {
	return newProblem(http.StatusBadRequest, ProblemBadRequest, detail, issues...)
}

// decodeProblem explains a json.Decoder error in terms of the request.
func decodeProblem(err error) *Problem {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge()
	case errors.Is(err, io.EOF):
		return badBody("the request body is empty; a JSON object is expected")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badBody("the request body is truncated JSON")
	case errors.As(err, &syntax):
		return badBody(fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badBody("the request body must be a JSON object")
		}
		return badBody("a member of the body has the wrong type",
			FieldIssue{Field: typ.Field, Message: "must be " + describeType(typ.Type)})
	}
	// encoding/json reports unknown members only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return badBody("the body has a member this endpoint does not accept",
			FieldIssue{Field: name, Message: "is not a known field"})
	}
	return badBody("the request body could not be read as JSON")
}

// describeType names a Go type in the words of the API schema.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[jsonDate]() {
		return "a date string YYYY-MM-DD"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// jsonDate is a calendar date in a request body. Unlike kehu.Date it reports
// a bad value as a type error, which encoding/json labels with the member
// name, so the client learns which field to fix.
type jsonDate kehu.Date

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *jsonDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeFor[jsonDate]()}
	}
	p, err := kehu.ParseDate(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[jsonDate]()}
	}
	*d = jsonDate(p)
	return nil
}
