package connectivity

import (
	"context"
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

// flight is one fetch shared by everyone who asked while it ran. Its context is cancelled when
// the last of them gives up, so an abandoned fetch does not go on.
type flight struct {
	done    chan struct{}
	result  *Snapshot
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewLandscape serves snapshots read through clients. A ttl of 0 disables caching (every call
// reads the API, though concurrent calls still share one read).
func NewLandscape(clients []*Client, ttl time.Duration) *Landscape {
	return &Landscape{clients: clients, ttl: ttl, now: time.Now}
}

// Clients returns the clients the landscape reads through.
func (l *Landscape) Clients() []*Client { return l.clients }

// Snapshot returns a snapshot no older than the cache TTL, fetching one if needed. With refresh
// it does not reuse a cached snapshot (it may share a fetch already under way).
func (l *Landscape) Snapshot(ctx context.Context, refresh bool) (*Snapshot, error) {
	l.mu.Lock()
	if s := l.snapshot; s != nil && !refresh && l.ttl > 0 && l.now().Sub(s.FetchedAt) < l.ttl {
		l.mu.Unlock()
		return s, nil
	}
	f := l.inflight
	if f == nil {
		fetchCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		if deadline, ok := ctx.Deadline(); ok {
			fetchCtx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline)
		}
		f = &flight{done: make(chan struct{}), cancel: cancel}
		l.inflight = f
		go l.run(fetchCtx, f)
	}
	f.waiters++
	l.mu.Unlock()

	select {
	case <-f.done:
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

// run performs one fetch and publishes its result.
func (l *Landscape) run(ctx context.Context, f *flight) {
	defer f.cancel()
	snap, err := l.fetch(ctx)
	l.mu.Lock()
	if err == nil {
		l.snapshot = snap
	}
	f.result, f.err = snap, err
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
