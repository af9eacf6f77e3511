package xlsxreport

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"kehu/internal/audit"
)

func TestPageStopsAtShortPageAndFollowsKey(t *testing.T) {
	var afters []int64
	calls := 0
	out, err := Page([]int64{-1}, func(after int64, limit int) ([]int64, error) {
		afters = append(afters, after)
		calls++
		if calls == 1 {
			rows := make([]int64, limit)
			for i := range rows {
				rows[i] = int64(i + 1)
			}
			return rows, nil
		}
		return []int64{9_999}, nil
	}, func(v int64) int64 { return v })
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1+5000+1 || afters[0] != 0 || afters[1] != 5000 || len(afters) != 2 {
		t.Fatalf("rows %d, afters %v", len(out), afters)
	}
}

type gate struct{ n int64 }

func (g *gate) GateExport(_ context.Context, n int64, _ audit.Entry) error {
	g.n = n
	return errors.New("approval required")
}

// A list goes through the gate, and a refusal writes nothing.
func TestReleaseGatesAList(t *testing.T) {
	b := Book{T: func(k string, _ ...any) string { return k }, Lookup: func(string) (string, bool) { return "", false }}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.F.Close()
	g := &gate{}
	var w bytes.Buffer
	err := Release(context.Background(), g, nil, nil, audit.Entry{Count: 3}, b.F, &w, "test")
	if err == nil || g.n != 3 || w.Len() != 0 {
		t.Fatalf("err %v, gated %d, wrote %d bytes", err, g.n, w.Len())
	}
}
