package ingest

import (
	"context"
	"encoding/json"
	"fmt"

	"kehu/internal/kehu"
)

// replay answers a batch whose key is already held: the stored result when
// the body is the same, a conflict otherwise. ok is false when no live batch
// holds the key. A replay is audited like any batch, with outcome
// "replayed", and applies nothing.
func (s *Service) replay(ctx context.Context, a kehu.Actor, b Batch, hash string) (Result, bool, error) {
	stored, err := s.d.Store.FindBatch(ctx, a.UserID, b.Key, s.d.Clock.Now())
	switch {
	case kehu.ErrorCode(err) == kehu.ENOTFOUND:
		return Result{}, false, nil
	case err != nil:
		return Result{}, false, fmt.Errorf("ingest: find batch: %w", err)
	case stored.Kind != b.Kind || stored.RequestHash != hash:
		return Result{}, true, kehu.Errorf(kehu.ECONFLICT,
			"Idempotency-Key %q was already used for a different batch; use a new key for new content", b.Key)
	case len(stored.Answer) == 0:
		return Result{}, true, kehu.Errorf(kehu.ECONFLICT, "a batch with this Idempotency-Key is still being applied; retry shortly")
	}
	var r Result
	if err := json.Unmarshal(stored.Answer, &r); err != nil {
		return Result{}, true, fmt.Errorf("ingest: stored answer of batch %d: %w", stored.ID, err)
	}
	r.Replayed = true
	if err := s.d.Audit.Record(ctx, batchEntry(r, b.Key, "replayed")); err != nil {
		return Result{}, true, err
	}
	return r, true, nil
}

// encodeResult is the stored form of a result.
func encodeResult(r Result) []byte {
	b, err := json.Marshal(r)
	if err != nil { // cannot happen: plain strings, numbers and a time
		panic(fmt.Sprintf("ingest: encode result: %v", err))
	}
	return b
}
