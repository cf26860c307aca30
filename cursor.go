package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/tools"
)

// Alert cursors: check --new-only reports what its consumer (--cursor NAME, default "check") has
// not been told yet, whoever else read the landscape in between; the cursor moves only once the
// report is written. See history.Store.Unreported for the rule.

// defaultCursor names the alert cursor of check --new-only unless --cursor names another.
const defaultCursor = "check"

// cursorName is what --cursor accepts.
var cursorName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkCursor validates --cursor.
func checkCursor(name string) error {
	if !cursorName.MatchString(name) {
		return fmt.Errorf("--cursor must be 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter or digit), such as nightly-cron; got %q", name)
	}
	return nil
}

// unreportedOnly narrows the new flags and new_counts of out to the findings not yet reported to
// cursor, and returns what moves the cursor past them, to call once the report is written.
func unreportedOnly(ctx context.Context, cfg tools.Config, cursor string, out *schemas.AssessConnectorsOutput) (reported func() error, err error) {
	store := cfg.History.Store()
	if store == nil {
		why := cmp.Or(out.History, "history is off")
		if err := cfg.History.Unavailable(); err != nil {
			why = err.Error()
		}
		return nil, errors.New(why + "; --new-only remembers in the history store what it reported: pass --history FILE (or a postgres:// URL)")
	}
	cfg.History.Flush(ctx) // the reads just assessed are recorded before the cursor is compared
	reads := observedReads(cfg.Observations)
	if err := markUnreported(ctx, store, cursor, out, reads); err != nil {
		return nil, err
	}
	return func() error { return markReported(ctx, store, cursor, reads) }, nil
}

// reportedRead is the read of one subaccount that a check reports: where its alert cursor moves.
type reportedRead struct {
	Identity string    // the subaccount's identity in the history store
	Label    string    // what findings call the subaccount
	At       time.Time // when it was read (the time history records it under)
}

// observedReads returns the reads a check just assessed: the last successful read of every
// subaccount of p. In a check process each subaccount is read once, so it is the read reported.
func observedReads(p *observe.Pipeline) []reportedRead {
	var out []reportedRead
	for _, s := range p.Subaccounts() {
		if o := s.Latest(); o != nil && !o.ReadAt.IsZero() {
			out = append(out, reportedRead{Identity: s.Identity(), Label: s.Label(), At: o.ReadAt})
		}
	}
	return out
}

// markUnreported sets the new flag of each finding of out, and out.NewCounts, to what the consumer
// cursor has not been told yet. A finding of a subaccount that could not be read (nothing of it is
// known, so nothing of it can be old news) is always unreported.
func markUnreported(ctx context.Context, store history.Store, cursor string, out *schemas.AssessConnectorsOutput, reads []reportedRead) error {
	identity := make(map[string]string, len(reads)) // label → identity
	for _, r := range reads {
		identity[r.Label] = r.Identity
	}
	bySub := map[string][]string{}
	for _, f := range out.Findings {
		if id, ok := identity[f.Subaccount]; ok {
			bySub[id] = append(bySub[id], f.Fingerprint)
		}
	}
	unreported := map[string]bool{}
	for id, fps := range bySub {
		got, err := store.Unreported(ctx, cursor, id, fps)
		if err != nil {
			return fmt.Errorf("reading alert cursor %q: %w", cursor, err)
		}
		for fp := range got {
			unreported[fp] = true
		}
	}
	counts := schemas.SeverityCounts{}
	for i := range out.Findings {
		f := &out.Findings[i]
		_, read := identity[f.Subaccount]
		isNew := unreported[f.Fingerprint] || !read
		f.New = &isNew
		if isNew && f.Accepted == nil {
			counts.Add(f.Severity)
		}
	}
	out.NewCounts = &counts
	return nil
}

// markReported moves the consumer cursor to reads, once their report is written.
func markReported(ctx context.Context, store history.Store, cursor string, reads []reportedRead) error {
	for _, r := range reads {
		if err := store.MarkReported(ctx, cursor, r.Identity, r.At); err != nil {
			return fmt.Errorf("moving alert cursor %q: %w", cursor, err)
		}
	}
	return nil
}
