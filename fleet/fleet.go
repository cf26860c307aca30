// Package fleet reads many subaccounts at once. Each bound subaccount has a name (its binding's)
// and a label (its subdomain, else its ID); a question names one of them or asks about all. Reads
// run concurrently, bounded, each under its own timeout inside the caller's deadline, and each
// subaccount keeps its own cached snapshot. A subaccount that fails never hides the others: the
// answer holds what could be read and, apart, which subaccounts failed and why.
//
// Nothing above this package knows how subaccounts are read; nothing below it knows there is more
// than one.
package fleet

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Defaults of Options.
const (
	DefaultMaxParallel       = 32
	DefaultSubaccountTimeout = 15 * time.Second
)

// Options tune a Fleet.
type Options struct {
	CacheTTL          time.Duration // how long one read of a subaccount answers questions; 0 reads every time
	MaxParallel       int           // subaccounts read at once; 0 means DefaultMaxParallel
	SubaccountTimeout time.Duration // bound of one subaccount's read; 0 means DefaultSubaccountTimeout
}

// Fleet is every bound subaccount.
type Fleet struct {
	subs    []*Subaccount
	slots   chan struct{}
	timeout time.Duration

	mu     sync.Mutex
	merged map[string]merged // the last merged snapshot per selection, reused while its parts are
}

// merged is a snapshot merged from the snapshots of several subaccounts.
type merged struct {
	parts []*connectivity.Snapshot
	snap  *connectivity.Snapshot
}

// Subaccount is one bound subaccount: a usable binding with its client and cache, or a binding
// that was broken at start.
type Subaccount struct {
	name      string
	client    *connectivity.Client    // nil when broken
	landscape *connectivity.Landscape // nil when broken
	broken    *binding.Error

	mu        sync.Mutex
	lastRead  time.Time // of the last successful read
	lastCount int
	lastErr   error
	lastErrAt time.Time
}

// New builds a fleet of the usable clients and the bindings that were broken at start.
func New(clients []*connectivity.Client, broken []*binding.Error, opts Options) *Fleet {
	f := &Fleet{
		slots:   make(chan struct{}, cmp.Or(opts.MaxParallel, DefaultMaxParallel)),
		timeout: cmp.Or(opts.SubaccountTimeout, DefaultSubaccountTimeout),
	}
	for _, c := range clients {
		f.subs = append(f.subs, &Subaccount{name: c.Binding().Name, client: c,
			landscape: connectivity.NewLandscape(c, opts.CacheTTL)})
	}
	for _, b := range broken {
		f.subs = append(f.subs, &Subaccount{name: b.Name, broken: b, lastErr: b})
	}
	return f
}

// Subaccounts returns every subaccount, usable ones first, in binding order.
func (f *Fleet) Subaccounts() []*Subaccount { return f.subs }

// Name is the binding's name: unique among the subaccounts.
func (s *Subaccount) Name() string { return s.name }

// Binding returns the subaccount's current binding, or nil when it was broken at start.
func (s *Subaccount) Binding() *binding.Binding {
	if s.client == nil {
		return nil
	}
	return s.client.Binding()
}

// Label is what answers call the subaccount: its subdomain, else its ID, else the binding name.
func (s *Subaccount) Label() string {
	if b := s.Binding(); b != nil {
		return b.Label()
	}
	return s.name
}

// Identity names the subaccount across restarts, for its history: the subaccount ID when the
// binding has one, else the binding's name.
func (s *Subaccount) Identity() string {
	if b := s.Binding(); b != nil && b.SubaccountID != "" {
		return b.SubaccountID
	}
	return s.name
}

// Broken is the reason the binding could not be used at start, or nil.
func (s *Subaccount) Broken() *binding.Error { return s.broken }

// Status is what the fleet knows of a subaccount without reading it.
type Status struct {
	LastRead   time.Time // zero when it was never read successfully
	Connectors int       // connectors at LastRead
	LastError  error     // of the last read, when it failed after LastRead (or the broken binding)
	ErrorAt    time.Time
}

// Status returns what the last reads of the subaccount found.
func (s *Subaccount) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{LastRead: s.lastRead, Connectors: s.lastCount, LastError: s.lastErr, ErrorAt: s.lastErrAt}
}

// UnknownError is the answer to a subaccount that is not bound.
type UnknownError struct {
	Asked string
	Names []string // every subaccount's name and, where different, its label
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("no subaccount %q is bound; valid values: %s", e.Asked, strings.Join(e.Names, ", "))
}

// Select returns the subaccounts a question is about: every one for "", else those whose name or
// label is asked (case-insensitive).
func (f *Fleet) Select(asked string) ([]*Subaccount, error) {
	asked = strings.TrimSpace(asked)
	if asked == "" {
		return f.subs, nil
	}
	var out []*Subaccount
	var names []string
	for _, s := range f.subs {
		if strings.EqualFold(s.name, asked) || strings.EqualFold(s.Label(), asked) {
			out = append(out, s)
		}
		names = append(names, s.name)
		if l := s.Label(); l != s.name {
			names = append(names, l)
		}
	}
	if len(out) == 0 {
		return nil, &UnknownError{Asked: asked, Names: names}
	}
	return out, nil
}

// Failure is a subaccount that could not be read.
type Failure struct {
	Subaccount *Subaccount
	Err        error
}

// Read is the outcome of reading some subaccounts: one snapshot of everything that could be read
// (connectors in subaccount order, labelled by subaccount), and the failures.
type Read struct {
	Snapshot *connectivity.Snapshot
	Parts    []Part // the snapshot of each subaccount that could be read, in subaccount order
	Failures []Failure
	Asked    int // subaccounts asked about
}

// Part is the snapshot of one subaccount.
type Part struct {
	Subaccount *Subaccount
	Snapshot   *connectivity.Snapshot
}

// Read reads subs concurrently (at most MaxParallel at once), each within its own timeout inside
// ctx's deadline, reusing each subaccount's cached snapshot unless refresh. progress, when not
// nil, is called after each subaccount with how many are done.
func (f *Fleet) Read(ctx context.Context, subs []*Subaccount, refresh bool, progress func(done, total int)) *Read {
	snaps := make([]*connectivity.Snapshot, len(subs))
	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, s := range subs {
		wg.Go(func() {
			snaps[i], errs[i] = f.readOne(ctx, s, refresh)
			if progress != nil {
				mu.Lock()
				done++
				progress(done, len(subs))
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	r := &Read{Asked: len(subs)}
	var key strings.Builder
	for i, s := range subs {
		if errs[i] == nil {
			key.WriteString(s.name)
			key.WriteByte(0)
		}
	}
	var parts []*connectivity.Snapshot
	for i, s := range subs {
		if errs[i] != nil {
			r.Failures = append(r.Failures, Failure{Subaccount: s, Err: errs[i]})
		} else {
			parts = append(parts, snaps[i])
			r.Parts = append(r.Parts, Part{s, snaps[i]})
		}
	}
	// The same parts merge to the same snapshot: reusing it keeps what callers derive from a
	// snapshot (the system index of find_exposed_system) valid from call to call.
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.merged[key.String()]; ok && slices.Equal(m.parts, parts) {
		r.Snapshot = m.snap
		return r
	}
	r.Snapshot = merge(parts)
	if f.merged == nil || len(f.merged) > 2*len(f.subs)+2 {
		f.merged = map[string]merged{}
	}
	f.merged[key.String()] = merged{parts, r.Snapshot}
	return r
}

// merge joins the snapshots of several subaccounts, as old as the oldest of them.
func merge(parts []*connectivity.Snapshot) *connectivity.Snapshot {
	if len(parts) == 1 {
		return parts[0]
	}
	var connectors []connectivity.Connector
	var labels []string
	var fetchedAt time.Time
	for _, p := range parts {
		connectors = append(connectors, p.Connectors...)
		labels = append(labels, p.Subaccounts...)
		if fetchedAt.IsZero() || p.FetchedAt.Before(fetchedAt) {
			fetchedAt = p.FetchedAt
		}
	}
	return connectivity.NewSnapshot(fetchedAt, connectors, labels)
}

// readOne reads one subaccount, waiting for a free slot first.
func (f *Fleet) readOne(ctx context.Context, s *Subaccount, refresh bool) (*connectivity.Snapshot, error) {
	if s.broken != nil {
		return nil, s.broken
	}
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	snap, err := s.landscape.Snapshot(ctx, refresh)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr, s.lastErrAt = err, time.Now()
		return nil, err
	}
	if snap.FetchedAt.After(s.lastRead) || s.lastRead.IsZero() {
		s.lastRead, s.lastCount, s.lastErr = snap.FetchedAt, len(snap.Connectors), nil
	}
	return snap, nil
}

// Names returns the names of subs, sorted, for messages.
func Names(subs []*Subaccount) []string {
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = s.name
	}
	slices.Sort(out)
	return out
}
