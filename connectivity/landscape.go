package connectivity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultCacheTTL is how long a snapshot answers questions before it is read again.
const DefaultCacheTTL = 30 * time.Second

// Snapshot is the Cloud Connector info of every bound subaccount at one moment, decoded and
// indexed once so that every tool call reading it is cheap. It is immutable once built.
type Snapshot struct {
	FetchedAt  time.Time
	Connectors []Connector
	// Subaccounts[i] names the binding Connectors[i] was read through (its subaccount ID or name).
	Subaccounts []string
	// Systems lists every exposed system of every connector, in connector order.
	Systems []SystemRef

	// search holds the search texts of the distinct system lists back to back: ends[k] is where
	// the k-th distinct system's text ends, and firstSystem[i] is k of connector i's first system.
	search      string
	ends        []int
	firstSystem []int
}

// SystemRef points at one exposed system of a snapshot.
type SystemRef struct {
	Connector int // index into Snapshot.Connectors
	System    int // index into that connector's ExposedSystems
	// search is the lower-cased host and description, for substring queries.
	search string
}

// NewSnapshot indexes connectors fetched at the given time.
func NewSnapshot(fetchedAt time.Time, connectors []Connector, subaccounts []string) *Snapshot {
	s := &Snapshot{FetchedAt: fetchedAt, Connectors: connectors, Subaccounts: subaccounts}
	if len(s.Subaccounts) != len(connectors) {
		s.Subaccounts = make([]string, len(connectors))
	}
	// The search texts of all systems are written back to back into one string, and each ref
	// holds its part: one allocation instead of one per system. Connectors that share one
	// ExposedSystems slice (see DecodeConnectors) share its search texts too.
	type list struct { // a slice of systems: where it starts, and its length
		first *ExposedSystem
		len   int
	}
	seen := make(map[list]int)           // where each distinct slice's systems start in ends
	refs := make([]int, len(connectors)) // where each connector's systems start in ends
	n, distinct, size := 0, 0, 0
	for i := range connectors {
		systems := connectors[i].ExposedSystems
		n += len(systems)
		if len(systems) == 0 {
			continue
		}
		key := list{&systems[0], len(systems)}
		if at, ok := seen[key]; ok {
			refs[i] = at
			continue
		}
		seen[key] = distinct
		refs[i] = distinct
		distinct += len(systems)
		for _, sys := range systems {
			size += len(sys.Host) + 1 + len(sys.Description)
		}
	}
	text := make([]byte, 0, size)    // grows only for non-ASCII text whose lower case is longer
	ends := make([]int, 0, distinct) // where each distinct system's search text ends in text
	for i := range connectors {
		systems := connectors[i].ExposedSystems
		if len(systems) == 0 || refs[i] < len(ends) {
			continue // no systems, or the same slice as an earlier connector's
		}
		for _, sys := range systems {
			text = appendLower(text, sys.Host)
			text = append(text, 0)
			text = appendLower(text, sys.Description)
			ends = append(ends, len(text))
		}
	}
	all := string(text)
	s.search, s.ends, s.firstSystem = all, ends, refs
	s.Systems = make([]SystemRef, 0, n)
	for i := range connectors {
		for j := range connectors[i].ExposedSystems {
			k := refs[i] + j
			start := 0
			if k > 0 {
				start = ends[k-1]
			}
			s.Systems = append(s.Systems, SystemRef{Connector: i, System: j, search: all[start:ends[k]]})
		}
	}
	return s
}

// appendLower appends strings.ToLower(s) to dst, without allocating for ASCII.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// System returns the exposed system ref points at, and its connector.
func (s *Snapshot) System(ref SystemRef) (*Connector, *ExposedSystem) {
	c := &s.Connectors[ref.Connector]
	return c, &c.ExposedSystems[ref.System]
}

// SystemMatcher returns a function that reports, as MatchesQuery does, whether a system of the
// snapshot matches lowerQuery. It searches each distinct system text once: a high-availability
// shadow shares its master's systems (see DecodeConnectors), so this halves the work of asking
// MatchesQuery of every system.
func (s *Snapshot) SystemMatcher(lowerQuery string) func(SystemRef) bool {
	if lowerQuery == "" {
		return func(SystemRef) bool { return true }
	}
	matched := make([]bool, len(s.ends))
	start := 0
	for k, end := range s.ends {
		matched[k] = strings.Contains(s.search[start:end], lowerQuery)
		start = end
	}
	return func(ref SystemRef) bool {
		return matched[s.firstSystem[ref.Connector]+ref.System]
	}
}

// MatchesQuery reports whether the system's virtual host or description contains the lower-cased
// query.
func (ref SystemRef) MatchesQuery(lowerQuery string) bool {
	return strings.Contains(ref.search, lowerQuery)
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
			return nil, fmt.Errorf("subaccount %s: %w", subaccountName(c.Binding()), errs[i])
		}
		name := subaccountName(c.Binding())
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

// subaccountName names the subaccount a binding belongs to, as precisely as the binding allows.
func subaccountName(b *Binding) string {
	switch {
	case b.SubaccountSubdomain != "":
		return b.SubaccountSubdomain
	case b.SubaccountID != "":
		return b.SubaccountID
	case b.IdentityZone != "":
		return b.IdentityZone
	}
	return b.Name
}
