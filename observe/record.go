package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
)

// RecordBudget bounds the reads that wait for the history store, counted in connectors, exposed
// systems and findings (1,000 connectors exposing 100 systems each, with 30,000 findings, count
// 131,001): reads wait in order, every one recorded, while they fit. Past it a subaccount's newer
// read takes the place of its newest waiting one (logged), so that a slow store holds no pile of
// large reads and the publisher never blocks. A subaccount with nothing waiting always gets in.
const RecordBudget = 1 << 18

// Recorder records each new observation in the history store, off the request path: it listens
// to the pipeline, and a goroutine of its own writes what waits, in order, with a context of its
// own, through a bounded queue. The store is opened in the background.
//
// Whether a finding is new is decided in memory, when the observation is published: against the
// fingerprints (and when each was first seen) of the subaccount's previous observation, loaded
// from the store once when it opens. Until then, or while the store fails, answers leave first
// seen and new out and say why ([Recorder.Novelty]).
type Recorder struct {
	logger  *slog.Logger
	wake    chan struct{}   // something waits, or the recorder closes
	ctx     context.Context // of the writes; ends at Close
	cancel  context.CancelFunc
	done    chan struct{} // closed when the writer has stopped
	settled chan struct{} // closed once the store is open, or could not be

	mu      sync.Mutex
	opening string // what is being opened, for the sentence while it is
	store   history.Store
	err     error // why history cannot answer now: the store failed to open, or to record
	ready   bool  // the store is open and the baseline loaded
	closed  bool
	budget  int                  // RecordBudget; smaller in tests
	waiting []queued             // to write, oldest first
	weight  int                  // of what waits and what the writer has taken
	writing int                  // observations the writer has taken and not written
	wrote   chan struct{}        // closed and replaced whenever the writer finishes some
	pending []*Observation       // published before ready, in order
	last    map[string]firstSeen // per subaccount identity: when each finding was first seen
	latest  map[string]latest    // per subaccount identity: the result last compared
}

// firstSeen tells when each finding of a read was first seen, sorted by fingerprint: 24 bytes a
// finding, a third of what a map takes.
type firstSeen []seenAt

type seenAt struct {
	fingerprint string
	at          int64 // Unix nanoseconds
}

func bySeenFingerprint(a, b seenAt) int { return strings.Compare(a.fingerprint, b.fingerprint) }

// newFirstSeen holds the times of m, a finding's first-seen time by fingerprint.
func newFirstSeen(m map[string]time.Time) firstSeen {
	out := make(firstSeen, 0, len(m))
	for fp, at := range m {
		out = append(out, seenAt{fp, at.UnixNano()})
	}
	slices.SortFunc(out, bySeenFingerprint)
	return out
}

// find returns when the finding of fingerprint fp was first seen.
func (s firstSeen) find(fp string) (time.Time, bool) {
	i, ok := slices.BinarySearchFunc(s, seenAt{fingerprint: fp}, bySeenFingerprint)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, s[i].at).UTC(), true
}

// queued is a read waiting for the store, and its weight against the budget.
type queued struct {
	o      *Observation
	weight int
}

// weigh counts o's connectors, their exposed systems and its findings.
func weigh(o *Observation) int {
	n := 1 + len(o.Result.Findings)
	connectors := o.Snapshot().Connectors
	for i := range connectors {
		n += 1 + len(connectors[i].ExposedSystems)
	}
	return n
}

// latest is the result last compared for a subaccount, and when it was read: a finding of it
// is new when it was first seen then.
type latest struct {
	result *assess.Result
	at     time.Time
}

// NewRecorder records into the store open returns; describe names it while it opens. open runs
// in the background; a nil store with a nil error means history is off.
func NewRecorder(describe string, open func(context.Context) (history.Store, error), logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{logger: logger, wake: make(chan struct{}, 1), done: make(chan struct{}),
		settled: make(chan struct{}), wrote: make(chan struct{}), opening: describe, budget: RecordBudget, last: map[string]firstSeen{}, latest: map[string]latest{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.run(open)
	return r
}

// Observe is the pipeline listener: it decides what is new in o (when the baseline is loaded) and
// queues o for the store. It never blocks and does no I/O.
func (r *Recorder) Observe(o *Observation) {
	if !o.Fresh() || o.Result == nil {
		return // a failed read: its findings are those of the last one recorded
	}
	// What waits holds only what is recorded, not what answers derived (a search index).
	o = &Observation{Subaccount: o.Subaccount, Facts: o.Facts, ReadAt: o.ReadAt, Result: o.Result, fresh: true}
	w := weigh(o)
	r.mu.Lock()
	if r.closed || (r.err != nil && r.store == nil) {
		r.mu.Unlock()
		return
	}
	// The subaccount's newest waiting read: o takes its place when o does not fit.
	j := -1
	for k, q := range slices.Backward(r.waiting) {
		if q.o.Subaccount == o.Subaccount {
			j = k
			break
		}
	}
	superseded := j >= 0 && r.weight+w > r.budget
	if superseded {
		old := r.waiting[j]
		r.weight += w - old.weight
		r.waiting[j] = queued{o, w}
		if k := slices.Index(r.pending, old.o); k >= 0 {
			r.pending[k] = o // nor is it compared: first seen stays true to what is recorded
		}
	} else {
		r.weight += w
		r.waiting = append(r.waiting, queued{o, w})
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	switch {
	case r.ready: // what is new is decided even for a read the store takes later
		r.compare(o)
	case !superseded:
		r.pending = append(r.pending, o)
	}
	waiting := len(r.waiting)
	r.mu.Unlock()
	if superseded {
		r.logger.Warn("history: the store is behind; the read before this one is not recorded", "subaccount", o.Subaccount.Name(), "reads waiting", waiting)
	}
}

// compare decides what is new in o against the previous observation of its subaccount. r.mu
// must be held.
func (r *Recorder) compare(o *Observation) {
	id := o.Subaccount.Identity()
	prev := r.last[id]
	cur := make(firstSeen, len(o.Result.Findings))
	for i, f := range o.Result.Findings {
		at, known := prev.find(f.Fingerprint)
		if !known {
			at = o.ReadAt
		}
		cur[i] = seenAt{f.Fingerprint, at.UnixNano()}
	}
	slices.SortFunc(cur, bySeenFingerprint)
	r.last[id], r.latest[id] = cur, latest{o.Result, o.ReadAt}
}

// run opens the store, loads the baseline, then writes the queued observations until Close.
func (r *Recorder) run(open func(context.Context) (history.Store, error)) {
	defer close(r.done)
	store, err := open(r.ctx)
	if store == nil && err == nil {
		err = errors.New("history is off")
	}
	var base map[string]map[string]time.Time
	if err == nil {
		if base, err = store.Present(r.ctx); err != nil {
			err = fmt.Errorf("history is unavailable: reading the findings of the last reads from %s: %w", store.Describe(), err)
		}
	}
	r.mu.Lock()
	r.store, r.err = store, err
	if err == nil {
		for id, m := range base {
			r.last[id] = newFirstSeen(m)
		}
		r.ready = true
		for _, o := range r.pending {
			r.compare(o)
		}
	}
	r.pending = nil
	r.mu.Unlock()
	close(r.settled)
	for {
		select {
		case <-r.wake:
		case <-r.ctx.Done():
			return
		}
		r.mu.Lock()
		batch := r.waiting
		r.waiting, r.writing = nil, len(batch)
		r.mu.Unlock()
		weight := 0
		for _, q := range batch {
			if err == nil && r.ctx.Err() == nil {
				r.record(store, q.o)
			}
			weight += q.weight
		}
		r.mu.Lock()
		r.writing, r.weight = 0, r.weight-weight
		close(r.wrote)
		r.wrote = make(chan struct{})
		closed := r.closed && len(r.waiting) == 0
		r.mu.Unlock()
		if closed {
			return
		}
	}
}

// record writes one observation; a failure makes history unavailable until a write succeeds.
func (r *Recorder) record(store history.Store, o *Observation) {
	s := o.Subaccount
	read := history.Read{Subaccount: s.Identity(), Label: s.Label(), At: o.ReadAt, Connectors: o.Snapshot().Connectors}
	if d := o.Facts.Deep; d != nil { // the configured connectors' deep health, this subaccount's tunnels only
		read.Health = history.HealthStates(d.Subaccount.ID, o.Result.Matches, d.Reads...)
	}
	// What was found, whoever accepted it: 3 MB for 30,000 findings, allocated once.
	read.Findings = make([]history.Finding, 0, len(o.Result.Findings))
	for _, f := range o.Result.Findings {
		read.Findings = append(read.Findings, history.Finding{Fingerprint: f.Fingerprint, Rule: f.Rule,
			Severity: string(f.Severity), ClientID: f.ClientID, Subject: f.Subject, Title: f.Title})
	}
	slices.SortFunc(read.Findings, func(a, b history.Finding) int { return strings.Compare(a.Fingerprint, b.Fingerprint) }) // the store need not copy them
	_, err := store.Record(r.ctx, read)
	if err != nil {
		r.logger.Warn("history: the read was not recorded", "subaccount", s.Name(), "store", store.Describe(), "error", err)
		err = fmt.Errorf("history is unavailable: the last read was not recorded in %s: %w", store.Describe(), err)
	}
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// Store returns the store once it is open, nil while it opens or when it could not be opened.
// It never waits.
func (r *Recorder) Store() history.Store {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.store
}

// Unavailable says why history cannot answer now, without waiting: the store is still opening,
// could not be opened, or failed to record; nil when it can.
func (r *Recorder) Unavailable() error {
	if r == nil {
		return ErrHistoryOff
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.err != nil:
		return r.err
	case r.store == nil:
		return fmt.Errorf("history is unavailable: %s is still opening", r.opening)
	}
	return nil
}

// Opening reports whether the store is still being opened.
func (r *Recorder) Opening() bool {
	select {
	case <-r.settled:
		return false
	default:
		return true
	}
}

// Wait waits until the store is open (or could not be), at most until ctx ends: for batch runs
// such as check, which need to know what is new.
func (r *Recorder) Wait(ctx context.Context) error {
	select {
	case <-r.settled:
	case <-ctx.Done():
	}
	return r.Unavailable()
}

// Flush waits until no observation waits for the store, at most until ctx ends: for
// what_changed, which answers from the store.
func (r *Recorder) Flush(ctx context.Context) {
	for {
		r.mu.Lock()
		done, wrote := len(r.waiting) == 0 && r.writing == 0 || r.closed, r.wrote
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-wrote:
		case <-ctx.Done():
			return
		}
	}
}

// Novelty tells when a finding of o was first seen and whether it is new (not in the
// subaccount's previous read); an error says why history cannot tell.
func (r *Recorder) Novelty(o *Observation) (func(fingerprint string) (history.FirstSeen, bool), error) {
	if err := r.Unavailable(); err != nil {
		return nil, err
	}
	id := o.Subaccount.Identity()
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.latest[id]; l.result != o.Result {
		return nil, errors.New("history is unavailable: this read was not compared with the previous one yet")
	}
	first := r.last[id] // replaced by the next comparison, never changed
	return func(fp string) (history.FirstSeen, bool) {
		at, ok := first.find(fp)
		return history.FirstSeen{At: at, New: at.Equal(o.ReadAt)}, ok
	}, nil
}

// Close stops taking observations, writes those queued for at most grace, and stops. The caller
// closes the store.
func (r *Recorder) Close(grace time.Duration) {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	t := time.AfterFunc(grace, r.cancel)
	defer t.Stop()
	<-r.done
	r.cancel()
}

// ErrHistoryOff answers questions about history when it is off.
var ErrHistoryOff = errors.New("history is off (--history off or CONNECTIVITY_HISTORY=off): nothing is recorded, so changes are unknown")
