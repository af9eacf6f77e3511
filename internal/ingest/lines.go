package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// LimitError is a batch over one of Config's bounds as a whole (too many
// bytes or lines); the API answers it with 413.
type LimitError struct{ Message string }

func (e *LimitError) Error() string { return e.Message }

// line is one non-blank line of a batch and its 1-based number.
type line struct {
	no   int
	text []byte
}

// splitLines cuts a body into its non-blank lines. A UTF-8 byte order mark
// at the start and "\r" before "\n" are dropped (Windows tools write both).
// Lines that are too long or not UTF-8 are rejected on their own; more than
// maxLines lines fail the whole batch.
func splitLines(body []byte, c Config) ([]line, []LineError, error) {
	if int64(len(body)) > c.MaxBytes {
		return nil, nil, &LimitError{fmt.Sprintf("a batch must not exceed %d bytes", c.MaxBytes)}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var lines []line
	var bad []LineError
	for no := 1; len(body) > 0; no++ {
		text := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			text, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		text = bytes.TrimSuffix(text, []byte("\r"))
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if len(lines)+len(bad) == c.MaxLines {
			return nil, nil, &LimitError{fmt.Sprintf("a batch must not have more than %d lines; split it", c.MaxLines)}
		}
		switch {
		case len(text) > c.MaxLineBytes:
			bad = append(bad, LineError{Line: no, Reason: fmt.Sprintf("the line is longer than %d bytes", c.MaxLineBytes)})
		case !utf8.Valid(text):
			bad = append(bad, LineError{Line: no, Reason: "the line is not valid UTF-8"})
		default:
			lines = append(lines, line{no: no, text: text})
		}
	}
	return lines, bad, nil
}

// decodeLine reads one line into dst (a pointer to a struct) strictly: one
// JSON object, no unknown members, members of the right type. A failure is
// reported as a LineError naming the member when there is one; it is a
// member's error (the line itself is a JSON object) when Field is set.
func decodeLine(l line, dst any) *LineError {
	dec := json.NewDecoder(bytes.NewReader(l.text))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); !errors.Is(extra, io.EOF) {
			return &LineError{Line: l.no, Reason: "the line must hold exactly one JSON object"}
		}
		return nil
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &typ) && typ.Field == "":
		return &LineError{Line: l.no, Reason: "the line must be a JSON object"}
	case errors.As(err, &typ):
		return &LineError{Line: l.no, Field: typ.Field, Reason: "must be " + jsonKind(typ.Type.Kind().String())}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &LineError{Line: l.no, Reason: "the line is not valid JSON"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &LineError{Line: l.no, Field: strings.Trim(name, `"`), Reason: "is not a known field"}
	}
	return &LineError{Line: l.no, Reason: "the line could not be read as JSON"}
}

// jsonKind names a Go kind in the words of JSON.
func jsonKind(k string) string {
	switch {
	case k == "string":
		return "a string"
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case k == "bool":
		return "true or false"
	case k == "slice":
		return "an array"
	}
	return "an object"
}
