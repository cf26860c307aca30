package observe_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// events records what the client tells Options.Observe.
type events struct {
	mu   sync.Mutex
	seen []connectivity.EventKind
}

func (e *events) observe(ev connectivity.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, ev.Kind)
}

func (e *events) count(k connectivity.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, s := range e.seen {
		if s == k {
			n++
		}
	}
	return n
}

// pipeline observes one simulator tenant through the real client.
func pipeline(t *testing.T, opts observe.Options) (*simulator.Server, *observe.Pipeline, *events) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	parsed := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "observe test")
	rec := &events{}
	c, err := connectivity.NewClient(parsed.Usable[0], connectivity.Options{Observe: rec.observe})
	if err != nil {
		t.Fatal(err)
	}
	p, err := observe.New([]observe.Bound{{Client: c}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return sim, p, rec
}

func TestConcurrentQuestionsShareOneRead(t *testing.T) {
	t.Parallel()
	sim, p, rec := pipeline(t, observe.Options{CacheTTL: time.Hour})
	var published []*observe.Observation
	var mu sync.Mutex
	p.Listen(func(o *observe.Observation) {
		mu.Lock()
		published = append(published, o)
		mu.Unlock()
	})
	sim.InjectFault(simulator.Fault{Delay: 200 * time.Millisecond, Times: 1}) // keeps the read in flight
	views := make([]*observe.View, 50)
	var wg sync.WaitGroup
	for i := range views {
		wg.Go(func() { views[i] = p.Observe(t.Context(), p.Subaccounts(), false, nil) })
	}
	wg.Wait()
	if n := sim.Counts(); n.APIRequests != 1 || len(published) != 1 {
		t.Fatalf("50 questions: %d API requests, %d observations; want one read", n.APIRequests, len(published))
	}
	for _, v := range views {
		if v.Parts[0].Obs != published[0] {
			t.Fatal("a question got another observation than the one read")
		}
	}
	// Warm: from memory, the derived views built once.
	o := p.Observe(t.Context(), p.Subaccounts(), false, nil).Parts[0].Obs
	if o != published[0] || o.Systems() != o.Systems() || rec.count(connectivity.EventCacheHit) != 1 {
		t.Errorf("warm question: same observation %v, cache hits %d", o == published[0], rec.count(connectivity.EventCacheHit))
	}
	fresh := p.Observe(t.Context(), p.Subaccounts(), true, nil).Parts[0].Obs
	if fresh == o || fresh.Systems() == o.Systems() || sim.Counts().APIRequests != 2 {
		t.Error("refresh did not read anew")
	}
}

// TestCancelledQuestionsLeaveNothingBehind: when every question waiting for a read is cancelled,
// the read is abandoned: no observation, no failure remembered, and the next question reads.
func TestCancelledQuestionsLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	sim, p, _ := pipeline(t, observe.Options{CacheTTL: time.Hour})
	sim.InjectFault(simulator.Fault{Hang: true, Times: 1})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan observe.Part)
	go func() { done <- p.Observe(ctx, p.Subaccounts(), false, nil).Parts[0] }()
	for sim.Counts().APIRequests == 0 { // the read has reached the hanging server
		time.Sleep(time.Millisecond)
	}
	cancel()
	part := <-done
	if err, _ := part.Failed(); !errors.Is(err, context.Canceled) || part.Obs != nil {
		t.Fatalf("cancelled question: %v, observation %v", err, part.Obs)
	}
	part = p.Observe(t.Context(), p.Subaccounts(), false, nil).Parts[0]
	if !part.Usable() || part.Obs.Err != nil {
		t.Fatalf("next question: %+v", part)
	}
}

// TestFailureAnswersFromTheLastGoodRead: a failed read keeps the facts and findings of the last
// good one (stale), with the error as a sentence, and counts as a read error.
func TestFailureAnswersFromTheLastGoodRead(t *testing.T) {
	t.Parallel()
	sim, p, rec := pipeline(t, observe.Options{})
	good := p.Observe(t.Context(), p.Subaccounts(), false, nil).Parts[0].Obs
	sim.InjectFault(simulator.Fault{Status: 403})
	bad := p.Observe(t.Context(), p.Subaccounts(), false, nil).Parts[0].Obs
	if !bad.Stale() || bad.Result != good.Result || !bad.ReadAt.Equal(good.ReadAt) || bad.Fresh() {
		t.Errorf("failed read: stale %v, same findings %v", bad.Stale(), bad.Result == good.Result)
	}
	var apiErr *connectivity.APIError
	if !errors.As(bad.Err, &apiErr) || apiErr.Status != 403 || bad.Failure == "" || rec.count(connectivity.EventReadError) != 1 {
		t.Errorf("failure %v (%q), read errors %d", bad.Err, bad.Failure, rec.count(connectivity.EventReadError))
	}
	v := p.Current(p.Subaccounts())
	if a := v.Assessment(); !slices.ContainsFunc(a.Findings, func(f assess.Finding) bool { return f.Rule == assess.RuleSubaccountUnreachable }) {
		t.Error("the merged assessment lacks the unreachable subaccount")
	}
}

// TestRecorderNovelty: the recorder tells new findings from known ones in memory, against the
// previous read; the baseline comes from the store when it opens.
func TestRecorderNovelty(t *testing.T) {
	t.Parallel()
	sim, p, _ := pipeline(t, observe.Options{})
	store := memoryStore(t)
	r := observe.NewRecorder("memory", func(context.Context) (history.Store, error) { return store, nil }, nil)
	p.Listen(r.Observe)
	if err := r.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	var first, second *observe.Observation
	for i, o := range []**observe.Observation{&first, &second} {
		*o = p.Observe(t.Context(), p.Subaccounts(), false, nil).Parts[0].Obs
		sim.SetLandscape(simulator.CleanLandscape())
		o := *o
		seen, err := r.Novelty(o)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		for _, f := range o.Result.Findings {
			_, before := seenIn(first, f.Fingerprint)
			fs, ok := seen(f.Fingerprint)
			if want := i == 0 || !before; !ok || fs.New != want {
				t.Errorf("read %d, %s: new %v (known %v), want %v", i, f.Rule, fs.New, ok, want)
			}
		}
	}
	r.Flush(t.Context())
	present, err := store.Present(t.Context())
	if err != nil || len(present[p.Subaccounts()[0].Identity()]) != len(second.Result.Findings) {
		t.Errorf("recorded: %v %v", present, err)
	}
	r.Close(time.Second)
}

func seenIn(o *observe.Observation, fp string) (assess.Finding, bool) {
	for _, f := range o.Result.Findings {
		if f.Fingerprint == fp {
			return f, true
		}
	}
	return assess.Finding{}, false
}

// memoryStore opens a history store in memory, closed when the test ends.
func memoryStore(t *testing.T) history.Store {
	t.Helper()
	store, err := history.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// TestQueuedSubaccountKeepsItsOwnTimeout: with one read at a time, a subaccount queued behind
// one that hangs for its whole timeout is read once it has a slot, within a timeout of its own
// (its read takes a quarter of it): waiting in the queue is not slowness.
func TestQueuedSubaccountKeepsItsOwnTimeout(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	var bound []observe.Bound
	var tenants []*simulator.Tenant
	for _, name := range []string{"hangs", "queued"} {
		tenant, err := sim.AddTenant(simulator.TenantOptions{Name: name, Subdomain: name, Landscape: simulator.CleanLandscape()})
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tenant)
		parsed := binding.Parse(tenant.ServiceKeyJSON(simulator.SecretCredentials), name)
		parsed.Usable[0].Name = name
		c, err := connectivity.NewClient(parsed.Usable[0], connectivity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		bound = append(bound, observe.Bound{Client: c})
	}
	p, err := observe.New(bound, observe.Options{MaxParallel: 1, SubaccountTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	tenants[0].InjectFault(simulator.Fault{Target: simulator.TargetAPI, Hang: true, Times: 1})
	tenants[1].InjectFault(simulator.Fault{Target: simulator.TargetAPI, Delay: 500 * time.Millisecond, Times: 1}) // a slow but healthy read
	hung := make(chan *observe.View)
	go func() { hung <- p.Observe(context.Background(), p.Subaccounts()[:1], false, nil) }()
	for tenants[0].Counts().APIRequests == 0 { // the first holds the only slot
		time.Sleep(5 * time.Millisecond)
	}
	queued := p.Observe(context.Background(), p.Subaccounts()[1:], false, nil).Parts[0]
	if err, why := queued.Failed(); err != nil || !queued.Usable() {
		t.Errorf("the queued subaccount failed: %v (%s)", err, why)
	}
	if err, _ := (<-hung).Parts[0].Failed(); err == nil {
		t.Error("the hanging subaccount's read did not fail")
	}
}
