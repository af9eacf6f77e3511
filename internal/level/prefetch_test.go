package level

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestInOrderKeepsOrderAndStopsOnError(t *testing.T) {
	ctx := context.Background()
	load := func(_ context.Context, i int) (int, error) {
		time.Sleep(time.Duration((7*i)%5) * time.Millisecond) // finish out of order
		return i * i, nil
	}
	var got []int
	if err := inOrder(ctx, 20, 3, load, func(i, v int) error { got = append(got, v); return nil }); err != nil {
		t.Fatal(err)
	}
	want := make([]int, 20)
	for i := range want {
		want[i] = i * i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	boom := errors.New("boom")
	used := 0
	err := inOrder(ctx, 50, 2, load, func(i, v int) error {
		used++
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || used != 4 {
		t.Fatalf("consumer error: %v after %d", err, used)
	}
	err = inOrder(ctx, 50, 2, func(_ context.Context, i int) (int, error) {
		if i == 5 {
			return 0, boom
		}
		return i, nil
	}, func(int, int) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("loader error: %v", err)
	}
	if err := inOrder(ctx, 0, 2, load, func(int, int) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
