package tools

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// noSCCConfig is the answer of get_connector_health without configured connectors.
const noSCCConfig = "No Cloud Connector administration API is configured: start the server with --scc-config FILE (or CONNECTIVITY_SCC_CONFIG) listing each connector's url, a read-only monitoring user and its password_file or password_env (see the README, Deep health)."

func getConnectorHealth(cfg Config) server.ServerTool {
	return New(cfg.Logger, Definition{
		Name:  "get_connector_health",
		Title: "Get Cloud Connector deep health",
		Description: `Each configured Cloud Connector's own administration API (--scc-config): reachable or why not, version, HA state, per subaccount the tunnel and its certificate's days left with the matched client_id and evidence, certificates, back ends with p50/p90/p99 latency, CPU, heap, disk, alerts.
Use it for what the cloud cannot see: expiring certificates, a lost shadow, slow back ends.
Example question: "Which Cloud Connector certificates expire in the next 30 days?"`,
	}, func(ctx context.Context, in schemas.GetConnectorHealthInput) (schemas.GetConnectorHealthOutput, error) {
		return connectorHealth(ctx, cfg, in, time.Now())
	})
}

// deepRead is one configured connector's latest read in the observations, with its join.
type deepRead struct {
	h       *sccadmin.Health
	matches []sccadmin.Match
}

// deepReads collects the configured connectors' reads from the usable observations of v, by
// name: the latest read of each, and of its joins the matched ones (a connector read for several
// subaccounts matches in the one it serves).
func deepReads(v *observe.View) map[string]*deepRead {
	out := map[string]*deepRead{}
	for _, p := range v.Usable() {
		deep := p.Obs.Facts.Deep
		if deep == nil {
			continue
		}
		for _, h := range deep.Reads {
			if h == nil {
				continue
			}
			r := out[h.Name]
			if r == nil {
				r = &deepRead{h: h}
				out[h.Name] = r
			} else if h.ReadAt.After(r.h.ReadAt) {
				r.h = h
			}
			for _, m := range p.Obs.Result.Matches {
				if m.Connector != h.Name {
					continue
				}
				if m.CloudSubaccount == p.Sub.Name() {
					m.CloudSubaccount = p.Sub.Label() // as every answer names a subaccount
				}
				i := slices.IndexFunc(r.matches, func(x sccadmin.Match) bool { return x.Subaccount == m.Subaccount && x.LocationID == m.LocationID })
				switch {
				case i < 0:
					r.matches = append(r.matches, m)
				case !r.matches[i].Matched() && m.Matched():
					r.matches[i] = m
				}
			}
		}
	}
	return out
}

// connectorHealth answers get_connector_health from the observations in scope.
func connectorHealth(ctx context.Context, cfg Config, in schemas.GetConnectorHealthInput, now time.Time) (schemas.GetConnectorHealthOutput, error) {
	out := schemas.GetConnectorHealthOutput{Connectors: []schemas.ConnectorHealth{}}
	var names []string
	if cfg.SCC != nil {
		names = cfg.SCC.Names()
	}
	out.Configured = len(names)
	want := strings.TrimSpace(in.Connector)
	byName := ""
	for _, n := range names {
		if strings.EqualFold(n, want) {
			byName = n
		}
	}
	// Like every tool it answers from the observations, so that it reports their freshness and
	// failures alike (refresh reads the connectors again: the deep-health source of the pipeline); without configured connectors it says how to configure them.
	return fromView(ctx, cfg, in.Scope, func(v *observe.View) (schemas.GetConnectorHealthOutput, error) {
		if len(names) == 0 {
			out.Note = noSCCConfig
			return out, nil
		}
		reads := deepReads(v)
		for _, n := range names {
			r := reads[n]
			if r == nil || want != "" && byName != n && !slices.ContainsFunc(r.matches, func(m sccadmin.Match) bool { return m.ClientID == want }) {
				continue
			}
			out.Connectors = append(out.Connectors, healthOf(r, now))
		}
		if want != "" && len(out.Connectors) == 0 {
			return out, fmt.Errorf("connector %q is neither a configured name nor the client_id of a connector matched in the subaccounts asked about; configured: %s", want, strings.Join(names, ", "))
		}
		if len(out.Connectors) == 0 {
			out.Note = "No configured connector may serve the subaccounts asked about (each entry's subaccount names another)."
		}
		return out, nil
	})
}

// healthOf shapes one connector's read.
func healthOf(r *deepRead, now time.Time) schemas.ConnectorHealth {
	h := r.h
	c := schemas.ConnectorHealth{Name: h.Name, Endpoint: h.Endpoint, ReadAt: rfc3339(h.ReadAt), Reachable: h.Reachable(),
		Version: h.Version, Role: h.Role, Unsupported: h.Unsupported}
	if f := h.Failure; f != nil {
		c.Failure = &schemas.HealthFailure{Kind: string(f.Kind), Status: f.Status, Message: f.Message}
	}
	if ha := h.HA; ha != nil {
		c.HA = &schemas.HealthHA{MasterState: ha.MasterState, ShadowHost: ha.ShadowHost, ShadowState: ha.ShadowState, Message: ha.StateMessage}
	}
	for _, p := range h.Problems {
		c.Problems = append(c.Problems, p.Endpoint+": "+p.Message)
	}
	if h.Role == sccadmin.RoleShadow {
		for _, m := range r.matches {
			c.Match = matchOf(m)
		}
	}
	for _, s := range h.Subaccounts {
		hs := schemas.HealthSubaccount{ID: s.ID, Name: s.DisplayName, LocationID: s.LocationID, Tunnel: cmp.Or(s.Tunnel.State, "unknown"),
			ConnectedSince: rfc3339(s.Tunnel.ConnectedSince), Connections: s.Tunnel.Connections, CertNotAfter: rfc3339(s.Certificate.NotAfter)}
		if !s.Certificate.NotAfter.IsZero() {
			days := daysLeft(s.Certificate.NotAfter, now)
			hs.CertDaysLeft = &days
		}
		for _, m := range r.matches {
			if m.Subaccount == s.ID && m.LocationID == s.LocationID {
				hs.Match = matchOf(m)
			}
		}
		c.Subaccounts = append(c.Subaccounts, hs)
	}
	tunnelCerts := slices.ContainsFunc(h.Subaccounts, func(s sccadmin.Subaccount) bool { return !s.Certificate.NotAfter.IsZero() })
	for _, x := range h.Certificates {
		if x.NotAfter.IsZero() || tunnelCerts && strings.EqualFold(x.Type, "subaccount") {
			continue // a subaccount certificate the tunnels report is shown with its tunnel
		}
		c.Certs = append(c.Certs, schemas.HealthCertificate{Type: x.Type, Subaccount: x.SubaccountName, NotAfter: rfc3339(x.NotAfter), DaysLeft: daysLeft(x.NotAfter, now)})
	}
	c.Backends = backendsOf(h)
	c.Resources = resourcesOf(h)
	for _, a := range h.Alerts {
		c.Alerts = append(c.Alerts, schemas.HealthAlert{Type: a.Type, Status: a.Status, Message: a.Message, Entity: a.Entity, Raised: rfc3339(a.Time)})
	}
	return c
}

func matchOf(m sccadmin.Match) *schemas.HealthMatch {
	return &schemas.HealthMatch{ClientID: m.ClientID, Subaccount: m.CloudSubaccount, Evidence: m.Evidence, Conflicts: m.Conflicts, Unmatched: m.Unmatched}
}

// daysLeft is the whole days until notAfter, negative once it expired (as the rules count).
func daysLeft(notAfter, now time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}

// backendsOf joins each back end's connections with its measured calls and latency.
func backendsOf(h *sccadmin.Health) []schemas.HealthBackend {
	var out []schemas.HealthBackend
	index := map[string]int{}
	key := func(sub, virtual string) string { return sub + "|" + strings.ToLower(virtual) }
	for _, b := range h.Backends {
		index[key(b.Subaccount, b.VirtualBackend)] = len(out)
		out = append(out, schemas.HealthBackend{Virtual: b.VirtualBackend, Internal: b.InternalBackend, Protocol: b.Protocol, Active: b.Active, Idle: b.Idle})
	}
	for _, p := range h.Performance {
		virtual := p.VirtualHost
		if p.VirtualPort != "" {
			virtual += ":" + p.VirtualPort
		}
		i, ok := index[key(p.Subaccount, virtual)]
		if !ok {
			i = len(out)
			out = append(out, schemas.HealthBackend{Virtual: virtual, Protocol: p.Protocol})
		}
		out[i].Calls, out[i].P50ms, out[i].P90ms, out[i].P99ms = p.Calls, p.P50.Milliseconds(), p.P90.Milliseconds(), p.P99.Milliseconds()
	}
	return out
}

// resourcesOf returns CPU, heap and disk, nil when none is reported.
func resourcesOf(h *sccadmin.Health) *schemas.HealthResources {
	r := &schemas.HealthResources{}
	round := func(f float64) *float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 1, 64), 64)
		return &v
	}
	if h.CPU != nil {
		r.CPUPercent = round(h.CPU.Total)
	}
	if used := h.Memory.HeapUsedPercent(); used >= 0 {
		r.HeapUsedPercent, r.HeapTotalMB = round(used), h.Memory.HeapTotalKB/1024
	}
	if free := h.Disk.FreePercent(); free >= 0 {
		r.DiskFreePercent, r.DiskFreeMB = round(free), h.Disk.FreeMB
	}
	if *r == (schemas.HealthResources{}) {
		return nil
	}
	return r
}

// certificateTimeline lists the certificates the configured connectors report, soonest expiry
// first, each with the severity the deep-health rules give it ("" when not yet a finding): the
// dashboard's certificate section. Nil when no connector is configured.
func certificateTimeline(v *observe.View, p assess.DeepPolicy, now time.Time) []schemas.CertificateExpiry {
	warn := cmp.Or(p.CertWarnDays, 30)
	high := min(14, warn)
	severity := func(notAfter time.Time) string {
		switch days := daysLeft(notAfter, now); {
		case !notAfter.After(now):
			return string(assess.Critical)
		case days < high:
			return string(assess.High)
		case days < warn:
			return string(assess.Medium)
		}
		return ""
	}
	var out []schemas.CertificateExpiry
	var at []time.Time
	add := func(c schemas.CertificateExpiry, notAfter time.Time) {
		c.NotAfter, c.Severity = rfc3339(notAfter), severity(notAfter)
		out, at = append(out, c), append(at, notAfter)
	}
	reads := deepReads(v)
	for _, name := range slices.Sorted(maps.Keys(reads)) {
		r := reads[name]
		tunnelCerts := false
		for _, s := range r.h.Subaccounts {
			if s.Certificate.NotAfter.IsZero() {
				continue
			}
			tunnelCerts = true
			c := schemas.CertificateExpiry{Subaccount: cmp.Or(s.DisplayName, s.ID), Kind: "subaccount", Subject: name}
			for _, m := range r.matches {
				if m.Subaccount == s.ID && m.LocationID == s.LocationID && m.Matched() {
					c.Subaccount, c.ClientID = m.CloudSubaccount, m.ClientID
				}
			}
			add(c, s.Certificate.NotAfter)
		}
		clientID, sub := "", ""
		for _, m := range r.matches {
			if m.Matched() {
				clientID, sub = m.ClientID, m.CloudSubaccount
				break
			}
		}
		for _, x := range r.h.Certificates {
			if x.NotAfter.IsZero() || tunnelCerts && strings.EqualFold(x.Type, "subaccount") {
				continue
			}
			add(schemas.CertificateExpiry{Subaccount: cmp.Or(x.SubaccountName, sub), ClientID: clientID, Kind: strings.ToLower(x.Type), Subject: name + ": " + x.Subject}, x.NotAfter)
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return at[a].Compare(at[b]) })
	sorted := make([]schemas.CertificateExpiry, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	if len(sorted) == 0 {
		return nil
	}
	return sorted
}
