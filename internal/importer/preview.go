package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/identity"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// PreviewRows is how many data rows a preview validates.
const PreviewRows = 20

// Preview is what the mapping step shows: the detected encoding, the
// header with the suggested (or chosen) canonical column of each file
// column, the required columns still missing, and the first rows with
// their validation results. UploadID names the stored upload, so starting
// the import does not send the file again.
type Preview struct {
	UploadID string       `json:"upload_id"`
	FileName string       `json:"file_name"`
	FileSize int64        `json:"file_size"`
	Kind     string       `json:"kind"`
	Source   string       `json:"source_system"`
	Encoding string       `json:"encoding"`
	Header   []string     `json:"header"`
	Mapping  []string     `json:"mapping"`
	Missing  []string     `json:"missing"`
	Columns  []Column     `json:"columns"`
	Rows     []PreviewRow `json:"rows"`
	Problem  string       `json:"problem,omitempty"` // why the file cannot be imported at all
}

// PreviewRow is one validated row: its cells as the file has them (personal
// values masked) and its problems. References to customers and accounts are
// checked when the import runs, not here.
type PreviewRow struct {
	Line     int64     `json:"line"`
	Cells    []string  `json:"cells"`
	OK       bool      `json:"ok"`
	Problems []Problem `json:"problems"`
	// Repeats names an earlier row of the file this one repeats; nil when
	// none. A repeated key is also a problem (the import rejects the row,
	// keeping the first); a repeated identity document is not (the two
	// records resolve to one customer, the first creating it).
	Repeats *Repeat `json:"repeats"`
}

// Repeat is an earlier row of the same file with the same subject.
type Repeat struct {
	// Line is the first row with the same key or document.
	Line int64 `json:"line"`
	// By is RepeatKey (the same subject key: source_id for customers,
	// account number, holding, reference …) or RepeatIdentity (customers:
	// the same identity document under another source_id).
	By string `json:"by"`
}

// Why a preview row repeats an earlier one.
const (
	RepeatKey      = "key"
	RepeatIdentity = "identity"
)

// pendingTTL is how long an upload waits for its import to be started.
const pendingTTL = 24 * time.Hour

// pending is the sidecar of a stored upload awaiting its start.
type pending struct {
	Owner    int64     `json:"owner"`
	FileName string    `json:"file_name"`
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
	Created  time.Time `json:"created"`
}

var uploadIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Stage stores an upload for a later preview or start and returns its id:
// the API reads a multipart body's file before it has seen every field, and
// the UI previews a file before it is imported. Uploads not started within
// a day are removed.
func (s *Service) Stage(ctx context.Context, fileName string, body io.Reader) (string, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return "", err
	}
	f, err := s.save(body)
	if err != nil {
		return "", err
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	meta := pending{Owner: a.UserID, FileName: cleanFileName(fileName), SHA256: f.sha256, Size: f.size, Created: s.clock.Now()}
	raw, _ := json.Marshal(meta)
	if err := os.WriteFile(s.pendingPath(id)+".json", raw, 0o600); err != nil {
		os.Remove(f.path)
		return "", kehu.Errorf(kehu.EUNAVAILABLE, "cannot store the upload: %v", err)
	}
	if err := os.Rename(f.path, s.pendingPath(id)); err != nil {
		os.Remove(f.path)
		s.dropPending(id)
		return "", kehu.Errorf(kehu.EUNAVAILABLE, "cannot store the upload: %v", err)
	}
	return id, nil
}

// Preview stages an upload and previews it.
func (s *Service) Preview(ctx context.Context, u Upload) (Preview, error) {
	if err := s.checkUpload(ctx, &u); err != nil {
		return Preview{}, err
	}
	id, err := s.Stage(ctx, u.FileName, u.Body)
	if err != nil {
		return Preview{}, err
	}
	return s.PreviewStored(ctx, id, u.Kind, u.SourceSystem, u.Mapping)
}

// PreviewStored previews a staged upload, with a kind, source and mapping
// (the mapping step's "check again").
func (s *Service) PreviewStored(ctx context.Context, uploadID, kind, source string, mapping map[string]string) (Preview, error) {
	meta, err := s.pendingFor(ctx, uploadID)
	if err != nil {
		return Preview{}, err
	}
	u := Upload{Kind: kind, SourceSystem: source, FileName: meta.FileName}
	if err := s.checkUpload(ctx, &u); err != nil {
		return Preview{}, err
	}
	return s.preview(ctx, uploadID, meta, kind, source, mapping)
}

// SubmitStored queues the import of a staged upload; the file moves to the
// job without being copied.
func (s *Service) SubmitStored(ctx context.Context, uploadID, kind, source string, mapping map[string]string) (Job, error) {
	meta, err := s.pendingFor(ctx, uploadID)
	if err != nil {
		return Job{}, err
	}
	u := Upload{Kind: kind, SourceSystem: source, Mapping: mapping, FileName: meta.FileName}
	if err := s.checkUpload(ctx, &u); err != nil {
		return Job{}, err
	}
	// A wrong mapping keeps the upload, so the user can fix it and retry.
	if err := checkFile(s.pendingPath(uploadID), kind, mapping); err != nil {
		return Job{}, err
	}
	path := filepath.Join(s.dir, "job-"+uploadID)
	if err := os.Rename(s.pendingPath(uploadID), path); err != nil {
		return Job{}, kehu.Errorf(kehu.ENOTFOUND, "the upload has expired: upload the file again")
	}
	s.dropPending(uploadID)
	return s.submitFile(ctx, u, saved{path: path, sha256: meta.SHA256, size: meta.Size})
}

func (s *Service) pendingPath(id string) string { return filepath.Join(s.dir, "pending-"+id) }

// pendingFor reads an upload's sidecar; only its owner may use it.
func (s *Service) pendingFor(ctx context.Context, id string) (pending, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return pending{}, err
	}
	var meta pending
	if !uploadIDPattern.MatchString(id) {
		return meta, kehu.Errorf(kehu.ENOTFOUND, "no such upload")
	}
	raw, err := os.ReadFile(s.pendingPath(id) + ".json")
	if err != nil || json.Unmarshal(raw, &meta) != nil || meta.Owner != a.UserID {
		return pending{}, kehu.Errorf(kehu.ENOTFOUND, "no such upload (uploads are kept for 24 hours)")
	}
	return meta, nil
}

func (s *Service) dropPending(id string) {
	os.Remove(s.pendingPath(id))
	os.Remove(s.pendingPath(id) + ".json")
}

// cleanPending removes uploads nobody started within pendingTTL.
func (s *Service) cleanPending(now time.Time) {
	names, _ := filepath.Glob(filepath.Join(s.dir, "pending-*.json"))
	for _, n := range names {
		raw, err := os.ReadFile(n)
		var meta pending
		if err == nil && json.Unmarshal(raw, &meta) == nil && now.Sub(meta.Created) < pendingTTL {
			continue
		}
		s.dropPending(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "pending-"), ".json"))
	}
}

// preview reads the first rows of a stored upload.
func (s *Service) preview(ctx context.Context, id string, meta pending, kind, source string, mapping map[string]string) (Preview, error) {
	p := Preview{UploadID: id, FileName: meta.FileName, FileSize: meta.Size, Kind: kind, Source: source,
		Columns: ColumnsOf(kind), Rows: []PreviewRow{}, Missing: []string{}}
	src, err := OpenFile(s.pendingPath(id))
	if err != nil {
		if kehu.ErrorCode(err) != kehu.EINVALID {
			return p, err
		}
		p.Problem = kehu.ErrorMessage(err)
		return p, nil
	}
	defer src.Close()
	p.Encoding, p.Header = src.Encoding(), src.Header()
	m, err := SuggestMapping(kind, p.Header, mapping)
	if err != nil {
		return p, err
	}
	p.Mapping = m.Columns
	if p.Missing = m.Missing(kind, "source_system"); p.Missing == nil {
		p.Missing = []string{}
	}
	refs, err := s.store.Refs(ctx)
	if err != nil {
		return p, err
	}
	pr := &parser{kind: kind, source: source, refs: refs, seal: s.engine.seal, loc: kehu.LoadShanghai(),
		now: s.clock.Now(), asOf: s.clock.Now(), nameKey: s.engine.nameKey}
	if scope, err := s.customers.WriteScope(ctx, access.DataImport); err == nil && !scope.Unrestricted() {
		pr.orgInScope = func(o OrgRef) bool { return scope.Allows(o.ID, o.Path, nil) }
	}
	// Rows repeated inside the file are found as the import finds them: the
	// subject key of each valid row, and for customers the identity
	// document (type and blind index), each remembered at its first line.
	keys, docs := map[string]int64{}, map[string]int64{}
	for len(p.Rows) < PreviewRows {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.Problem = kehu.ErrorMessage(err)
			break
		}
		out := PreviewRow{Line: row.Line, Cells: maskCells(kind, m, row.Cells), Problems: []Problem{}}
		if len(p.Missing) == 0 {
			res := pr.parse(row, m, len(p.Header))
			if len(res.problems) > 0 {
				out.Problems = res.problems
			} else {
				out.Repeats = repeatOf(res, keys, docs)
				if out.Repeats != nil && out.Repeats.By == RepeatKey {
					out.Problems = []Problem{{Column: duplicateColumn[kind], Reason: duplicateReason(out.Repeats.Line)}}
				}
			}
		}
		out.OK = len(out.Problems) == 0 && len(p.Missing) == 0
		p.Rows = append(p.Rows, out)
	}
	return p, nil
}

// maskCells shows a row's cells for the preview: mapped personal columns
// masked by their rule, long digit runs of unmapped columns masked too (an
// unmapped column may hold an identifier), everything shortened.
func maskCells(kind string, m Mapping, cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		c = Clean(c)
		mapped := i < len(m.Columns) && m.Columns[i] != ""
		rule := vault.RuleNone
		if mapped {
			rule = maskFor(kind, m.Columns[i])
		}
		switch {
		case c == "":
		case rule == vault.RuleWithhold:
			c = "****"
		case rule != vault.RuleNone:
			c = vault.Mask(rule, c, false)
		case !mapped:
			c = longDigits.ReplaceAllStringFunc(c, func(d string) string { return vault.MaskIDNumber(d) })
		}
		out[i] = truncate(c, 60)
	}
	return out
}

// repeatOf reports whether a valid row repeats an earlier one of the
// preview, by subject key first (the import rejects it) and then, for a
// customer, by identity document (the import resolves both to one
// customer), and remembers the row's key and document otherwise.
func repeatOf(res parsed, keys, docs map[string]int64) *Repeat {
	if res.key != "" {
		if at, ok := keys[res.key]; ok {
			return &Repeat{Line: at, By: RepeatKey}
		}
		keys[res.key] = res.line
	}
	in, ok := res.rec.(identity.Incoming)
	if !ok || in.Sealed.IDNumberIndex == "" {
		return nil
	}
	doc := in.Customer.IDType + "\x00" + in.Sealed.IDNumberIndex
	if at, ok := docs[doc]; ok {
		return &Repeat{Line: at, By: RepeatIdentity}
	}
	docs[doc] = res.line
	return nil
}
