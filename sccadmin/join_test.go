package sccadmin_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// cloudView reads the Connectivity service's view of the simulator's default subaccount over
// HTTP, as the pipeline would, and copies the fields the join reads.
func cloudView(t *testing.T, landscape []simulator.Agent) (sccadmin.CloudSubaccount, string) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{Landscape: landscape})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	res := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "test key")
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	b := res.Usable[0]
	c, err := connectivity.NewClient(b, connectivity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conns, err := c.CloudConnectors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	view := sccadmin.CloudSubaccount{Name: b.Name, Label: b.Label(), ID: b.SubaccountID}
	for _, x := range conns {
		view.Connectors = append(view.Connectors, sccadmin.CloudConnector{ClientID: x.ClientID, AgentType: x.AgentType,
			AgentVersion: x.AgentVersion, ConnectedBy: x.ConnectedBy, ConnectedSince: x.ConnectedSince, LocationID: x.LocationID})
	}
	return view, b.SubaccountID
}

func TestJoinTheSampleOverHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		landscape []simulator.Agent
		shadowEv  []string
	}{
		{"cloud reports locations", simulator.SampleLandscapeWithLocations(), []string{"master", "location_id", "version", "role"}},
		{"cloud reports no locations", simulator.SampleLandscape(), []string{"master", "version", "role"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			view, subID := cloudView(t, tc.landscape)
			var entries []string
			for _, o := range simulator.SampleSCCs(now, subID) {
				s := startSCC(t, o)
				entries = append(entries, direct(t, o.Name, s, s.Password()))
			}
			hs := sccadmin.NewReader(configOf(t, entries...), sccadmin.Options{}).ReadAll(context.Background(), false)
			cloud := []sccadmin.CloudSubaccount{view}
			byName := map[string]*sccadmin.Health{}
			for _, h := range hs {
				if !h.Reachable() {
					t.Fatalf("%s: %v", h.Name, h.Failure)
				}
				byName[h.Name] = h
			}
			for _, want := range []struct{ name, clientID string }{
				{"fra-prod master", "284610375"}, {"muc-hr master", "856302417"}, {"sgp-dc", "630174285"},
			} {
				ms := sccadmin.Join(byName[want.name], "", cloud)
				if len(ms) != 1 || ms[0].ClientID != want.clientID || ms[0].CloudSubaccount != view.Name || len(ms[0].Conflicts) != 0 {
					t.Fatalf("%s: %+v, want %s", want.name, ms, want.clientID)
				}
				if ev := ms[0].Evidence; ev[0] != "connected_since" || !slices.Contains(ev, "subaccount_id") || !slices.Contains(ev, "connected_by") ||
					!slices.Contains(ev, "version") || !slices.Contains(ev, "role") {
					t.Errorf("%s: evidence %v", want.name, ev)
				}
			}
			for _, pair := range []struct{ shadow, master, clientID string }{
				{"fra-prod shadow", "fra-prod master", "284610376"}, {"muc-hr shadow", "muc-hr master", "856302418"},
			} {
				master := byName[pair.master]
				m := sccadmin.JoinShadow(byName[pair.shadow], master, sccadmin.Join(master, "", cloud), cloud)
				if m.ClientID != pair.clientID || !slices.Equal(m.Evidence, tc.shadowEv) {
					t.Errorf("%s: %+v, want %s with %v", pair.shadow, m, pair.clientID, tc.shadowEv)
				}
			}
		})
	}
}

func TestJoinCases(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 9, 6, 12, 44, 120e6, time.UTC)
	master := func(subs ...sccadmin.Subaccount) *sccadmin.Health {
		return &sccadmin.Health{Name: "scc", Version: "2.18.2.1", Role: "master", Subaccounts: subs}
	}
	tunnel := func(id, loc, user string, since time.Time) sccadmin.Subaccount {
		return sccadmin.Subaccount{ID: id, LocationID: loc, Tunnel: sccadmin.Tunnel{State: "Connected", ConnectedSince: since, User: user}}
	}
	cc := func(id, typ, version, by string, since time.Time, loc string) sccadmin.CloudConnector {
		return sccadmin.CloudConnector{ClientID: id, AgentType: typ, AgentVersion: version, ConnectedBy: by, ConnectedSince: since, LocationID: loc}
	}
	sub := func(name, id string, cs ...sccadmin.CloudConnector) sccadmin.CloudSubaccount {
		return sccadmin.CloudSubaccount{Name: name, Label: name + "-label", ID: id, Connectors: cs}
	}
	for _, tc := range []struct {
		name          string
		h             *sccadmin.Health
		scope         string
		cloud         []sccadmin.CloudSubaccount
		wantClient    string
		wantEvidence  []string
		wantUnmatched string
		wantConflict  string
	}{
		{"matched by connected-since, within the subaccount of that ID",
			master(tunnel("sub-1", "fra", "basis", since)), "",
			[]sccadmin.CloudSubaccount{sub("other", "sub-2", cc("999", "master", "2.18.2", "basis", since, "fra")),
				sub("prod", "sub-1", cc("111", "master", "2.18.2", "basis", since, "fra"))},
			"111", []string{"connected_since", "subaccount_id", "connected_by", "version", "role", "location_id"}, "", ""},
		{"two connectors in one subaccount: the time decides",
			master(tunnel("sub-1", "", "basis", since)), "",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "master", "2.18.2", "basis", since.Add(time.Millisecond), ""),
				cc("222", "master", "2.18.2", "basis", since, ""))},
			"222", []string{"connected_since", "connected_by", "version", "role"}, "", ""},
		{"equal times: the tunnel user decides",
			master(tunnel("sub-1", "", "hr", since)), "",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "master", "2.18.2", "basis", since, ""), cc("222", "master", "2.18.2", "hr", since, ""))},
			"222", []string{"connected_since", "connected_by", "version", "role"}, "", ""},
		{"equal times and users: not guessed",
			master(tunnel("sub-1", "", "basis", since)), "",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "master", "2.18.2", "basis", since, ""), cc("222", "master", "2.18.2", "basis", since, ""))},
			"", nil, "not guessed", ""},
		{"no connector with that time: unmatched",
			master(tunnel("sub-1", "", "basis", since)), "",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "master", "2.18.2", "basis", since.Add(time.Second), ""))},
			"", nil, "reports connected_since", ""},
		{"a tunnel in ConnectFailure has no time: unmatched",
			master(sccadmin.Subaccount{ID: "sub-1", Tunnel: sccadmin.Tunnel{State: "ConnectFailure"}}), "",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "master", "2.18.2", "basis", since, ""))},
			"", nil, "ConnectFailure", ""},
		{"the entry's subaccount scopes the join",
			master(tunnel("sub-1", "", "basis", since)), "prod-label",
			[]sccadmin.CloudSubaccount{sub("dev", "", cc("999", "master", "2.18.2", "basis", since, "")), sub("prod", "", cc("111", "master", "2.18.2", "basis", since, ""))},
			"111", []string{"connected_since", "connected_by", "version", "role"}, "", ""},
		{"a scope no binding has: unmatched",
			master(tunnel("sub-1", "", "basis", since)), "nowhere",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "master", "2.18.2", "basis", since, ""))},
			"", nil, `no bound subaccount is named "nowhere"`, ""},
		{"supporting evidence that disagrees is reported",
			master(tunnel("sub-1", "", "basis", since)), "",
			[]sccadmin.CloudSubaccount{sub("prod", "", cc("111", "shadow", "2.17.0", "basis", since, ""))},
			"111", []string{"connected_since", "connected_by"}, "", `version: connector says "2.18.2", cloud says "2.17.0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := sccadmin.Join(tc.h, tc.scope, tc.cloud)
			if len(ms) != 1 {
				t.Fatalf("%d matches", len(ms))
			}
			m := ms[0]
			if m.ClientID != tc.wantClient || !slices.Equal(m.Evidence, tc.wantEvidence) || m.Matched() != (tc.wantClient != "") ||
				(tc.wantUnmatched == "") != (m.Unmatched == "") || !strings.Contains(m.Unmatched, tc.wantUnmatched) {
				t.Errorf("match %+v; want %q with %v, unmatched %q", m, tc.wantClient, tc.wantEvidence, tc.wantUnmatched)
			}
			if tc.wantConflict != "" && !slices.Contains(m.Conflicts, tc.wantConflict) {
				t.Errorf("conflicts %v, want %q", m.Conflicts, tc.wantConflict)
			}
		})
	}
}

func TestJoinShadowCases(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 9, 6, 12, 44, 120e6, time.UTC)
	cloud := []sccadmin.CloudSubaccount{{Name: "prod", Connectors: []sccadmin.CloudConnector{
		{ClientID: "1", AgentType: "master", AgentVersion: "2.18.2", ConnectedBy: "b", ConnectedSince: since},
		{ClientID: "2", AgentType: "shadow", AgentVersion: "2.18.2"},
		{ClientID: "3", AgentType: "shadow", AgentVersion: "2.18.2"},
	}}}
	master := &sccadmin.Health{Name: "m", Role: "master", Version: "2.18.2.0", HA: &sccadmin.HAState{MasterState: "CONNECTED", ShadowHost: "scc-2.corp:8443"},
		Subaccounts: []sccadmin.Subaccount{{ID: "s", Tunnel: sccadmin.Tunnel{State: "Connected", ConnectedSince: since, User: "b"}}}}
	shadow := &sccadmin.Health{Name: "s", Role: "shadow", Version: "2.18.2.0", HA: &sccadmin.HAState{ShadowState: "READY", OwnHosts: []string{"SCC-2.corp"}}}
	matches := sccadmin.Join(master, "", cloud)
	if m := sccadmin.JoinShadow(shadow, master, matches, cloud); m.Matched() || !strings.Contains(m.Unmatched, "2 shadows") {
		t.Errorf("two shadows of one version: %+v", m)
	}
	cloud[0].Connectors[2].AgentVersion = "2.17.0"
	if m := sccadmin.JoinShadow(shadow, master, matches, cloud); m.ClientID != "2" || !slices.Equal(m.Evidence, []string{"master", "version", "role"}) {
		t.Errorf("narrowed by version: %+v", m)
	}
	stranger := &sccadmin.Health{Name: "x", Role: "shadow", HA: &sccadmin.HAState{OwnHosts: []string{"elsewhere"}}}
	if m := sccadmin.JoinShadow(stranger, master, matches, cloud); m.Matched() || !strings.Contains(m.Unmatched, "shadowHost") {
		t.Errorf("a shadow its master does not name: %+v", m)
	}
	if m := sccadmin.JoinShadow(shadow, master, nil, cloud); m.Matched() || !strings.Contains(m.Unmatched, "not matched") {
		t.Errorf("an unmatched master: %+v", m)
	}
}
