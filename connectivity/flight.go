package connectivity

import (
	"context"
	"sync"
)

// flight is one request shared by every caller that asks for the same thing while it runs (a
// token, a snapshot). It runs on a context of its own, detached from the cancellation of the
// caller that started it, and is cancelled when the last caller waiting for it gives up, so that
// nothing goes on for nobody. Its owner's mutex guards waiters and the slot that holds it.
type flight[T any] struct {
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when val and err are set
	val     T
	err     error
	waiters int
}

// join adds a caller to the flight in slot, first starting one that runs run, when there is none,
// on a context with parent's values and deadline but not its cancellation. The mutex guarding
// slot must be held.
func join[T any](slot **flight[T], parent context.Context, run func(*flight[T])) *flight[T] {
	f := *slot
	if f == nil {
		f = &flight[T]{done: make(chan struct{})}
		f.ctx, f.cancel = context.WithCancel(context.WithoutCancel(parent))
		if deadline, ok := parent.Deadline(); ok {
			f.ctx, f.cancel = context.WithDeadline(context.WithoutCancel(parent), deadline)
		}
		*slot = f
		go run(f)
	}
	f.waiters++
	return f
}

// wait returns true when f has landed, false when ctx ended first. A caller that gives up leaves
// f; the last to leave cancels it and takes it out of slot, so the next caller starts afresh.
func (f *flight[T]) wait(ctx context.Context, mu *sync.Mutex, slot **flight[T]) bool {
	select {
	case <-f.done:
		return true
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	if f.waiters--; f.waiters == 0 {
		f.cancel()
		if *slot == f {
			*slot = nil
		}
	}
	return false
}

// land publishes the outcome of f and wakes its callers. The mutex guarding slot must be held.
func (f *flight[T]) land(slot **flight[T], val T, err error) {
	if *slot == f {
		*slot = nil
	}
	f.val, f.err = val, err
	f.cancel()
	close(f.done)
}
