package tools

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The rules are unit-tested on crafted landscapes: attribute maps as the API sends them, decoded
// by the real decoder (no HTTP needed for a pure function). The sample and clean landscapes are
// assessed through the simulator in assess_connectors_test.go.

var assessFetchedAt = time.Date(2026, time.November, 25, 12, 0, 0, 0, time.UTC)

// assessAgent is a healthy connected agent: every check ok, 2.18.2 on Java 21, only HTTPS.
func assessAgent(id, role, location string, changes ...func(map[string]string)) map[string]string {
	a := map[string]string{
		"connected_by":          "basis@example.com",
		"connected_since":       "1794000000000",
		"agent_recent_start_ms": "1793999000000",
		"security_status":       `{"summary":"ok","cpic_trace":"ok","trust_store":"ok","ciphers":"ok","ui_certificate":"ok","payload_trace":"ok","authentication_type":"ok","application_whitelist":"ok"}`,
		"agent_version":         "2.18.2",
		"agent_type":            role,
		"client_id":             id,
		"exposed_systems":       `[{"protocol":"HTTPS","host":"s4h:443","description":"","type":"abapSys","status":"exposed"}]`,
		"jvm_vendor_version":    "OpenJDK 64-Bit Server VM (SAP SE, 21.0.5+11-LTS, mixed mode, sharing)",
		"java_version":          "21.0.5 (SAP SE)",
	}
	if location != "" {
		a["location_id"] = location
	}
	for _, change := range changes {
		change(a)
	}
	return a
}

// set returns a change that sets (or, for value "<absent>", deletes) attributes, given as pairs.
func set(pairs ...string) func(map[string]string) {
	return func(a map[string]string) {
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] == "<absent>" {
				delete(a, pairs[i])
			} else {
				a[pairs[i]] = pairs[i+1]
			}
		}
	}
}

// withCheck sets one security check (or the summary) to a raw JSON value.
func withCheck(key, rawJSON string) func(map[string]string) {
	return func(a map[string]string) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(a["security_status"]), &m); err != nil {
			panic(err)
		}
		m[key] = json.RawMessage(rawJSON)
		data, _ := json.Marshal(m)
		a["security_status"] = string(data)
	}
}

// assessSnapshotOf decodes agents as the client would and indexes them; subaccounts may be nil.
func assessSnapshotOf(t *testing.T, subaccounts []string, agents ...map[string]string) *connectivity.Snapshot {
	t.Helper()
	elements := make([]simulator.Agent, len(agents))
	for i, a := range agents {
		elements[i] = simulator.Agent{Attributes: a}
	}
	body, err := json.Marshal(elements)
	if err != nil {
		t.Fatal(err)
	}
	connectors, err := connectivity.DecodeConnectors(body)
	if err != nil {
		t.Fatal(err)
	}
	return connectivity.NewSnapshot(assessFetchedAt, connectors, subaccounts)
}

// assessRun assesses a snapshot and fails the test on an error.
func assessRun(t *testing.T, snap *connectivity.Snapshot, policy AssessPolicy) assessment {
	t.Helper()
	a, err := assess(snap, policy)
	if err != nil {
		t.Fatalf("assess: %v", err)
	}
	for _, f := range a.findings {
		if f.ID == "" || f.Title == "" || f.Recommendation == "" || len(f.Evidence) == 0 || severityRank(f.Severity) < 0 {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	return a
}

// assessKeys renders findings as "id severity client_id" lines, in order.
func assessKeys(findings []schemas.Finding) []string {
	out := make([]string, len(findings))
	for i, f := range findings {
		out[i] = f.ID + " " + f.Severity + " " + f.ClientID
	}
	return out
}

func assessFind(findings []schemas.Finding, id, clientID string) (schemas.Finding, bool) {
	for _, f := range findings {
		if f.ID == id && f.ClientID == clientID {
			return f, true
		}
	}
	return schemas.Finding{}, false
}

func TestAssessRules(t *testing.T) {
	tests := []struct {
		name        string
		subaccounts []string
		agents      []map[string]string
		policy      AssessPolicy
		want        []string // every finding, as "id severity client_id", in order
	}{
		{"clean pair", nil, []map[string]string{
			assessAgent("m", "master", "loc"), assessAgent("s", "shadow", "loc"),
		}, AssessPolicy{}, nil},

		// Security checks: each rating's severity, unknown ratings and keys included.
		{"security ratings", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("trust_store", `"high_risk"`), withCheck("ciphers", `"medium_risk"`),
				withCheck("ui_certificate", `"low_risk"`), withCheck("authentication_type", `"not_evaluated"`),
				withCheck("payload_trace", `"high_risk"`), withCheck("cpic_trace", `"high_risk"`), withCheck("application_whitelist", `""`)),
			assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{
			"security.cpic_trace critical m", "security.payload_trace critical m",
			"security.trust_store high m", "security.authentication_type high m", "security.application_whitelist high m",
			"security.ciphers medium m", "security.ui_certificate low m",
		}},
		{"undocumented check key", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("Tunnel-Audit", `"medium_risk"`)), assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{"security.tunnel_audit medium m"}},
		{"summary alone is not a check", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("summary", `"low_risk"`)), assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, nil},
		{"malformed security status", nil, []map[string]string{
			assessAgent("m", "master", "", set("security_status", `{"summary":"ok","ciphers":`)), assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{"decode.security_status high m"}},
		{"missing security status", nil, []map[string]string{
			assessAgent("m", "master", "", set("security_status", "<absent>")), assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{"decode.security_status high m"}},
		{"partly readable security status", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("ciphers", `3`)), assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{"security.ciphers high m", "decode.security_status low m"}},

		// High availability.
		{"master without shadow", nil, []map[string]string{
			assessAgent("m1", "master", ""), assessAgent("m2", "master", "other"),
		}, AssessPolicy{}, []string{"ha.no_shadow medium m1", "ha.no_shadow medium m2"}},
		{"pairs in two locations", nil, []map[string]string{
			assessAgent("a", "master", "x"), assessAgent("b", "master", ""), assessAgent("c", "shadow", ""), assessAgent("d", "shadow", "x"),
		}, AssessPolicy{}, nil},
		{"double master reported once, on the later one", nil, []map[string]string{
			assessAgent("m2", "master", "us", set("connected_since", "1794000500000")), assessAgent("m1", "master", "us"),
		}, AssessPolicy{}, []string{"ha.double_master high m2"}},
		{"double master beside a shadow", nil, []map[string]string{
			assessAgent("m1", "master", "us"), assessAgent("m2", "master", "us", set("connected_since", "1794000500000")), assessAgent("s", "shadow", "us"),
		}, AssessPolicy{}, []string{"ha.double_master high m2"}},
		{"same location in two subaccounts", []string{"sub-a", "sub-b"}, []map[string]string{
			assessAgent("m1", "master", "us"), assessAgent("m2", "master", "us"),
		}, AssessPolicy{}, []string{"ha.no_shadow medium m1", "ha.no_shadow medium m2"}},
		{"shadow not connected", nil, []map[string]string{
			assessAgent("m", "master", "hr"), assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		}, AssessPolicy{}, []string{"ha.shadow_disconnected medium s"}},
		{"shadow and master both not connected", nil, []map[string]string{
			assessAgent("m", "master", "hr", set("connected_since", "", "agent_recent_start_ms", "")),
			assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		}, AssessPolicy{}, nil},
		{"shadow that restarted recently is connected", nil, []map[string]string{
			assessAgent("m", "master", "hr"), assessAgent("s", "shadow", "hr", set("connected_since", "")),
		}, AssessPolicy{}, nil},
		{"shadow without a master", nil, []map[string]string{
			assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		}, AssessPolicy{}, nil},
		{"unknown role is left out of pairing", nil, []map[string]string{
			assessAgent("m", "master", ""), assessAgent("x", "standby", ""),
		}, AssessPolicy{}, []string{"ha.no_shadow medium m"}},

		// Versions.
		{"derived minimum: one minor back", nil, []map[string]string{
			assessAgent("new", "master", ""), assessAgent("ok", "shadow", "", set("agent_version", "2.17.0")),
			assessAgent("old", "master", "b", set("agent_version", "2.16.9")), assessAgent("olds", "shadow", "b", set("agent_version", "1.99.0")),
		}, AssessPolicy{}, []string{"version.outdated medium old", "version.outdated medium olds"}},
		{"configured minimum", nil, []map[string]string{
			assessAgent("m", "master", "", set("agent_version", "2.17.1")), assessAgent("s", "shadow", "", set("agent_version", "2.18.0")),
		}, AssessPolicy{MinSCCVersion: "2.18.0"}, []string{"version.outdated medium m"}},
		{"unreadable version", nil, []map[string]string{
			assessAgent("m", "master", "", set("agent_version", "banana")), assessAgent("s", "shadow", "", set("agent_version", "<absent>")),
		}, AssessPolicy{}, []string{"decode.agent_version low m", "decode.agent_version low s"}},
		{"java below 17", nil, []map[string]string{
			assessAgent("m", "master", "", set("java_version", "11.0.22 (SAP SE)")),
			assessAgent("s", "shadow", "", set("java_version", "1.8.0_292", "jvm_vendor_version", "")),
		}, AssessPolicy{}, []string{"version.java medium m", "version.java medium s"}},
		{"java from the vendor string", nil, []map[string]string{
			assessAgent("m", "master", "", set("java_version", "", "jvm_vendor_version", "OpenJDK 64-Bit Server VM (SAP SE, 11.0.22+7-LTS, mixed mode)")),
			assessAgent("s", "shadow", "", set("java_version", "<absent>")),
		}, AssessPolicy{}, []string{"version.java medium m"}},
		{"java unreadable", nil, []map[string]string{
			assessAgent("m", "master", "", set("java_version", "unknown", "jvm_vendor_version", "Java HotSpot(TM) 64-Bit Server VM (build 25.292-b10, mixed mode)")),
			assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{"decode.java_version low m"}},
		{"higher java floor", nil, []map[string]string{
			assessAgent("m", "master", ""), assessAgent("s", "shadow", "", set("java_version", "17.0.14 (SAP SE)")),
		}, AssessPolicy{MinJavaMajor: 21}, []string{"version.java medium s"}},

		// Protocols.
		{"unencrypted protocols", nil, []map[string]string{
			assessAgent("m", "master", "", set("exposed_systems", `[`+
				`{"protocol":"HTTP","host":"a:80","type":"abapSys","status":"exposed"},`+
				`{"protocol":"tcp","host":"b:1","type":"nonSAPsys","status":"exposed"},`+
				`{"protocol":"RFCS","host":"c:4800","type":"abapSys","status":"exposed"},`+
				`{"protocol":"LDAP","host":"d:389","type":"nonSAPsys","status":"disabled"},`+
				`{"protocol":"RFC","host":"e:3300","type":"abapSys","status":"exposed"},`+
				`{"protocol":"HTTP","host":"f:8000","type":"abapSys","status":"exposed"}]`)),
			assessAgent("s", "shadow", ""),
		}, AssessPolicy{}, []string{
			"protocol.unencrypted medium m", "protocol.unencrypted medium m", "protocol.unencrypted medium m", "protocol.unencrypted medium m",
		}},

		// Decoding problems in other attributes.
		{"malformed attributes", nil, []map[string]string{
			assessAgent("m", "master", "", set("connected_since", "yesterday", "exposed_systems", `[{"protocol":`, "agent_recent_start_ms", "soon")),
			assessAgent("s", "shadow", "", set("client_id", "<absent>")),
		}, AssessPolicy{}, []string{
			"decode.connected_since low m", "decode.exposed_systems low m", "decode.client_id low ", "decode.agent_recent_start_ms info m",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := assessRun(t, assessSnapshotOf(t, tt.subaccounts, tt.agents...), tt.policy)
			if got := assessKeys(a.findings); !slices.Equal(got, tt.want) {
				t.Errorf("findings\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestAssessFindingDetails(t *testing.T) {
	snap := assessSnapshotOf(t, []string{"sub", "sub", "sub", "sub", "sub"},
		assessAgent("m", "master", "hr",
			withCheck("authentication_type", `"not_evaluated"`), withCheck("payload_trace", `"high_risk"`),
			set("java_version", "11.0.22 (SAP SE)", "agent_version", "2.15.0",
				"exposed_systems", `[{"protocol":"HTTP","host":"erp:8000","status":"exposed"},{"protocol":"HTTP","host":"pi:50000","status":"disabled"}]`)),
		assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		assessAgent("u1", "master", "us"),
		assessAgent("u2", "master", "us", set("connected_since", "1794000500000")),
		assessAgent("lab", "master", "lab", set("security_status", `{"summary":`)),
	)
	a := assessRun(t, snap, AssessPolicy{})

	tests := []struct {
		id, client   string
		wantSeverity string
		wantTitle    string
		wantEvidence map[string]string
		wantRelated  []string
		wantInRec    []string
	}{
		{"security.payload_trace", "m", "critical", "Tunnel Traffic Trace rated high_risk",
			map[string]string{"security_status.payload_trace": "high_risk"}, nil,
			[]string{"Switch the payload trace off", "Verify:"}},
		{"security.authentication_type", "m", "high", `User Administration rated "not_evaluated" (an undocumented rating)`,
			map[string]string{"security_status.authentication_type": "not_evaluated"}, nil,
			[]string{"not documented", "LDAP"}},
		{"decode.security_status", "lab", "high", "Security status unknown — check the connector",
			map[string]string{"security_status": `not a JSON object ("{\"summary\":"): the security status is unknown`}, nil,
			[]string{"Security Status page"}},
		{"version.outdated", "m", "medium", "Cloud Connector 2.15.0 is older than 2.17.0",
			map[string]string{"agent_version": "2.15.0", "min_scc_version": "2.17.0"}, nil,
			[]string{"to 2.18.2 or newer", "newest version in this landscape, 2.18.2"}},
		{"version.java", "m", "medium", "Runs on Java 11, below Java 17",
			map[string]string{"java_version": "11.0.22 (SAP SE)", "jvm_vendor_version": "OpenJDK 64-Bit Server VM (SAP SE, 21.0.5+11-LTS, mixed mode, sharing)", "java_major": "11"}, nil,
			[]string{"Java 17 or newer"}},
		{"protocol.unencrypted", "m", "medium", "HTTP exposed without encryption (2 systems)",
			map[string]string{"protocol": "HTTP", "hosts": "erp:8000, pi:50000 (status disabled)", "encrypted_variant": "HTTPS"}, nil,
			[]string{"HTTPS", "find_exposed_system with protocol=HTTP"}},
		{"ha.shadow_disconnected", "s", "medium", `Shadow not connected while its master is, in location "hr"`,
			map[string]string{"connected_since": "not reported", "agent_recent_start_ms": "not reported", "master_connected_since": "2026-11-06T21:20:00Z"},
			[]string{"m"}, []string{"start the shadow"}},
		{"ha.double_master", "u2", "high", `2 masters in location "us" (double master)`,
			map[string]string{"location_id": "us", "masters": "u1 (connected since 2026-11-06T21:20:00Z); u2 (connected since 2026-11-06T21:28:20Z)"},
			[]string{"u1"}, []string{"double-master state"}},
		{"ha.no_shadow", "lab", "medium", `Master without a shadow in location "lab" (no failover)`,
			map[string]string{"agent_type": "master", "location_id": "lab", "shadows_in_location": "0"}, nil,
			[]string{"Install a shadow"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			f, ok := assessFind(a.findings, tt.id, tt.client)
			if !ok {
				t.Fatalf("no %s finding for %s in %v", tt.id, tt.client, assessKeys(a.findings))
			}
			if f.Severity != tt.wantSeverity || f.Title != tt.wantTitle {
				t.Errorf("severity %q title %q, want %q %q", f.Severity, f.Title, tt.wantSeverity, tt.wantTitle)
			}
			if !maps.Equal(f.Evidence, tt.wantEvidence) {
				t.Errorf("evidence %v\nwant %v", f.Evidence, tt.wantEvidence)
			}
			if !slices.Equal(f.RelatedClientIDs, tt.wantRelated) {
				t.Errorf("related %v, want %v", f.RelatedClientIDs, tt.wantRelated)
			}
			for _, want := range tt.wantInRec {
				if !strings.Contains(f.Recommendation, want) {
					t.Errorf("recommendation lacks %q: %s", want, f.Recommendation)
				}
			}
			if f.Subaccount != "sub" || f.AgentType == "" {
				t.Errorf("subaccount %q agent_type %q", f.Subaccount, f.AgentType)
			}
		})
	}
	// A confirmed high_risk outranks an unknown rating of the same severity.
	keys := assessKeys(a.findings)
	if i, j := slices.Index(keys, "ha.double_master high u2"), slices.Index(keys, "security.authentication_type high m"); i > j {
		t.Errorf("double master (a confirmed high) after an unknown rating:\n%s", strings.Join(keys, "\n"))
	}
	if i, j := slices.Index(keys, "security.authentication_type high m"), slices.Index(keys, "decode.security_status high lab"); i > j {
		t.Errorf("findings of equal severity and weight not in connector order:\n%s", strings.Join(keys, "\n"))
	}
	for i := 1; i < len(a.findings); i++ {
		if severityRank(a.findings[i-1].Severity) < severityRank(a.findings[i].Severity) {
			t.Fatalf("not worst first:\n%s", strings.Join(keys, "\n"))
		}
	}
	if a.policy != (schemas.AssessmentPolicy{MinSCCVersion: "2.17.0", MinSCCVersionSource: "derived", NewestSCCVersion: "2.18.2", MinJavaMajor: 17}) {
		t.Errorf("policy %+v", a.policy)
	}
}

func TestAssessManyHostsAreBounded(t *testing.T) {
	var systems []string
	for i := range 30 {
		systems = append(systems, fmt.Sprintf(`{"protocol":"TCP","host":"h%d:1","status":"exposed"}`, i))
	}
	snap := assessSnapshotOf(t, nil, assessAgent("m", "master", "", set("exposed_systems", "["+strings.Join(systems, ",")+"]")), assessAgent("s", "shadow", ""))
	f, ok := assessFind(assessRun(t, snap, AssessPolicy{}).findings, "protocol.unencrypted", "m")
	if !ok {
		t.Fatal("no protocol finding")
	}
	if f.Title != "TCP exposed without encryption (30 systems)" || !strings.HasSuffix(f.Evidence["hosts"], "h19:1 and 10 more") {
		t.Errorf("title %q hosts %q", f.Title, f.Evidence["hosts"])
	}
}

func TestAssessPolicy(t *testing.T) {
	snap := assessSnapshotOf(t, nil, assessAgent("m", "master", "", set("agent_version", "3.0.1")), assessAgent("s", "shadow", "", set("agent_version", "2.18.2")))
	a := assessRun(t, snap, AssessPolicy{})
	if a.policy.MinSCCVersion != "3.0.0" || a.policy.NewestSCCVersion != "3.0.1" {
		t.Errorf("new major: policy %+v, want minimum 3.0.0 (the minor cannot go below 0)", a.policy)
	}
	if got := assessKeys(a.findings); !slices.Equal(got, []string{"version.outdated medium s"}) {
		t.Errorf("findings %v", got)
	}

	empty := assessRun(t, assessSnapshotOf(t, nil), AssessPolicy{})
	if empty.policy != (schemas.AssessmentPolicy{MinSCCVersionSource: "none", MinJavaMajor: 17}) || len(empty.findings) != 0 {
		t.Errorf("empty landscape: %+v %v", empty.policy, empty.findings)
	}
	configured := assessRun(t, assessSnapshotOf(t, nil), AssessPolicy{MinSCCVersion: " 2.17 "})
	if configured.policy.MinSCCVersion != "2.17.0" || configured.policy.MinSCCVersionSource != "configured" {
		t.Errorf("configured: %+v", configured.policy)
	}
	if _, err := assess(snap, AssessPolicy{MinSCCVersion: "latest"}); err == nil || !strings.Contains(err.Error(), `"latest"`) {
		t.Errorf("bad minimum: %v", err)
	}
}

func TestParseSCCVersion(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for not a version
	}{
		{"2.18.2", "2.18.2"}, {"2.18", "2.18.0"}, {"v2.17.1", "2.17.1"}, {" 2.16.0 ", "2.16.0"},
		{"2.18.2-SNAPSHOT", "2.18.2"}, {"2.18.2.1", "2.18.2"}, {"2.18.2 (build 7)", "2.18.2"},
		{"", ""}, {"2", ""}, {"banana", ""}, {"2.x", ""}, {"..", ""}, {"12345.1.1", ""},
	}
	for _, tt := range tests {
		v, ok := parseSCCVersion(tt.in)
		got := ""
		if ok {
			got = v.String()
		}
		if got != tt.want {
			t.Errorf("parseSCCVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if (CheckSCCVersion(tt.in) == nil) != (tt.want != "") {
			t.Errorf("CheckSCCVersion(%q) disagrees", tt.in)
		}
	}
	if a, b := (sccVersion{2, 18, 0}), (sccVersion{2, 9, 9}); a.compare(b) <= 0 {
		t.Errorf("2.18.0 not above 2.9.9: versions compare as numbers, not text")
	}
}

func TestJavaMajor(t *testing.T) {
	tests := []struct {
		java, vendor string
		want         int // 0 for unknown
	}{
		{"17.0.14 (SAP SE)", "", 17},
		{"21.0.5 (SAP SE)", "", 21},
		{"11.0.22", "", 11},
		{"21", "", 21},
		{"25+36-LTS", "", 25},
		{"1.8.0_292", "", 8},
		{"1.7.0", "", 7},
		{"", "OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)", 17},
		{"", "OpenJDK 64-Bit Server VM (build 11.0.22+7-LTS, mixed mode)", 11},
		{"", "Java HotSpot(TM) 64-Bit Server VM (build 1.8.0_292-b10, mixed mode)", 8},
		{"", "Java HotSpot(TM) 64-Bit Server VM (build 25.292-b10, mixed mode)", 0}, // HotSpot's own number, not Java 25
		{"", "OpenJDK 64-Bit Server VM", 0},
		{"unknown", "", 0},
		{"1", "", 0},
		{"(SAP SE) 17", "", 0},
	}
	for _, tt := range tests {
		c := connectivity.Connector{JavaVersion: tt.java, JVMVendorVersion: tt.vendor}
		got, ok := javaMajor(&c)
		if !ok {
			got = 0
		}
		if got != tt.want {
			t.Errorf("javaMajor(%q, %q) = %d, want %d", tt.java, tt.vendor, got, tt.want)
		}
	}
}

func TestSeverityOrder(t *testing.T) {
	for i, s := range schemas.Severities() {
		for j, threshold := range schemas.Severities() {
			if got := SeverityAtLeast(s, threshold); got != (i <= j) {
				t.Errorf("SeverityAtLeast(%s, %s) = %v", s, threshold, got)
			}
		}
	}
	if SeverityAtLeast("severe", "info") || SeverityAtLeast("critical", "severe") {
		t.Error("an unknown severity compared")
	}
	counts := schemas.SeverityCounts{Critical: 1, High: 2, Medium: 3, Low: 4, Info: 5}
	for threshold, want := range map[string]int{"critical": 1, "high": 3, "medium": 6, "low": 10, "info": 15, "bogus": 0} {
		if got := CountAtLeast(counts, threshold); got != want {
			t.Errorf("CountAtLeast(%s) = %d, want %d", threshold, got, want)
		}
	}
}

func TestIDPart(t *testing.T) {
	for in, want := range map[string]string{
		"payload_trace": "payload_trace", "Tunnel-Audit": "tunnel_audit", "": "unnamed", "ä": "_",
		strings.Repeat("x", 100): strings.Repeat("x", 64),
	} {
		if got := idPart(in); got != want {
			t.Errorf("idPart(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkAssessLarge assesses 1000 connectors with 100 exposed systems each, all rules.
func BenchmarkAssessLarge(b *testing.B) {
	body, err := json.Marshal(simulator.LargeLandscape(1000, 100))
	if err != nil {
		b.Fatal(err)
	}
	connectors, err := connectivity.DecodeConnectors(body)
	if err != nil {
		b.Fatal(err)
	}
	snap := connectivity.NewSnapshot(assessFetchedAt, connectors, nil)
	b.ReportAllocs()
	for b.Loop() {
		out, err := assessSnapshot(snap, AssessPolicy{}, schemas.AssessConnectorsInput{Limit: schemas.MaxLimit})
		if err != nil || out.Total == 0 {
			b.Fatal(err)
		}
	}
}
