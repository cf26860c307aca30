package connectivity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a snapshot answers questions before it is read again.
const DefaultCacheTTL = 30 * time.Second

// Snapshot is the Cloud Connector info of every bound subaccount at one moment. It is immutable
// once built.
type Snapshot struct {
	FetchedAt  time.Time
	Connectors []Connector
	// Subaccounts[i] names the binding Connectors[i] was read through (its subaccount ID or name).
	Subaccounts []string
}

// NewSnapshot holds connectors fetched at the given time, read through the named subaccounts
// (nil, or a slice of another length, leaves every name empty).
func NewSnapshot(fetchedAt time.Time, connectors []Connector, subaccounts []string) *Snapshot {
	if len(subaccounts) != len(connectors) {
		subaccounts = make([]string, len(connectors))
	}
	return &Snapshot{FetchedAt: fetchedAt, Connectors: connectors, Subaccounts: subaccounts}
}

// Landscape serves snapshots of one or more subaccounts to all tools. A snapshot is reused for
// the cache TTL, and concurrent requests for a new one share a single fetch.
type Landscape struct {
	clients []*Client
	ttl     time.Duration
	now     func() time.Time

	mu       sync.Mutex
	snapshot *Snapshot
	inflight *flight
}

// flight is one fetch shared by everyone who asked while it ran. It runs under the deadline of
// the caller that started it; a caller that joined with a later deadline, still waiting when that
// deadline ends the fetch, starts another (see Snapshot). Its context is cancelled when the last
// caller gives up, so an abandoned fetch does not go on.
type flight struct {
	done     chan struct{}
	result   *Snapshot
	err      error
	deadline time.Time // of the fetch's context; zero for none
	expired  bool      // the fetch failed because its deadline ended
	waiters  int
	// latest is the latest deadline of the callers that joined, zero if one of them has none.
	latest time.Time
	cancel context.CancelFunc
}

// NewLandscape serves snapshots read through clients. A ttl of 0 disables caching (every call
// reads the API, though concurrent calls still share one read).
func NewLandscape(clients []*Client, ttl time.Duration) *Landscape {
	return &Landscape{clients: clients, ttl: ttl, now: time.Now}
}

// Snapshot returns a snapshot no older than the cache TTL, fetching one if needed. With refresh
// it does not reuse a cached snapshot (it may share a fetch already under way). Each caller waits
// up to its own deadline, however long the callers it shares a fetch with may wait.
func (l *Landscape) Snapshot(ctx context.Context, refresh bool) (*Snapshot, error) {
	l.mu.Lock()
	if s := l.snapshot; s != nil && !refresh && l.ttl > 0 && l.now().Sub(s.FetchedAt) < l.ttl {
		l.mu.Unlock()
		return s, nil
	}
	l.mu.Unlock()
	var previous *flight
	for {
		f := l.join(ctx, previous)
		select {
		case <-f.done:
			if f.expired && ctx.Err() == nil && outlasts(ctx, f.deadline) {
				// The fetch ran out of the time of the caller that started it; this caller has
				// more: fetch again, under the latest deadline of those who waited.
				previous = f
				continue
			}
			return f.result, f.err
		case <-ctx.Done():
			l.mu.Lock()
			f.waiters--
			if f.waiters == 0 {
				// Nobody wants this fetch any more: stop it, and let the next caller start afresh.
				f.cancel()
				if l.inflight == f {
					l.inflight = nil
				}
			}
			l.mu.Unlock()
			return nil, context.Cause(ctx)
		}
	}
}

// join adds the caller of ctx to the fetch under way, or starts one: under the caller's deadline,
// or, when it follows a fetch whose deadline ended (previous), under the latest deadline of
// previous's callers.
func (l *Landscape) join(ctx context.Context, previous *flight) *flight {
	deadline, _ := ctx.Deadline() // zero: none
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.inflight
	if f == nil {
		if previous != nil {
			deadline = previous.latest
		}
		fetchCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		if !deadline.IsZero() {
			fetchCtx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline)
		}
		f = &flight{done: make(chan struct{}), deadline: deadline, latest: deadline, cancel: cancel}
		l.inflight = f
		go l.run(fetchCtx, f)
	}
	if !f.latest.IsZero() && (deadline.IsZero() || deadline.After(f.latest)) {
		f.latest = deadline
	}
	f.waiters++
	return f
}

// outlasts reports whether ctx's deadline is later than deadline (zero: none).
func outlasts(ctx context.Context, deadline time.Time) bool {
	own, ok := ctx.Deadline()
	return !deadline.IsZero() && (!ok || own.After(deadline))
}

// run performs one fetch and publishes its result.
func (l *Landscape) run(ctx context.Context, f *flight) {
	defer f.cancel()
	snap, err := l.fetch(ctx)
	l.mu.Lock()
	if err == nil {
		l.snapshot = snap
	}
	f.result, f.err = snap, err
	f.expired = err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	if l.inflight == f {
		l.inflight = nil
	}
	l.mu.Unlock()
	close(f.done)
}

// fetch reads every subaccount concurrently and merges the answers.
func (l *Landscape) fetch(ctx context.Context) (*Snapshot, error) {
	fetchedAt := l.now()
	results := make([][]Connector, len(l.clients))
	errs := make([]error, len(l.clients))
	var wg sync.WaitGroup
	for i, c := range l.clients {
		wg.Go(func() { results[i], errs[i] = c.CloudConnectors(ctx) })
	}
	wg.Wait()

	var connectors []Connector
	var subaccounts []string
	for i, c := range l.clients {
		if errs[i] != nil {
			if len(l.clients) == 1 {
				return nil, errs[i]
			}
			return nil, fmt.Errorf("subaccount %s: %w", c.Binding().Label(), errs[i])
		}
		name := c.Binding().Label()
		for _, conn := range results[i] {
			connectors = append(connectors, conn)
			subaccounts = append(subaccounts, name)
		}
	}
	if connectors == nil {
		connectors = []Connector{}
	}
	return NewSnapshot(fetchedAt, connectors, subaccounts), nil
}
