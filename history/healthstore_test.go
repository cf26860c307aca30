package history

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// healthRows returns the stored deep-health rows of subaccount "sa", "connector hash state" each.
func healthRows(t testing.TB, st Store) []string {
	t.Helper()
	s := sqlOf(st)
	rows, err := s.db.QueryContext(t.Context(), s.q(`SELECT connector, hash, state FROM health WHERE subaccount = ? ORDER BY connector`), "sa")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c, h, state string
		if err := rows.Scan(&c, &h, &state); err != nil {
			t.Fatal(err)
		}
		out = append(out, c+" "+h+" "+state)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countChanges(t testing.TB, st Store) int {
	t.Helper()
	var n int
	if err := sqlOf(st).db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM changes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStoreHealth(t *testing.T) {
	t.Parallel()
	c1 := connector("c1")
	hr := func(minutes int, hs ...HealthState) Read { return withHealth(read(minutes, nil, c1), hs...) }
	broken := editHealth(func(s *HealthState) {
		s.ClientID, s.Tunnels[0].ClientID = "", "" // a tunnel down loses the join
		s.Tunnels[0].State, s.Tunnels[0].CertExpiry = "ConnectFailure", t0.AddDate(1, 0, 30)
		s.MasterState = "ALONE"
		s.Alerts = []AlertState{{Type: "Tunnel", Entity: "sa-id", Status: "Error"}}
	})
	unreachable := HealthState{Connector: "scc1"}

	scenarios := []struct {
		name string
		run  func(t *testing.T, st Store)
	}{
		{"the first read is a baseline", func(t *testing.T, st Store) {
			if rec := record(t, st, hr(0, health())); len(rec.Changes) != 0 || !rec.PreviousReadAt.IsZero() {
				t.Errorf("Record = %+v, want a baseline", rec)
			}
			if rows := healthRows(t, st); len(rows) != 1 || !strings.HasPrefix(rows[0], "scc1 ") {
				t.Errorf("health rows = %q, want scc1's", rows)
			}
		}},
		{"unchanged reads grow nothing", func(t *testing.T, st Store) {
			record(t, st, hr(0, health()))
			record(t, st, hr(5, health()))
			before := healthRows(t, st)
			for i := range 5 {
				// the same state, its lists in another order
				h := health()
				h.Tunnels = append(h.Tunnels, TunnelState{Subaccount: "a", State: "Connected"})
				if i%2 == 1 {
					slices.Reverse(h.Tunnels)
				}
				if i == 0 {
					record(t, st, hr(10, h))
					before = healthRows(t, st)
					continue
				}
				if rec := record(t, st, hr(10+i, h)); len(rec.Changes) != 0 {
					t.Errorf("read %d: %+v, want no changes", i, rec.Changes)
				}
			}
			if after := healthRows(t, st); !slices.Equal(before, after) {
				t.Errorf("an unchanged read rewrote the state:\n%q\n%q", before, after)
			}
			if n := countChanges(t, st); n != 1 {
				t.Errorf("%d changes stored, want the one tunnel newly served", n)
			}
		}},
		{"every kind, worst first, filtered by kind and client_id", func(t *testing.T, st Store) {
			record(t, st, hr(0, health()))
			rec := record(t, st, hr(5, broken))
			want := []Kind{KindAlertCleared, KindAlertRaised, KindCertificateRenewed, KindHAChanged, KindTunnelChanged}
			if got := sortedKinds(rec.Changes); !slices.Equal(got, want) {
				t.Errorf("Record changes = %v, want %v", got, want)
			}
			set := changes(t, st, Query{})
			if len(set.Changes) != 5 || SeverityRank(set.Changes[0].Severity) != 3 || set.Changes[4].Severity != SeverityInfo {
				t.Errorf("Changes = %+v, want 5, high first, info last", set.Changes)
			}
			for _, c := range set.Changes {
				if c.ClientID != "c1" || !strings.HasPrefix(c.Field, "scc1: ") || c.Subaccount != "sa" {
					t.Errorf("change %+v: want client c1 (known from the previous read), a field naming scc1, subaccount sa", c)
				}
			}
			for _, k := range healthKinds {
				if set := changes(t, st, Query{Since: at(0), Kind: k, ClientID: "c1"}); set.Total != 1 || set.Changes[0].Kind != k {
					t.Errorf("kind %s: %+v, want one", k, set.Changes)
				}
			}
			rec = record(t, st, hr(10, health()))
			if got := sortedKinds(rec.Changes); !slices.Equal(got, []Kind{KindAlertCleared, KindAlertRaised, KindCertificateRenewed, KindHAChanged, KindTunnelChanged}) {
				t.Errorf("back: %v", got)
			}
			for _, c := range rec.Changes {
				if c.Kind == KindTunnelChanged && (c.New != "Connected" || c.Severity != SeverityInfo) {
					t.Errorf("tunnel back = %+v, want info", c)
				}
			}
		}},
		{"an unreachable read keeps the last known state", func(t *testing.T, st Store) {
			record(t, st, hr(0, health()))
			stored := healthRows(t, st)
			if rec := record(t, st, hr(5, unreachable)); len(rec.Changes) != 0 {
				t.Errorf("unreachable: %+v, want no changes", rec.Changes)
			}
			if rows := healthRows(t, st); !slices.Equal(rows, stored) {
				t.Errorf("unreachable read changed the state:\n%q\n%q", stored, rows)
			}
			// the tunnel failed and the certificate was renewed while it could not be read
			rec := record(t, st, hr(10, editHealth(func(s *HealthState) {
				s.Tunnels[0].State, s.Tunnels[0].CertExpiry = "ConnectFailure", t0.AddDate(1, 0, 0)
			})))
			if got := sortedKinds(rec.Changes); !slices.Equal(got, []Kind{KindCertificateRenewed, KindTunnelChanged}) {
				t.Errorf("after the outage: %v, want the renewal and the tunnel against the last known state", got)
			}
			// a read that knows only the HA state changes nothing else
			if rec := record(t, st, hr(15, HealthState{Connector: "scc1", Role: "master", HAKnown: true, MasterState: "CONNECTED"})); len(rec.Changes) != 0 {
				t.Errorf("partial read: %+v, want no changes", rec.Changes)
			}
		}},
		{"a connector configured later is a baseline of its own", func(t *testing.T, st Store) {
			record(t, st, hr(0, health()))
			other := editHealth(func(s *HealthState) { s.Connector, s.ClientID = "scc2", "c2" })
			if rec := record(t, st, hr(5, health(), other)); len(rec.Changes) != 0 {
				t.Errorf("new connector: %+v, want no changes", rec.Changes)
			}
			other.MasterState = "BROKEN"
			rec := record(t, st, hr(10, other)) // scc1 not read: unknown, kept
			if len(rec.Changes) != 1 || rec.Changes[0].ClientID != "c2" || rec.Changes[0].Field != "scc2: ha master_state" {
				t.Errorf("changes = %+v, want scc2's master state", rec.Changes)
			}
			if rows := healthRows(t, st); len(rows) != 2 {
				t.Errorf("health rows = %q, want both connectors", rows)
			}
		}},
		{"prune drops the states of subaccounts not read since", func(t *testing.T, st Store) {
			record(t, st, hr(0, health()))
			if _, err := st.Prune(t.Context(), at(1)); err != nil {
				t.Fatal(err)
			}
			if rows := healthRows(t, st); len(rows) != 0 {
				t.Errorf("health rows after prune = %q, want none", rows)
			}
		}},
		{"a store of the previous schema is upgraded", func(t *testing.T, st Store) {
			s := sqlOf(st)
			record(t, st, read(0, nil, c1))
			for _, stmt := range []string{`DROP TABLE health`, fmt.Sprintf(`UPDATE meta SET value = '%d' WHERE key = 'schema_version'`, len(migrations)-1)} {
				if _, err := s.db.ExecContext(t.Context(), stmt); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.migrate(t.Context(), migrations); err != nil {
				t.Fatalf("upgrading: %v", err)
			}
			record(t, st, hr(5, health()))
			if rec := record(t, st, hr(10, broken)); len(rec.Changes) != 5 {
				t.Errorf("after the upgrade: %v, want the 5 deep-health changes", kinds(rec.Changes))
			}
		}},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, mustOpen(t, b.store(t)))
				})
			}
		})
	}
}

// TestHealthFromSimulatedConnectors reads two simulated connectors over HTTP, one as it was and
// one as it became (the same configured name), and records both reads.
func TestHealthFromSimulatedConnectors(t *testing.T) {
	t.Parallel()
	now := t0
	before := simulator.SampleSCCs(now, "sa-id")[0] // fra-prod master: connected, paired, certificate in 12 days
	before.Version = "2.19.0.2"
	before.Alerts = []simulator.SCCAlert{{Type: "Disk", Status: "Warning", Message: "disk 90 % full", Time: now}}
	after := before
	after.Subaccounts = slices.Clone(before.Subaccounts)
	after.Subaccounts[0].TunnelState, after.Subaccounts[0].ConnectedSince = "ConnectFailure", time.Time{}
	after.Subaccounts[0].CertNotAfter = now.AddDate(1, 0, 0)
	after.MasterState = "ALONE"
	after.Alerts = []simulator.SCCAlert{{Type: "Tunnel", Entity: "sa-id", Status: "Error", Message: "tunnel down", Time: now}}

	sub := before.Subaccounts[0]
	cloud := []sccadmin.CloudSubaccount{{Name: "prod", ID: "sa-id", Connectors: []sccadmin.CloudConnector{
		{ClientID: "284610375", AgentType: "master", ConnectedBy: sub.User, ConnectedSince: sub.ConnectedSince, LocationID: sub.LocationID},
	}}}
	readAs := func(o simulator.SCCOptions) []HealthState {
		s, err := simulator.StartSCC(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		pw := t.TempDir() + "/password"
		if err := os.WriteFile(pw, []byte(s.Password()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := sccadmin.ParseConfig("test.yaml", fmt.Appendf(nil, "connectors:\n  - name: fra\n    url: %s\n    user: %s\n    password_file: %s\n",
			s.URL(), s.User(), pw), os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		h, err := sccadmin.NewReader(cfg, sccadmin.Options{}).Read(t.Context(), "fra", false)
		if err != nil || !h.Reachable() {
			t.Fatalf("Read = %+v, %v", h, err)
		}
		return HealthStates("sa-id", sccadmin.Join(h, "", cloud), h)
	}
	first, second := readAs(before), readAs(after)
	if first[0].ClientID != "284610375" || first[0].Tunnels[0].ClientID != "284610375" || second[0].ClientID != "" {
		t.Errorf("client IDs: %+v then %+v, want matched by connected-since first, unmatched after", first[0], second[0])
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := mustOpen(t, b.store(t))
			record(t, st, withHealth(read(0, nil), first...))
			rec := record(t, st, withHealth(read(5, nil), second...))
			got := map[Kind]Change{}
			for _, c := range rec.Changes {
				got[c.Kind] = c
				if c.ClientID != "284610375" {
					t.Errorf("%s: client %q, want the one matched before the tunnel went down", c.Kind, c.ClientID)
				}
			}
			for k, want := range map[Kind]string{
				KindTunnelChanged:      "fra: tunnel sa-id location fra-prod Connected→ConnectFailure high",
				KindCertificateRenewed: "fra: subaccount certificate sa-id location fra-prod 2026-12-12T08:00:00Z→2027-11-30T08:00:00Z info",
				KindHAChanged:          "fra: ha master_state CONNECTED→ALONE high",
				KindAlertRaised:        "fra: alert Tunnel sa-id →Error high",
				KindAlertCleared:       "fra: alert Disk Warning→ info",
			} {
				c := got[k]
				if s := c.Field + " " + c.Old + "→" + c.New + " " + c.Severity; s != want {
					t.Errorf("%s: %q, want %q", k, s, want)
				}
			}
			if len(rec.Changes) != 5 {
				t.Errorf("changes = %v, want 5", kinds(rec.Changes))
			}
		})
	}
}
