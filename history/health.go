package history

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// The kinds of change in the deep health of a configured Cloud Connector (its own administration
// API, package sccadmin). Their Field starts with the configured connector's name: "<name>:
// tunnel <subaccount id>", "<name>: subaccount certificate <subaccount id>", "<name>: UI
// certificate", "<name>: ha master_state", "<name>: alert <type> <entity>".
const (
	KindTunnelChanged      Kind = "tunnel_changed"      // a subaccount's tunnel state moved (or the tunnel came or went)
	KindCertificateRenewed Kind = "certificate_renewed" // a certificate's notAfter moved
	KindHAChanged          Kind = "ha_changed"          // the HA role, the master's or the shadow's state moved
	KindAlertRaised        Kind = "alert_raised"        // the connector raised an alert (2.19+)
	KindAlertCleared       Kind = "alert_cleared"       // an alert the connector raised is gone
)

// HealthState is what history keeps of one read of a configured connector's administration
// API: only what [Diff] compares. A part the read could not tell (the connector unreachable, an
// endpoint that failed or that its version lacks, a shadow's monitoring) is unknown, not empty:
// Diff compares a part only when both reads know it, and the store keeps the last known one.
type HealthState struct {
	Connector string `json:"connector"`           // the configured name; the key
	ClientID  string `json:"client_id,omitempty"` // the matched client_id when the join found one, and only one
	Role      string `json:"role,omitempty"`      // sccadmin.RoleMaster or RoleShadow; "" unknown

	HAKnown     bool   `json:"ha_known,omitempty"`
	MasterState string `json:"master_state,omitempty"` // a master's view of its shadow: "CONNECTED", "ALONE", …
	ShadowState string `json:"shadow_state,omitempty"` // a shadow's own state: "READY", "LOST", …

	TunnelsKnown bool          `json:"tunnels_known,omitempty"`
	Tunnels      []TunnelState `json:"tunnels,omitempty"` // by key

	CertificatesKnown bool               `json:"certificates_known,omitempty"`
	Certificates      []CertificateState `json:"certificates,omitempty"` // UI, system and CA certificates, by key

	AlertsKnown bool         `json:"alerts_known,omitempty"`
	Alerts      []AlertState `json:"alerts,omitempty"` // by key
}

// TunnelState is one subaccount's tunnel as a connector reports it.
type TunnelState struct {
	Subaccount string    `json:"subaccount"` // the subaccount ID the connector reports
	LocationID string    `json:"location_id,omitempty"`
	ClientID   string    `json:"client_id,omitempty"` // the matched client_id when known
	State      string    `json:"state"`               // "Connected", "ConnectFailure", "Disconnected"
	CertExpiry time.Time `json:"cert_not_after,omitzero"`
}

// Key identifies the tunnel within its connector: the subaccount ID, and the location ID when
// there is one.
func (t TunnelState) Key() string {
	if t.LocationID == "" {
		return t.Subaccount
	}
	return t.Subaccount + " location " + t.LocationID
}

// CertificateState is one of a connector's own certificates (UI, system, CA).
type CertificateState struct {
	Key      string    `json:"key"` // the type, with the subject when a type repeats
	NotAfter time.Time `json:"not_after"`
}

// AlertState is one alert the connector raises.
type AlertState struct {
	Type    string `json:"type"`
	Entity  string `json:"entity,omitempty"`
	Status  string `json:"status"` // "Error", "Warning", …
	Message string `json:"message,omitempty"`
}

// Key identifies the alert: type, entity and status (a Warning that becomes an Error is one
// alert cleared and another raised).
func (a AlertState) Key() string { return a.Type + "\x00" + a.Entity + "\x00" + a.Status }

func (a AlertState) field() string {
	if a.Entity == "" {
		return "alert " + a.Type
	}
	return "alert " + a.Type + " " + a.Entity
}

// HealthStates turns reads of configured connectors into the states history keeps, one per
// read, in the order given (nil reads are skipped). matches is the join of those reads with the
// Connectivity service's view (sccadmin.Join, JoinShadow): a tunnel takes the client_id matched
// for its connector and subaccount, a connector the one client_id its matches agree on.
// subaccountID, when not "", keeps only the tunnels of that subaccount, so that the read of one
// subaccount does not record another's tunnels.
func HealthStates(subaccountID string, matches []sccadmin.Match, reads ...*sccadmin.Health) []HealthState {
	out := make([]HealthState, 0, len(reads))
	for _, h := range reads {
		if h == nil {
			continue
		}
		out = append(out, healthState(h, subaccountID, matches))
	}
	return out
}

func healthState(h *sccadmin.Health, subaccountID string, matches []sccadmin.Match) HealthState {
	s := HealthState{Connector: h.Name}
	if !h.Reachable() {
		return s // nothing known
	}
	s.Role = h.Role
	if h.HA != nil {
		s.HAKnown = true
		s.MasterState, s.ShadowState = h.HA.MasterState, h.HA.ShadowState
	}
	keep := func(id string) bool { return subaccountID == "" || strings.EqualFold(id, subaccountID) }

	// the connector's client_id: the one its matches (of the kept subaccounts) agree on
	var ids []string
	for _, m := range matches {
		if m.Connector == h.Name && m.ClientID != "" && (m.Subaccount == "" || keep(m.Subaccount)) && !slices.Contains(ids, m.ClientID) {
			ids = append(ids, m.ClientID)
		}
	}
	if len(ids) == 1 {
		s.ClientID = ids[0]
	}

	if s.TunnelsKnown = known(h, "subaccounts", len(h.Subaccounts)); s.TunnelsKnown {
		for _, sub := range h.Subaccounts {
			if !keep(sub.ID) {
				continue
			}
			t := TunnelState{Subaccount: sub.ID, LocationID: sub.LocationID, State: sub.Tunnel.State, CertExpiry: sub.Certificate.NotAfter.UTC()}
			if t.CertExpiry.IsZero() {
				t.CertExpiry = subaccountCertificate(h.Certificates, sub)
			}
			for _, m := range matches {
				if m.Connector == h.Name && m.Subaccount == sub.ID && m.LocationID == sub.LocationID && m.ClientID != "" {
					t.ClientID = m.ClientID
				}
			}
			s.Tunnels = append(s.Tunnels, t)
		}
	}
	if s.CertificatesKnown = known(h, "certificates", len(h.Certificates)); s.CertificatesKnown {
		count := map[string]int{}
		for _, c := range h.Certificates {
			count[c.Type]++
		}
		for _, c := range h.Certificates {
			if strings.EqualFold(c.Type, "subaccount") || c.NotAfter.IsZero() {
				continue // subaccount certificates are kept with their tunnel
			}
			key := c.Type
			if count[c.Type] > 1 {
				key += " " + c.Subject
			}
			s.Certificates = append(s.Certificates, CertificateState{Key: key, NotAfter: c.NotAfter.UTC()})
		}
	}
	if s.AlertsKnown = known(h, "alerts", len(h.Alerts)); s.AlertsKnown {
		for _, a := range h.Alerts {
			s.Alerts = append(s.Alerts, AlertState{Type: a.Type, Entity: a.Entity, Status: a.Status, Message: a.Message})
		}
	}
	s.normalize()
	return s
}

// known reports whether the read tells endpoint's part: it answered with data, or it is
// supported and answered without a problem (an empty list is then really empty).
func known(h *sccadmin.Health, endpoint string, n int) bool {
	if n > 0 {
		return true
	}
	if h.Role != sccadmin.RoleMaster || !h.Supported(endpoint) {
		return false
	}
	for _, p := range h.Problems {
		if p.Endpoint == endpoint {
			return false
		}
	}
	return true
}

// subaccountCertificate finds a subaccount's certificate in the certificates list, for versions
// whose subaccounts endpoint does not report it.
func subaccountCertificate(certs []sccadmin.Certificate, sub sccadmin.Subaccount) time.Time {
	for _, c := range certs {
		if strings.EqualFold(c.Type, "subaccount") && (c.SubaccountName == sub.ID || (sub.DisplayName != "" && c.SubaccountName == sub.DisplayName)) &&
			(c.SubaccountRegion == "" || sub.Region == "" || c.SubaccountRegion == sub.Region) {
			return c.NotAfter.UTC()
		}
	}
	return time.Time{}
}

// normalize sorts the lists by key and drops repeated keys, so that equal states encode (and
// digest) equally.
func (s *HealthState) normalize() {
	s.Tunnels = sortedUnique(s.Tunnels, TunnelState.Key)
	s.Certificates = sortedUnique(s.Certificates, func(c CertificateState) string { return c.Key })
	s.Alerts = sortedUnique(s.Alerts, AlertState.Key)
}

func sortedUnique[T any](list []T, key func(T) string) []T {
	slices.SortStableFunc(list, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	return slices.CompactFunc(list, func(a, b T) bool { return key(a) == key(b) })
}

// carry fills what cur does not know from prev, the last known state of the same connector:
// the store keeps that, so that an unreachable read or a failed endpoint neither forgets a
// state nor reports its return as a change.
func (cur HealthState) carry(prev HealthState) HealthState {
	if cur.ClientID == "" {
		cur.ClientID = prev.ClientID
	}
	if cur.Role == "" {
		cur.Role = prev.Role
	}
	if !cur.HAKnown {
		cur.HAKnown, cur.MasterState, cur.ShadowState = prev.HAKnown, prev.MasterState, prev.ShadowState
	}
	if !cur.TunnelsKnown {
		cur.TunnelsKnown, cur.Tunnels = prev.TunnelsKnown, prev.Tunnels
	} else {
		was := keyed(prev.Tunnels, TunnelState.Key)
		cur.Tunnels = slices.Clone(cur.Tunnels)
		for i, t := range cur.Tunnels {
			if p, ok := was[t.Key()]; ok && t.ClientID == "" {
				cur.Tunnels[i].ClientID = p.ClientID
			}
		}
	}
	if !cur.CertificatesKnown {
		cur.CertificatesKnown, cur.Certificates = prev.CertificatesKnown, prev.Certificates
	}
	if !cur.AlertsKnown {
		cur.AlertsKnown, cur.Alerts = prev.AlertsKnown, prev.Alerts
	}
	return cur
}

func keyed[T any](list []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(list))
	for _, x := range list {
		m[key(x)] = x
	}
	return m
}

// diffHealth adds the changes between the deep-health states of two reads. Connectors are
// matched by configured name; one that only one read has is not compared (a connector newly
// configured is a baseline of its own), nor is a part only one of them knows.
//
// Severities: a tunnel that left Connected (or appeared not connected) is high, one that
// (re)connected info, one newly served low, one between two other states or no longer served
// medium; a certificate with a later notAfter (renewed) is info, with an earlier one low; an
// HA role change is medium; an HA state that became bad (master ALONE or BROKEN, shadow LOST or
// DISCONNECTED) is high, one that became good (CONNECTED, READY) info, one on its way (BINDING,
// INITIAL, HANDSHAKE, INITSYNC, DISCONNECTING) low, anything else medium; an alert raised takes
// its status (Error high, Warning medium, other low), one cleared is info.
func diffHealth(prev, cur []HealthState, add addFunc) {
	before := keyed(prev, func(s HealthState) string { return s.Connector })
	for _, c := range cur {
		p, ok := before[c.Connector]
		if !ok {
			continue
		}
		diffHealthState(p, c, add)
	}
}

func diffHealthState(p, c HealthState, add addFunc) {
	name := c.Connector + ": "
	id := c.ClientID
	if id == "" {
		id = p.ClientID
	}
	switch {
	case p.Role != "" && c.Role != "" && p.Role != c.Role:
		add(id, KindHAChanged, name+"role", p.Role, c.Role, "", SeverityMedium)
	case p.HAKnown && c.HAKnown:
		if p.MasterState != c.MasterState {
			add(id, KindHAChanged, name+"ha master_state", p.MasterState, c.MasterState, "", haSeverity(c.MasterState))
		}
		if p.ShadowState != c.ShadowState {
			add(id, KindHAChanged, name+"ha shadow_state", p.ShadowState, c.ShadowState, "", haSeverity(c.ShadowState))
		}
	}

	if p.TunnelsKnown && c.TunnelsKnown {
		oldT, newT := keyed(p.Tunnels, TunnelState.Key), keyed(c.Tunnels, TunnelState.Key)
		for _, key := range unionKeys(oldT, newT) {
			o, oOK := oldT[key]
			n, nOK := newT[key]
			tid := cmp.Or(n.ClientID, o.ClientID) // a connector may have another client_id in another subaccount
			switch {
			case !oOK:
				sev := SeverityLow
				if !connected(n.State) {
					sev = SeverityHigh
				}
				add(tid, KindTunnelChanged, name+"tunnel "+key, "", n.State, "subaccount newly served", sev)
			case !nOK:
				add(tid, KindTunnelChanged, name+"tunnel "+key, o.State, "", "subaccount no longer served", SeverityMedium)
			default:
				if o.State != n.State {
					sev := SeverityMedium
					switch {
					case connected(n.State):
						sev = SeverityInfo
					case connected(o.State):
						sev = SeverityHigh
					}
					add(tid, KindTunnelChanged, name+"tunnel "+key, o.State, n.State, "", sev)
				}
				certChange(tid, name+"subaccount certificate "+key, o.CertExpiry, n.CertExpiry, add)
			}
		}
	}

	if p.CertificatesKnown && c.CertificatesKnown {
		oldC := keyed(p.Certificates, func(x CertificateState) string { return x.Key })
		for _, n := range c.Certificates {
			if o, ok := oldC[n.Key]; ok {
				certChange(id, name+n.Key+" certificate", o.NotAfter, n.NotAfter, add)
			}
		}
	}

	if p.AlertsKnown && c.AlertsKnown {
		oldA, newA := keyed(p.Alerts, AlertState.Key), keyed(c.Alerts, AlertState.Key)
		for _, key := range unionKeys(oldA, newA) {
			o, oOK := oldA[key]
			n, nOK := newA[key]
			switch {
			case !oOK:
				add(id, KindAlertRaised, name+n.field(), "", n.Status, n.Message, alertSeverity(n.Status))
			case !nOK:
				add(id, KindAlertCleared, name+o.field(), o.Status, "", o.Message, SeverityInfo)
			}
		}
	}
}

// certChange adds a renewal when both reads know the certificate's notAfter and it moved.
func certChange(id, field string, o, n time.Time, add addFunc) {
	if o.IsZero() || n.IsZero() || o.Equal(n) {
		return
	}
	if n.After(o) {
		add(id, KindCertificateRenewed, field, stamp(o), stamp(n), "renewed: expires later", SeverityInfo)
		return
	}
	add(id, KindCertificateRenewed, field, stamp(o), stamp(n), "replaced by a certificate that expires earlier", SeverityLow)
}

func connected(state string) bool { return state == "Connected" }

func haSeverity(state string) string {
	switch state {
	case "CONNECTED", "READY":
		return SeverityInfo
	case "ALONE", "BROKEN", "LOST", "DISCONNECTED":
		return SeverityHigh
	case "BINDING", "INITIAL", "HANDSHAKE", "INITSYNC", "DISCONNECTING":
		return SeverityLow
	}
	return SeverityMedium
}

func alertSeverity(status string) string {
	switch strings.ToLower(status) {
	case "error":
		return SeverityHigh
	case "warning":
		return SeverityMedium
	}
	return SeverityLow
}
