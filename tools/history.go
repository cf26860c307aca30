package tools

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/fleet"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
)

// History records every new read of a subaccount in a history store, with the findings the
// assessment makes of it. A nil *History (history off) records nothing; one whose store could not
// be opened records nothing either and says why.
type History struct {
	ready       chan struct{} // closed once the store is open (or could not be)
	store       history.Store
	unavailable error // why there is no store, when it could not be opened
	logger      *slog.Logger

	mu      sync.Mutex
	entries map[string]*recorded // per subaccount identity
}

// recorded serialises the records of one subaccount and remembers the last one.
type recorded struct {
	mu sync.Mutex
	at time.Time // FetchedAt of the last read recorded
}

// NewHistory records into store; when store is nil, unavailable says why (nil: history is off).
func NewHistory(store history.Store, unavailable error, logger *slog.Logger) *History {
	h := OpenHistory(func() (history.Store, error) { return store, unavailable }, logger)
	<-h.ready
	return h
}

// OpenHistory records into the store open returns, opened in the background: start-up never
// waits for a database. Whatever needs the store waits for it.
func OpenHistory(open func() (history.Store, error), logger *slog.Logger) *History {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &History{ready: make(chan struct{}), logger: logger, entries: map[string]*recorded{}}
	go func() {
		defer close(h.ready)
		h.store, h.unavailable = open()
		if h.store == nil && h.unavailable == nil {
			h.unavailable = errHistoryOff
		}
	}()
	return h
}

// Store returns the store once it is open, nil when history is off or unavailable.
func (h *History) Store() history.Store {
	if h == nil {
		return nil
	}
	<-h.ready
	return h.store
}

// Unavailable says why history cannot answer, once the store is open: nil when it can.
func (h *History) Unavailable() error {
	if h == nil {
		return errHistoryOff
	}
	<-h.ready
	if h.store == nil {
		return h.unavailable
	}
	return nil
}

// record stores the reads among parts that are newer than the last one recorded for their
// subaccount, each with the findings of its own assessment. Failures are logged: history never
// fails an answer.
func (h *History) record(ctx context.Context, parts []fleet.Part, policy assess.Policy) {
	if h.Store() == nil {
		return
	}
	for _, p := range parts {
		id := p.Subaccount.Identity()
		h.mu.Lock()
		e := h.entries[id]
		if e == nil {
			e = &recorded{}
			h.entries[id] = e
		}
		h.mu.Unlock()

		e.mu.Lock()
		if p.Snapshot.FetchedAt.After(e.at) {
			read := history.Read{Subaccount: id, Label: p.Subaccount.Label(), At: p.Snapshot.FetchedAt, Connectors: p.Snapshot.Connectors}
			policy.Accepted = nil // what was found, whoever accepted it
			if res, err := assess.Run(p.Snapshot, nil, policy); err == nil {
				for _, f := range res.Findings {
					read.Findings = append(read.Findings, history.Finding{Fingerprint: f.Fingerprint, Rule: f.Rule,
						Severity: string(f.Severity), ClientID: f.ClientID, Subject: f.Subject, Title: f.Title})
				}
			}
			if _, err := h.store.Record(ctx, read); err != nil {
				h.logger.Warn("history: the read was not recorded", "subaccount", p.Subaccount.Name(), "store", h.store.Describe(), "error", err)
			} else {
				e.at = p.Snapshot.FetchedAt
			}
		}
		e.mu.Unlock()
	}
}

// errHistoryOff answers questions about history when it is off.
var errHistoryOff = errors.New("history is off (--history off or CONNECTIVITY_HISTORY=off): nothing is recorded, so changes are unknown")

// firstSeen tells, for each finding of a subaccount in parts, when its fingerprint was first
// recorded and whether it is new. It says why when history cannot answer.
func (h *History) firstSeen(ctx context.Context, parts []fleet.Part, findings []assess.Finding) (map[string]history.FirstSeen, error) {
	if err := h.Unavailable(); err != nil {
		if h == nil {
			return nil, nil // off: no first_seen, and nothing to explain
		}
		return nil, err
	}
	identity := map[string]string{}  // label → identity
	readAt := map[string]time.Time{} // identity → time of this read
	for _, p := range parts {
		identity[p.Subaccount.Label()] = p.Subaccount.Identity()
		readAt[p.Subaccount.Identity()] = p.Snapshot.FetchedAt
	}
	bySub := map[string][]string{}
	for _, f := range findings {
		if id, ok := identity[f.Subaccount]; ok {
			bySub[id] = append(bySub[id], f.Fingerprint)
		}
	}
	out := map[string]history.FirstSeen{}
	for id, fps := range bySub {
		seen, err := h.store.FirstSeen(ctx, id, fps)
		if err != nil {
			return nil, err
		}
		for fp, s := range seen {
			if s.New && s.At.Equal(readAt[id]) {
				s.At = time.Time{} // first seen in this very read: new says it (and saves a model's context)
			}
			out[fp] = s
		}
	}
	return out, nil
}
