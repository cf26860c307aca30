// Package sharedcall runs a call once for every caller that wants its result while it runs. The
// call runs under a context of its own, not any caller's: each caller waits up to its own
// deadline, and when the last caller still waiting is cancelled, so is the call, so nothing runs
// for nobody.
package sharedcall

import (
	"context"
	"errors"
	"sync"
)

// Call is a call shared by the callers that started or joined it.
type Call[T any] struct {
	ctx    context.Context // ends when f returns or nobody waits any more
	cancel context.CancelFunc
	done   chan struct{}
	val    T
	err    error
	// untilDeadline: a caller whose deadline passed leaves the call to run on (see Start).
	untilDeadline bool

	mu      sync.Mutex
	waiters int
}

// Start runs f under a context derived from base (which should carry no caller's cancellation),
// with one waiter: the caller. With untilDeadline, a caller that leaves because its deadline
// passed does not cancel the call, only one that was cancelled does.
func Start[T any](base context.Context, untilDeadline bool, f func(context.Context) (T, error)) *Call[T] {
	c := &Call[T]{done: make(chan struct{}), untilDeadline: untilDeadline, waiters: 1}
	c.ctx, c.cancel = context.WithCancel(base)
	go func() {
		c.val, c.err = f(c.ctx)
		c.cancel()
		close(c.done)
	}()
	return c
}

// Join adds a waiter to c; false when there is no call to join (c is nil, has ended or was
// abandoned), and the caller must start a new one.
func (c *Call[T]) Join() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return false
	}
	c.waiters++
	return true
}

// Wait returns the call's result, or ok=false when ctx ends first; the caller has then left the
// call, before Wait returns, so that nobody joins a call that nobody wants.
func (c *Call[T]) Wait(ctx context.Context) (val T, err error, ok bool) {
	select {
	case <-c.done:
		return c.val, c.err, true
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiters--; c.waiters == 0 && !(c.untilDeadline && errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		c.cancel()
	}
	return val, nil, false
}
