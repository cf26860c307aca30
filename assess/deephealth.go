package assess

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// Deep health: rules over what a Cloud Connector's own administration API reports
// (sccadmin.Health), joined with the Connectivity service's view (sccadmin.Match). Each rule is
// a function of the typed facts; AssessDeepHealth runs them over one connector's read.

// Rule IDs of deep health.
const (
	RuleSCCCertExpired      = "scc.cert_expired"
	RuleSCCCertExpiring     = "scc.cert_expiring"
	RuleSCCTunnelDown       = "scc.tunnel_not_connected"
	RuleSCCShadowNotReady   = "scc.shadow_not_ready"
	RuleSCCMasterAlone      = "scc.master_alone"
	RuleSCCBackendSlow      = "scc.backend_slow"
	RuleSCCDiskFull         = "scc.disk_nearly_full"
	RuleSCCHeapFull         = "scc.heap_nearly_exhausted"
	RuleSCCAlert            = "scc.alert"
	RuleSCCUnreachable      = "scc.unreachable"
	RuleSCCCredentials      = "scc.credentials_refused"
	RuleSCCAdministratorUse = "scc.administrator_user"
)

// deepRules describe the deep-health rules (see LookupRule).
var deepRules = [...]Rule{
	{RuleSCCCertExpired, "Certificate of the Cloud Connector expired",
		"Renew it now: a subaccount certificate in the connector's Subaccount > Certificate (Refresh, or download a new authentication file from the BTP cockpit), the UI or system certificate under Configuration > On Premise. An expired subaccount certificate stops the tunnel. Verify: get_connector_health shows the new expiry."},
	{RuleSCCCertExpiring, "Certificate of the Cloud Connector expires soon",
		"Renew the certificate in the evidence before it expires (subaccount certificates: Subaccount > Certificate > Refresh; UI and system certificates: Configuration > On Premise), and plan renewals ahead as lifetimes shrink. Verify: get_connector_health shows a later expiry."},
	{RuleSCCTunnelDown, "Tunnel to a subaccount not connected",
		"The connector lists the subaccount but its tunnel is not up: check the connector's log and Subaccount page (certificate valid, proxy and firewall to *.hana.ondemand.com, the subaccount user), then connect it. Verify: the tunnel state is Connected."},
	{RuleSCCShadowNotReady, "Shadow instance not ready to take over",
		"The shadow is not in state READY, so a failover would fail: check the shadow's High Availability page and log, the network to its master (both directions) and that both run the same version; reconnect it. Verify: the shadow reports READY and its master CONNECTED."},
	{RuleSCCMasterAlone, "Master has no connected shadow",
		"The master reports its shadow ALONE or BROKEN: start the shadow or repair the connection (High Availability settings on both, the network between them). Verify: the master reports CONNECTED."},
	{RuleSCCBackendSlow, "Back end slow through the Cloud Connector",
		"Calls to the back end in the evidence take long (p90 from the connector's own latency histogram): check the back end's load and the on-premise network, and the connector's Top Time Consumers. Verify: p90 drops below the threshold in a later read."},
	{RuleSCCDiskFull, "Cloud Connector disk nearly full",
		"Free disk space on the connector's host (logs, traces, old backups) or grow the volume: a full disk stops logging and configuration changes. Verify: free space above the threshold."},
	{RuleSCCHeapFull, "Cloud Connector heap nearly exhausted",
		"The Java heap is almost used up: raise the maximum heap (Configuration > Advanced > JVM), look for many open connections or large payloads, restart in a quiet period. Verify: heap use below the threshold."},
	{RuleSCCAlert, "Alert raised by the Cloud Connector",
		"The connector raised this alert itself (Alerting page): act on its message, then acknowledge it there. Verify: the alert no longer appears."},
	{RuleSCCUnreachable, "Cloud Connector administration API unreachable",
		"Its health is unknown: check that the connector runs, the url (or virtual_host and location_id through the tunnel), the firewall to the administration port and, for https, ca_file. Verify: get_connector_health reads it."},
	{RuleSCCCredentials, "Cloud Connector refused the monitoring credentials",
		"Check the user and password (password_file or password_env) in the scc config, that the user has the role sccmonitoring, and that it is not locked; the server does not retry a refused password until it changes. Verify: get_connector_health reads it."},
	{RuleSCCAdministratorUse, "Monitoring with the Administrator user",
		"These credentials can change everything in the connector: create a read-only user with the LDAP role sccmonitoring and use it in the scc config. Verify: the finding is gone."},
}

// DeepPolicy holds the thresholds of the deep-health rules. Zero values take the defaults.
type DeepPolicy struct {
	CertWarnDays    int           // medium within this many days (--cert-warn-days); default 30
	CertHighDays    int           // high within this many days; default 14 (at most CertWarnDays)
	SlowP90         time.Duration // a back end is slow above this p90; default 2 s
	SlowMinCalls    int           // ... with at least this many calls; default 20
	DiskFreePercent float64       // medium below this free share, high below half of it; default 10
	HeapUsedPercent float64       // medium at or above this heap use, high at or above 97; default 90
	Now             time.Time     // zero: time.Now
}

func (p DeepPolicy) withDefaults() DeepPolicy {
	p.CertWarnDays = cmp.Or(p.CertWarnDays, 30)
	p.CertHighDays = min(cmp.Or(p.CertHighDays, 14), p.CertWarnDays)
	p.SlowP90 = cmp.Or(p.SlowP90, 2*time.Second)
	p.SlowMinCalls = cmp.Or(p.SlowMinCalls, 20)
	p.DiskFreePercent = cmp.Or(p.DiskFreePercent, 10)
	p.HeapUsedPercent = cmp.Or(p.HeapUsedPercent, 90)
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	return p
}

// deep collects the findings of one connector's read.
type deep struct {
	h        *sccadmin.Health
	matches  []sccadmin.Match
	p        DeepPolicy
	findings []Finding
}

// AssessDeepHealth runs every deep-health rule over one connector's read and the join of its
// subaccounts (from sccadmin.Join, or a one-element slice from sccadmin.JoinShadow; nil when
// nothing was joined). Findings come worst first. A finding's fingerprint depends on the rule, the
// configured connector name and the subject, never on the join, so it survives a tunnel that drops.
func AssessDeepHealth(h *sccadmin.Health, matches []sccadmin.Match, p DeepPolicy) []Finding {
	if h == nil {
		return nil
	}
	d := &deep{h: h, matches: matches, p: p.withDefaults()}
	d.access()
	if h.Reachable() {
		d.certificates()
		d.tunnels()
		d.highAvailability()
		d.backends()
		d.resources()
		d.alerts()
	}
	slices.SortStableFunc(d.findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(y.Severity.Rank(), x.Severity.Rank()), cmp.Compare(x.seq, y.seq))
	})
	return d.findings
}

// add records a finding; subaccount is the admin API's subaccount ID it is about ("" for the
// connector as a whole).
func (d *deep) add(rule string, sev Severity, subaccount, subject, title string, evidence map[string]string) {
	f := Finding{Rule: rule, Severity: sev, Fingerprint: Fingerprint(rule, "", "scc:"+d.h.Name, subject),
		Subject: subject, Title: title, connector: -1, seq: int32(len(d.findings))}
	evidence["scc"] = d.h.Name // every caller passes a map of its own
	f.Evidence = evidenceOf(evidence)
	if m, ok := d.match(subaccount); ok {
		f.Subaccount, f.ClientID, f.LocationID = m.CloudSubaccount, m.ClientID, m.LocationID
	} else if subaccount != "" {
		f.Subaccount = subaccount
	}
	f.AgentType = d.h.Role
	d.findings = append(d.findings, f)
}

// match returns the matched join of subaccount, or of the connector's first matched subaccount.
func (d *deep) match(subaccount string) (sccadmin.Match, bool) {
	for _, m := range d.matches {
		if m.Matched() && (subaccount == "" || m.Subaccount == subaccount) {
			return m, true
		}
	}
	return sccadmin.Match{}, false
}

func (d *deep) access() {
	h := d.h
	if f := h.Failure; f != nil {
		rule := RuleSCCUnreachable
		if f.Kind == sccadmin.FailureCredentials {
			rule = RuleSCCCredentials
		}
		ev := map[string]string{"endpoint": h.Endpoint, "error": f.Message, "kind": string(f.Kind)}
		if f.Status != 0 {
			ev["status"] = strconv.Itoa(f.Status)
		}
		title := fmt.Sprintf("Cloud Connector %s could not be read", h.Name)
		if rule == RuleSCCCredentials {
			title = fmt.Sprintf("Cloud Connector %s refused the monitoring credentials", h.Name)
		}
		d.add(rule, High, "", "admin_api", title, ev)
	}
	if strings.EqualFold(strings.TrimSpace(h.User), "Administrator") {
		d.add(RuleSCCAdministratorUse, Medium, "", "user", fmt.Sprintf("Cloud Connector %s is monitored with the Administrator user", h.Name),
			map[string]string{"user": h.User})
	}
}

// certificates reports expired and expiring certificates: the subaccount certificates of the
// tunnels, and the UI, system and CA certificates of /api/monitoring/certificates (subaccount
// entries there only when the tunnels did not tell).
func (d *deep) certificates() {
	tunnelCerts := false
	for _, s := range d.h.Subaccounts {
		if !s.Certificate.NotAfter.IsZero() {
			tunnelCerts = true
			d.certificate(s.ID, "subaccount:"+s.ID, "subaccount certificate of "+cmp.Or(s.DisplayName, s.ID), s.Certificate.NotAfter)
		}
	}
	for _, c := range d.h.Certificates {
		if c.NotAfter.IsZero() || strings.EqualFold(c.Type, "subaccount") && tunnelCerts {
			continue
		}
		what := c.Type + " certificate"
		subject := "certificate:" + c.Type
		if strings.EqualFold(c.Type, "subaccount") {
			subject += ":" + c.SubaccountName
			what = "subaccount certificate of " + c.SubaccountName
		}
		d.certificate("", subject, what, c.NotAfter)
	}
}

func (d *deep) certificate(subaccount, subject, what string, notAfter time.Time) {
	left := notAfter.Sub(d.p.Now)
	days := int(math.Floor(left.Hours() / 24))
	ev := map[string]string{"not_after": notAfter.UTC().Format(time.RFC3339), "days_left": strconv.Itoa(days)}
	switch {
	case left <= 0:
		d.add(RuleSCCCertExpired, Critical, subaccount, subject, fmt.Sprintf("The %s expired on %s", what, notAfter.UTC().Format(time.DateOnly)), ev)
	case days < d.p.CertHighDays:
		ev["threshold_days"] = strconv.Itoa(d.p.CertHighDays)
		d.add(RuleSCCCertExpiring, High, subaccount, subject, fmt.Sprintf("The %s expires in %d days", what, days), ev)
	case days < d.p.CertWarnDays:
		ev["threshold_days"] = strconv.Itoa(d.p.CertWarnDays)
		d.add(RuleSCCCertExpiring, Medium, subaccount, subject, fmt.Sprintf("The %s expires in %d days", what, days), ev)
	}
}

func (d *deep) tunnels() {
	for _, s := range d.h.Subaccounts {
		if s.Tunnel.Connected() {
			continue
		}
		d.add(RuleSCCTunnelDown, High, s.ID, "tunnel:"+s.ID, fmt.Sprintf("The tunnel to subaccount %s is %s", cmp.Or(s.DisplayName, s.ID), cmp.Or(s.Tunnel.State, "in an unknown state")),
			map[string]string{"state": s.Tunnel.State, "subaccount": s.ID, "region": s.Region, "location_id": s.LocationID})
	}
}

func (d *deep) highAvailability() {
	ha := d.h.HA
	if ha == nil {
		return
	}
	switch d.h.Role {
	case sccadmin.RoleShadow:
		state := strings.ToUpper(ha.ShadowState)
		if state == "READY" {
			return
		}
		sev := Medium // on its way: INITIAL, HANDSHAKE, INITSYNC, DISCONNECTING
		if state == "LOST" || state == "DISCONNECTED" || state == "" {
			sev = High
		}
		d.add(RuleSCCShadowNotReady, sev, "", "ha", fmt.Sprintf("Shadow %s is %s, not READY", d.h.Name, cmp.Or(ha.ShadowState, "in an unknown state")),
			map[string]string{"shadow_state": ha.ShadowState, "state_message": ha.StateMessage, "own_hosts": strings.Join(ha.OwnHosts, ", ")})
	case sccadmin.RoleMaster:
		switch strings.ToUpper(ha.MasterState) {
		case "ALONE":
			d.add(RuleSCCMasterAlone, Medium, "", "ha", fmt.Sprintf("Master %s runs alone: no shadow connected", d.h.Name),
				map[string]string{"master_state": ha.MasterState})
		case "BROKEN":
			d.add(RuleSCCMasterAlone, High, "", "ha", fmt.Sprintf("Master %s lost its shadow (BROKEN)", d.h.Name),
				map[string]string{"master_state": ha.MasterState, "shadow_host": ha.ShadowHost})
		}
	}
}

func (d *deep) backends() {
	for _, b := range d.h.Performance {
		if b.Calls < d.p.SlowMinCalls || b.P90 <= d.p.SlowP90 {
			continue
		}
		host := b.VirtualHost
		if b.VirtualPort != "" {
			host += ":" + b.VirtualPort
		}
		d.add(RuleSCCBackendSlow, Medium, b.Subaccount, "backend:"+host, fmt.Sprintf("Calls to %s take %s at p90", host, b.P90.Round(time.Millisecond)),
			map[string]string{"p50": b.P50.Round(time.Millisecond).String(), "p90": b.P90.Round(time.Millisecond).String(), "p99": b.P99.Round(time.Millisecond).String(),
				"calls": strconv.Itoa(b.Calls), "since": b.SinceTime, "threshold": d.p.SlowP90.String(), "protocol": b.Protocol})
	}
}

func (d *deep) resources() {
	if free := d.h.Disk.FreePercent(); free >= 0 && free < d.p.DiskFreePercent {
		sev := Medium
		if free < d.p.DiskFreePercent/2 {
			sev = High
		}
		d.add(RuleSCCDiskFull, sev, "", "disk", fmt.Sprintf("Only %.1f%% of the disk of %s is free", free, d.h.Name),
			map[string]string{"free_mb": strconv.FormatInt(d.h.Disk.FreeMB, 10), "total_mb": strconv.FormatInt(d.h.Disk.TotalMB, 10),
				"threshold_percent": strconv.FormatFloat(d.p.DiskFreePercent, 'f', -1, 64)})
	}
	if used := d.h.Memory.HeapUsedPercent(); used >= d.p.HeapUsedPercent {
		sev := Medium
		if used >= 97 {
			sev = High
		}
		d.add(RuleSCCHeapFull, sev, "", "heap", fmt.Sprintf("%.0f%% of the Java heap of %s is in use", used, d.h.Name),
			map[string]string{"heap_used_kb": strconv.FormatInt(d.h.Memory.HeapUsedKB, 10), "heap_total_kb": strconv.FormatInt(d.h.Memory.HeapTotalKB, 10),
				"threshold_percent": strconv.FormatFloat(d.p.HeapUsedPercent, 'f', -1, 64)})
	}
}

func (d *deep) alerts() {
	for _, a := range d.h.Alerts {
		sev := Low
		switch strings.ToLower(a.Status) {
		case "error", "critical":
			sev = High
		case "warning":
			sev = Medium
		}
		ev := map[string]string{"type": a.Type, "status": a.Status, "message": a.Message, "origin": a.Origin, "entity": a.Entity}
		if !a.Time.IsZero() {
			ev["raised"] = a.Time.UTC().Format(time.RFC3339)
		}
		subject := "alert:" + a.Type
		if a.Entity != "" {
			subject += ":" + a.Entity
		}
		d.add(RuleSCCAlert, sev, "", subject, fmt.Sprintf("%s alert on %s: %s", cmp.Or(a.Type, "Unknown"), d.h.Name, a.Message), ev)
	}
}
