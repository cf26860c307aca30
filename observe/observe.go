// Package observe owns, per bound subaccount, the latest observation: the facts each source read
// of it, the findings assessed once from them, the typed failure of the last read if it failed,
// and when it was read. Every answer is built from observations; nothing else reads a source or
// runs the rules.
//
// A question asks for the observations of the subaccounts in scope ([Pipeline.Observe]). An
// observation younger than the cache TTL answers at once. An older one is read again, once for
// every caller asking at the same time (singleflight, keyed by subaccount), under the pipeline's
// own context and the subaccount timeout; each caller waits up to its own deadline. A read that
// fails is remembered: the subaccount backs off (from the cache TTL, doubling up to
// [MaxBackoff]), is re-read in the background when the backoff ends, and until then every
// question gets its last good observation at once, marked stale with the error (or the error
// alone when it was never read). refresh forces a read and waits for it.
//
// Every new observation is published to the listeners ([Pipeline.Listen]): the history recorder
// and the subscription watcher. Nothing is published, and no I/O is done, while a lock is held.
package observe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Defaults of Options.
const (
	DefaultMaxParallel       = 32
	DefaultSubaccountTimeout = 15 * time.Second
	// MaxBackoff bounds the wait before a failing subaccount is read again.
	MaxBackoff = 5 * time.Minute
)

// Options tune a Pipeline.
type Options struct {
	// CacheTTL is how long an observation answers questions, and the first backoff of a failing
	// subaccount; 0 reads on every question and never backs off.
	CacheTTL          time.Duration
	MaxParallel       int           // subaccounts read at once; 0 means DefaultMaxParallel
	SubaccountTimeout time.Duration // bound of one subaccount's read, from when it has a slot; 0 means DefaultSubaccountTimeout
	Policy            assess.Policy // what findings are measured against
	// AfterFunc schedules the background re-read of a failing subaccount and returns what stops
	// it; nil means time.AfterFunc. Tests pass one they fire themselves.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Bound is a subaccount to observe: a usable binding's client and the sources of facts beyond
// the Connectivity service (more registrations go here), or a binding broken at start.
type Bound struct {
	Client  *connectivity.Client // nil when Broken
	Sources []Source             // read besides the Connectivity service's
	Broken  *binding.Error
}

// Pipeline observes every bound subaccount.
type Pipeline struct {
	subs    []*Subaccount
	opts    Options
	slots   *semaphore.Weighted
	reads   singleflight.Group // keyed by subaccount name
	ctx     context.Context    // of reads, which outlive their callers; ends at Close
	cancel  context.CancelFunc
	retries errgroup.Group // background re-reads of failing subaccounts

	mu        sync.Mutex
	listeners []func(*Observation)
}

// New observes the subaccounts of bound. It fails when the policy cannot be applied (a
// minimum Cloud Connector version that is not a version).
func New(bound []Bound, opts Options) (*Pipeline, error) {
	if _, err := assess.Run(assess.Facts{}, opts.Policy); err != nil {
		return nil, err
	}
	opts.MaxParallel = cmp.Or(max(opts.MaxParallel, 0), DefaultMaxParallel)
	opts.SubaccountTimeout = cmp.Or(max(opts.SubaccountTimeout, 0), DefaultSubaccountTimeout)
	p := &Pipeline{opts: opts, slots: semaphore.NewWeighted(int64(opts.MaxParallel))}
	if p.opts.AfterFunc == nil {
		p.opts.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.retries.SetLimit(opts.MaxParallel)
	var broken []*Subaccount
	for _, b := range bound {
		if b.Client == nil {
			s := &Subaccount{name: b.Broken.Name, broken: b.Broken, failures: 2, failingSince: time.Now()}
			s.latest = &Observation{Subaccount: s, Err: b.Broken, Failure: Explain(b.Broken, 0)}
			broken = append(broken, s)
			continue
		}
		s := &Subaccount{name: b.Client.Binding().Name, client: b.Client,
			sources: append([]Source{connectivitySource{b.Client}}, b.Sources...)}
		p.subs = append(p.subs, s)
	}
	p.subs = append(p.subs, broken...)
	return p, nil
}

// Close stops the background reads and waits for them; published observations stop.
func (p *Pipeline) Close() {
	p.cancel()
	for _, s := range p.subs {
		s.mu.Lock()
		if s.retry != nil {
			s.retry()
		}
		s.mu.Unlock()
	}
	_ = p.retries.Wait()
}

// Policy is what the findings are measured against.
func (p *Pipeline) Policy() assess.Policy { return p.opts.Policy }

// Interval is the cache TTL: how long an observation answers questions.
func (p *Pipeline) Interval() time.Duration { return p.opts.CacheTTL }

// Listen registers f to receive every new observation, in the order of each subaccount's reads.
// f must not block for long: it runs on the goroutine that made the read.
func (p *Pipeline) Listen(f func(*Observation)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listeners = append(p.listeners, f)
}

// publish hands o to every listener, holding no lock.
func (p *Pipeline) publish(o *Observation) {
	p.mu.Lock()
	listeners := slices.Clone(p.listeners)
	p.mu.Unlock()
	if p.ctx.Err() != nil { // closed
		return
	}
	for _, f := range listeners {
		f(o)
	}
}

// Subaccounts returns every subaccount, usable ones first, in binding order.
func (p *Pipeline) Subaccounts() []*Subaccount { return p.subs }

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
func (p *Pipeline) Select(asked string) ([]*Subaccount, error) {
	asked = strings.TrimSpace(asked)
	if asked == "" {
		return p.subs, nil
	}
	var out []*Subaccount
	var names []string
	for _, s := range p.subs {
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

// Observe returns the observations of subs within ctx's deadline, reading those whose
// observation is older than the cache TTL (all of them with refresh), at most MaxParallel at
// once. A subaccount backing off is not read: its last observation answers. progress, when not
// nil, is called after each subaccount with how many are done.
func (p *Pipeline) Observe(ctx context.Context, subs []*Subaccount, refresh bool, progress func(done, total int)) *View {
	v := &View{Parts: make([]Part, len(subs)), policy: p.opts.Policy}
	var wg sync.WaitGroup
	var mu sync.Mutex // orders the progress reports
	done := 0
	for i, s := range subs {
		wg.Go(func() {
			v.Parts[i] = p.observe(ctx, s, refresh)
			if progress != nil {
				mu.Lock()
				defer mu.Unlock()
				done++
				progress(done, len(subs))
			}
		})
	}
	wg.Wait()
	return v
}

// Current returns the current observations of subs, without reading.
func (p *Pipeline) Current(subs []*Subaccount) *View {
	v := &View{Parts: make([]Part, len(subs)), policy: p.opts.Policy}
	for i, s := range subs {
		v.Parts[i] = Part{Sub: s, Obs: s.Latest()}
	}
	return v
}

// observe returns what is known of s: its observation when it answers, else a new read (shared
// with every caller asking meanwhile), waited for up to ctx's deadline.
func (p *Pipeline) observe(ctx context.Context, s *Subaccount, refresh bool) Part {
	s.mu.Lock()
	o, backingOff := s.latest, s.retry != nil
	s.mu.Unlock()
	switch {
	case s.broken != nil:
		return Part{Sub: s, Obs: o}
	case !refresh && o != nil && o.Err == nil && p.opts.CacheTTL > 0 && time.Since(o.ReadAt) < p.opts.CacheTTL:
		s.client.Report(connectivity.EventCacheHit)
		return Part{Sub: s, Obs: o}
	case !refresh && backingOff:
		return Part{Sub: s, Obs: o} // re-read in the background when the backoff ends
	}
	for {
		part, again := p.join(ctx, s, o, refresh)
		if !again {
			return part
		}
		o = part.Obs // a read that ran out of the time of the caller that started it: this one has more
	}
}

// join waits for the read of s under way, or starts one, up to ctx's deadline. again says the
// read ran out of the time of the question that started it while this one has more.
func (p *Pipeline) join(ctx context.Context, s *Subaccount, o *Observation, refresh bool) (part Part, again bool) {
	s.mu.Lock()
	a := s.asking
	if a == nil {
		a = &asking{}
		a.ctx, a.cancel = context.WithCancel(p.ctx)
		s.asking = a
	}
	a.waiters++
	s.mu.Unlock()
	var started atomic.Bool // by this caller
	ch := p.reads.DoChan(s.name, func() (any, error) {
		started.Store(true)
		return p.read(s, ctx, a, refresh), nil
	})
	select {
	case r := <-ch:
		p.leave(s, a, false)
		got := r.Val.(*Observation)
		switch {
		case got == nil: // abandoned by the callers that started it
			return Part{Sub: s, Obs: o, Err: context.Canceled, Failure: Explain(context.Canceled, 0)}, false
		case !started.Load() && got.outOfTime && ctx.Err() == nil:
			return Part{Sub: s, Obs: got}, true
		}
		return Part{Sub: s, Obs: got}, false
	case <-ctx.Done():
		// A caller that ran out of time leaves the read to its own deadline (it fails, and the
		// subaccount backs off); one that was cancelled may be the last, whose leaving ends it.
		// It leaves before returning: the next question must not join a read nobody wants.
		p.leave(s, a, !errors.Is(ctx.Err(), context.DeadlineExceeded))
		err := context.Cause(ctx)
		return Part{Sub: s, Obs: o, Err: err, Failure: Explain(err, deadlineOf(ctx))}, false
	}
}

// leave is a caller of a's read that stopped waiting (gaveUp: cancelled before it ended); when
// the last one gives up, the read is cancelled and the next question starts afresh.
func (p *Pipeline) leave(s *Subaccount, a *asking, gaveUp bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.waiters--; a.waiters > 0 {
		return
	}
	if gaveUp {
		a.cancel()
		p.reads.Forget(s.name)
	}
	if s.asking == a {
		s.asking = nil
	}
}

// deadlineOf returns how long a caller's context gave it, for the sentence of a timeout.
func deadlineOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		if t, ok := ctx.Value(startKey{}).(time.Time); ok {
			return d.Sub(t).Round(time.Millisecond)
		}
	}
	return 0
}

// startKey holds when a call started (WithStart), so its timeout can be named.
type startKey struct{}

// WithTimeout is context.WithTimeout that remembers the timeout, for the sentence a caller
// gets when it runs out.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithValue(ctx, startKey{}, time.Now()), d)
}

// read reads every source of s under the pipeline's context (not the asker's: others may
// share the read), within the subaccount timeout and the deadline of the question that asked for
// it (asked; nil for a background read), asking its sources past their caches when refresh,
// assesses the facts once when a source brought new ones, stores the observation and publishes
// it. On failure it schedules a background re-read after the backoff.
func (p *Pipeline) read(s *Subaccount, asked context.Context, a *asking, refresh bool) *Observation {
	base := p.ctx
	if a != nil {
		base = a.ctx
	}
	// The question's deadline bounds the wait for a slot and the read, which ends a little before
	// the question does, so that its own failure (a 503 after retries, say) reaches the question
	// rather than the question's timeout. The subaccount's own timeout starts once it has a
	// slot: one queued behind others in a large fleet has not been slow itself.
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	var limit time.Time
	if asked != nil {
		if d, ok := asked.Deadline(); ok {
			limit = d.Add(-min(500*time.Millisecond, time.Until(d)/10))
			ctx, cancel = context.WithDeadline(ctx, limit)
			defer cancel()
		}
	}
	s.mu.Lock()
	prev := s.latest
	s.mu.Unlock()
	o := &Observation{Subaccount: s}
	if prev != nil {
		o.Facts, o.ReadAt, o.Result = prev.Facts, prev.ReadAt, prev.Result
	}
	timeout := p.opts.SubaccountTimeout
	err := p.slots.Acquire(ctx, 1)
	if err != nil && asked != nil {
		timeout = deadlineOf(asked)
	}
	if err == nil {
		if deadline := time.Now().Add(timeout); limit.IsZero() || deadline.Before(limit) {
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		} else {
			timeout = deadlineOf(asked)
		}
		readAt := time.Now()
		facts := o.Facts
		errs := make([]error, len(s.sources))
		var wg sync.WaitGroup
		for i, src := range s.sources {
			wg.Go(func() { errs[i] = src.Read(ctx, &facts, refresh) })
		}
		wg.Wait()
		p.slots.Release(1)
		if err = errors.Join(errs...); len(s.sources) == 1 {
			err = errs[0]
		}
		if errs[0] == nil { // the Connectivity service is primary: other sources only add to it
			o.Facts, o.ReadAt, o.fresh = facts, readAt, true
			if prev != nil && prev.Result != nil && sameFacts(prev.Facts, facts) && p.opts.Policy.Holds(prev.ReadAt, readAt) {
				o.Result = prev.Result // nothing changed since the last read: nor did the findings
			} else {
				// The one call site of the rules; they refuse only a policy, which New checked.
				o.Result, _ = assess.Run(facts, p.opts.Policy)
			}
		}
	}
	if err != nil && base.Err() != nil {
		return nil // every caller gave up (or the pipeline closed): nothing was learnt
	}
	if err != nil {
		s.client.Report(connectivity.EventReadError)
		o.Err, o.Failure, o.outOfTime = err, Explain(err, timeout), ctx.Err() != nil
	}
	s.mu.Lock()
	s.latest = o
	p.backoff(s, err)
	s.mu.Unlock()
	p.publish(o)
	return o
}

// backoff schedules the next background read of s after a failure, or ends the backoff after a
// success. s.mu must be held.
func (p *Pipeline) backoff(s *Subaccount, err error) {
	if s.retry != nil {
		s.retry()
		s.retry = nil
	}
	if err == nil {
		s.failures = 0
		return
	}
	if s.failures++; s.failures == 1 {
		s.failingSince = time.Now()
	}
	if p.opts.CacheTTL <= 0 || p.ctx.Err() != nil {
		return
	}
	wait := min(p.opts.CacheTTL<<min(s.failures-1, 20), MaxBackoff)
	s.retry = p.opts.AfterFunc(wait, func() {
		p.retries.Go(func() error {
			// A read it joins may be abandoned by the questions that started it: then it reads
			// again, on its own (the backoff ends only with a read that was not abandoned).
			for p.ctx.Err() == nil {
				if o, _, _ := p.reads.Do(s.name, func() (any, error) { return p.read(s, nil, nil, false), nil }); o.(*Observation) != nil {
					break
				}
			}
			return nil
		})
	})
}
