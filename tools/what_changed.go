package tools

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func whatChanged(cfg Config) server.ServerTool {
	return New(cfg.Logger, Definition{
		Name:  "what_changed",
		Title: "What changed",
		Description: `What changed since a time or duration, worst first: connectors, versions, security ratings, exposed systems, findings, tunnels, certificates, HA, alerts.
Use it for "what is new since yesterday?".
Example question: "Since when is the payload trace on?"`,
	}, func(ctx context.Context, in schemas.WhatChangedInput) (schemas.WhatChangedOutput, error) {
		return changesSince(ctx, cfg, in, time.Now())
	})
}

// changesSince reads the subaccounts in scope (so that the latest read is recorded) and answers
// from the history store.
func changesSince(ctx context.Context, cfg Config, in schemas.WhatChangedInput, now time.Time) (schemas.WhatChangedOutput, error) {
	var zero schemas.WhatChangedOutput
	since, err := parseSince(in.Since, now)
	if err != nil {
		return zero, err
	}
	if id := in.ClientID; id != "" && (strings.TrimSpace(id) == "" || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl)) {
		return zero, fmt.Errorf("argument \"client_id\" must be a Connector ID such as 123456789, got %q", id)
	}
	subs, err := cfg.Observations.Select(in.Subaccount)
	if err != nil {
		return zero, err
	}
	if cfg.History != nil { // a question about history may wait for the store to open
		wait, cancel := context.WithTimeout(ctx, cfg.callTimeout())
		cfg.History.Wait(wait)
		cancel()
	}
	store := cfg.History.Store()
	if err := cfg.History.Unavailable(); store == nil {
		return zero, err
	}
	// Read first, and let the store take what it was handed, so that the latest state is
	// recorded; history answers even when no subaccount can be read now (fresh then lists every
	// failure).
	_, fresh, _ := read(ctx, cfg, in.Scope)
	flushCtx, cancel := context.WithTimeout(ctx, cfg.callTimeout())
	defer cancel()
	cfg.History.Flush(flushCtx)
	label := map[string]string{}
	for _, s := range cfg.Observations.Subaccounts() {
		label[s.Identity()] = s.Label()
	}
	var identity string
	if in.Subaccount != "" {
		identity = subs[0].Identity()
	}
	limit := clampLimit(in.Limit)
	set, err := store.Changes(ctx, history.Query{Since: since, Subaccount: identity, ClientID: in.ClientID, Kind: history.Kind(in.Kind), Limit: limit})
	if err != nil {
		return zero, err
	}
	out := schemas.WhatChangedOutput{
		Freshness: fresh, From: rfc3339(set.From), To: rfc3339(set.To), Covered: set.Covered, Oldest: rfc3339(set.OldestRead),
		Changes: []schemas.Change{}, Store: store.Describe(),
	}
	switch {
	case set.From.IsZero():
		out.Note = "There is no earlier read to compare with: this is the first recorded read. Changes appear from the next read on (refresh=true reads now)."
	case !set.Covered:
		out.Note = "History starts at " + out.Oldest + ": what changed before it is unknown, not absent."
	}
	for _, c := range set.Changes {
		sub := cmp.Or(label[c.Subaccount], c.Subaccount) // the ID of a subaccount no longer bound
		out.Changes = append(out.Changes, schemas.Change{
			ObservedAt: rfc3339(c.ObservedAt), PreviousReadAt: rfc3339(c.PreviousReadAt), Subaccount: sub, ClientID: c.ClientID,
			Kind: string(c.Kind), Severity: c.Severity, Field: c.Field, Old: c.Old, New: c.New, Detail: c.Detail,
		})
	}
	out.Page = schemas.Page{Total: set.Total, Returned: len(out.Changes), Truncated: len(out.Changes) < set.Total}
	return out, nil
}

// parseSince reads since: "" (since the previous read), an RFC 3339 time or a date not after now,
// or a duration back from now such as 90m, 24h or 7d.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err == nil {
		if t.After(now) { // nothing can have changed since then: refuse rather than answer "no change"
			return time.Time{}, fmt.Errorf("argument \"since\" is in the future (%s, now %s): give a time before now, a date such as %s, or a duration such as 24h or 7d", s, now.UTC().Format(time.RFC3339), now.UTC().AddDate(0, 0, -1).Format(time.DateOnly))
		}
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("argument \"since\" must be an RFC 3339 time such as 2026-11-29T08:00:00Z, a date such as 2026-11-29, or a duration such as 24h or 7d; got %q", s)
}
