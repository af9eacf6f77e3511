package level

import (
	"context"
	"sync"
)

// loaders is how many batches are read ahead while one is evaluated and
// saved. Reading a batch waits mostly on the disk (rows of four tables), so
// two readers beside the writer keep the disk busy without crowding SQLite's
// single writer or PostgreSQL's pool.
const loaders = 2

// inOrder calls load(i) for i in [0, n) on up to workers goroutines, at most
// workers+1 batches ahead of the consumer, and calls use(i, v) for each in
// order on the caller's goroutine. The first error stops the rest.
func inOrder[T any](ctx context.Context, n, workers int, load func(ctx context.Context, i int) (T, error),
	use func(i int, v T) error) error {
	type result struct {
		v   T
		err error
	}
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (deferred below, so run first) has released the goroutines
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make([]chan result, n)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	ahead := make(chan struct{}, workers+1) // bounds batches held in memory
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v, err := load(ctx, i)
				slots[i] <- result{v, err}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for i := range n {
		var r result
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-ahead
		if r.err != nil {
			return r.err
		}
		if err := use(i, r.v); err != nil {
			return err
		}
	}
	return nil
}
