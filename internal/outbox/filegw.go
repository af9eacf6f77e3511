package outbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// FileGateway appends each message as a JSON line to
// <dir>/<channel>-<YYYY-MM-DD>.jsonl (the day in Asia/Shanghai) and fsyncs
// the file before answering, so an acknowledged message is on disk. It is
// the default gateway and the demo's: operators and tests read what "was
// sent". Addresses are masked in the file unless ClearAddresses is set (a
// test environment feeding another system). It honours idempotency keys:
// keys of the current and the previous day's files are remembered (loaded
// from the files on first use), so a message retried after a crash is not
// written twice.
type FileGateway struct {
	dir            string
	clearAddresses bool
	clock          kehu.Clock
	loc            *time.Location

	mu   sync.Mutex
	seen map[string]map[string]bool // day file → keys written
	// torn marks a day file whose last line a crash cut short: the next
	// append starts on a new line.
	torn map[string]bool
}

// NewFileGateway returns a file gateway writing under dir (created if
// missing).
func NewFileGateway(dir string, clearAddresses bool, clock kehu.Clock) (*FileGateway, error) {
	if dir == "" {
		return nil, kehu.Errorf(kehu.EINVALID, "the file gateway needs a directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, kehu.Errorf(kehu.EUNAVAILABLE, "cannot create the outbox directory %s: %v", dir, err)
	}
	if clock == nil {
		clock = kehu.SystemClock{}
	}
	return &FileGateway{dir: dir, clearAddresses: clearAddresses, clock: clock, loc: kehu.LoadShanghai(),
		seen: map[string]map[string]bool{}, torn: map[string]bool{}}, nil
}

// Name implements Gateway.
func (g *FileGateway) Name() string { return "file" }

// FileLine is one line of a file gateway's file.
type FileLine struct {
	At             time.Time           `json:"at"`
	MessageID      int64               `json:"message_id"`
	IdempotencyKey string              `json:"idempotency_key"`
	Channel        Channel             `json:"channel"`
	To             string              `json:"to"`
	CustomerID     int64               `json:"customer_id"`
	Subject        string              `json:"subject,omitempty"`
	Body           string              `json:"body,omitempty"`
	Fields         []msgtemplate.Field `json:"fields,omitempty"`
	ExternalID     string              `json:"external_id,omitempty"`
	Source         string              `json:"source"`
}

// Path returns the file of ch on the day of t.
func (g *FileGateway) Path(ch Channel, t time.Time) string {
	return filepath.Join(g.dir, string(ch)+"-"+t.In(g.loc).Format("2006-01-02")+".jsonl")
}

// Send implements Gateway: one append and one fsync per channel file for
// the whole batch.
func (g *FileGateway) Send(ctx context.Context, batch []Envelope) []SendResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now().UTC()
	out := make([]SendResult, len(batch))
	byPath := map[string][]int{}
	var order []string
	for i, e := range batch {
		p := g.Path(e.Channel, now)
		if _, ok := byPath[p]; !ok {
			order = append(order, p)
		}
		byPath[p] = append(byPath[p], i)
	}
	for _, p := range order {
		idx := byPath[p]
		if err := g.write(p, batch[idx[0]].Channel, now, batch, idx, out); err != nil {
			for _, i := range idx {
				if out[i].ProviderID == "" {
					out[i].Err = err
				}
			}
		}
	}
	return out
}

func (g *FileGateway) write(path string, ch Channel, now time.Time, batch []Envelope, idx []int, out []SendResult) error {
	prev := g.Path(ch, now.Add(-24*time.Hour))
	for _, p := range []string{path, prev} {
		if err := g.load(p); err != nil {
			return err
		}
	}
	var buf []byte
	var written []int
	inBatch := map[string]bool{}
	for _, i := range idx {
		e := batch[i]
		if g.seen[path][e.IdempotencyKey] || g.seen[prev][e.IdempotencyKey] || inBatch[e.IdempotencyKey] {
			out[i].ProviderID = e.IdempotencyKey // delivered before: not again
			continue
		}
		to := e.To
		if !g.clearAddresses {
			to = maskAddress(e.Channel, to)
		}
		line, err := json.Marshal(FileLine{At: now, MessageID: e.MessageID, IdempotencyKey: e.IdempotencyKey, Channel: e.Channel,
			To: to, CustomerID: e.CustomerID, Subject: e.Subject, Body: e.Body, Fields: e.Fields, ExternalID: e.ExternalID,
			Source: e.Source})
		if err != nil {
			out[i].Err = Permanent(err)
			continue
		}
		buf = append(append(buf, line...), '\n')
		written = append(written, i)
		inBatch[e.IdempotencyKey] = true
	}
	if len(written) == 0 {
		return nil
	}
	if g.torn[path] {
		buf = append([]byte{'\n'}, buf...)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("file gateway: %w", err)
	}
	_, werr := f.Write(buf)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		// Part of the batch may be on disk; the keys are reloaded from the
		// file before the retry, so what was written is not written again.
		delete(g.seen, path)
		return fmt.Errorf("file gateway: %w", err)
	}
	delete(g.torn, path)
	for _, i := range written {
		g.seen[path][batch[i].IdempotencyKey] = true
		out[i].ProviderID = batch[i].IdempotencyKey
	}
	// Forget days older than the previous one.
	for p := range g.seen {
		if p != path && p != prev && filepath.Base(p)[:len(ch)] == string(ch) {
			delete(g.seen, p)
		}
	}
	return nil
}

// load reads the keys of a day file once.
func (g *FileGateway) load(path string) error {
	if _, ok := g.seen[path]; ok {
		return nil
	}
	keys := map[string]bool{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		g.seen[path] = keys
		return nil
	}
	if err != nil {
		return fmt.Errorf("file gateway: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			g.torn[path] = true
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var l struct {
			Key string `json:"idempotency_key"`
		}
		// A torn last line (a crash mid-write) is skipped: its message
		// was not acknowledged and will be written again whole.
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Key != "" {
			keys[l.Key] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("file gateway: read %s: %w", filepath.Base(path), err)
	}
	g.seen[path] = keys
	return nil
}

func maskAddress(ch Channel, to string) string {
	switch ch {
	case msgtemplate.SMS:
		return MaskMobile(to)
	case msgtemplate.Email:
		return MaskEmail(to)
	}
	return to
}
