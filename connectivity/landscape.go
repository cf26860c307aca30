package connectivity

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a snapshot answers questions before it is read again.
const DefaultCacheTTL = 30 * time.Second

// Snapshot is the Cloud Connector info of one or more subaccounts at one moment. It is immutable
// once built.
type Snapshot struct {
	FetchedAt  time.Time
	Connectors []Connector
	// Subaccounts[i] names the subaccount Connectors[i] was read from (its binding's label).
	Subaccounts []string
}

// NewSnapshot holds connectors fetched at the given time, read through the named subaccounts
// (nil, or a slice of another length, leaves every name empty). Nil connectors are an empty list.
func NewSnapshot(fetchedAt time.Time, connectors []Connector, subaccounts []string) *Snapshot {
	if connectors == nil {
		connectors = []Connector{}
	}
	if len(subaccounts) != len(connectors) {
		subaccounts = make([]string, len(connectors))
	}
	return &Snapshot{FetchedAt: fetchedAt, Connectors: connectors, Subaccounts: subaccounts}
}

// Landscape serves snapshots of one subaccount, read through its client. A snapshot is reused
// for the cache TTL, and concurrent requests for a new one share a single fetch.
type Landscape struct {
	client *Client
	ttl    time.Duration
	now    func() time.Time

	mu       sync.Mutex
	snapshot *Snapshot
	inflight *flight[*Snapshot]
}

// NewLandscape serves snapshots read through c. A ttl of 0 disables caching (every call reads
// the API, though concurrent calls still share one read).
func NewLandscape(c *Client, ttl time.Duration) *Landscape {
	return &Landscape{client: c, ttl: ttl, now: time.Now}
}

// Snapshot returns a snapshot no older than the cache TTL, fetching one if needed. With refresh
// it does not reuse a cached snapshot (it may share a fetch already under way). A shared fetch
// runs under the deadline of the caller that started it; each caller still waits up to its own
// deadline, fetching again if the shared fetch ran out of time before it did.
func (l *Landscape) Snapshot(ctx context.Context, refresh bool) (*Snapshot, error) {
	for {
		l.mu.Lock()
		if s := l.snapshot; s != nil && !refresh && l.ttl > 0 && l.now().Sub(s.FetchedAt) < l.ttl {
			l.mu.Unlock()
			l.client.observe(Event{Kind: EventCacheHit})
			return s, nil
		}
		f := join(&l.inflight, ctx, l.fetch)
		l.mu.Unlock()
		if !f.wait(ctx, &l.mu, &l.inflight) {
			return nil, context.Cause(ctx)
		}
		// Fetch again only when the fetch ran out of the time of the caller that started it, and
		// this caller has more.
		fetchDeadline, _ := f.ctx.Deadline()
		own, bounded := ctx.Deadline()
		if f.err == nil || !errors.Is(f.ctx.Err(), context.DeadlineExceeded) || ctx.Err() != nil || bounded && !own.After(fetchDeadline) {
			return f.val, f.err
		}
	}
}

// fetch reads the subaccount and publishes the snapshot.
func (l *Landscape) fetch(f *flight[*Snapshot]) {
	fetchedAt := l.now()
	connectors, err := l.client.CloudConnectors(f.ctx)
	var snap *Snapshot
	if err != nil {
		l.client.observe(Event{Kind: EventReadError})
	} else {
		snap = NewSnapshot(fetchedAt, connectors, slices.Repeat([]string{l.client.Binding().Label()}, len(connectors)))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.snapshot = snap
	}
	f.land(&l.inflight, snap, err)
}

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
