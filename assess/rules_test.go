package assess_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The rules on crafted landscapes: attribute maps as the API sends them, decoded by the real
// decoder.

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
	return connectivity.NewSnapshot(fetched, connectors, subaccounts)
}

// assessRun assesses a snapshot and fails the test on an error.
// ruleKeys renders findings as "id severity client_id" lines, in order.
func ruleKeys(res *assess.Result) []string {
	out := make([]string, len(res.Findings))
	for i, f := range res.Findings {
		out[i] = f.Rule + " " + string(f.Severity) + " " + f.ClientID
		if f.Title == "" || len(f.Evidence) == 0 || f.Fingerprint == "" || f.Severity.Rank() < 0 {
			out[i] += " INCOMPLETE"
		}
	}
	return out
}

func TestAssessRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		subaccounts []string
		agents      []map[string]string
		policy      assess.Policy
		want        []string // every finding, as "id severity client_id", in order
	}{
		{"clean pair", nil, []map[string]string{
			assessAgent("m", "master", "loc"), assessAgent("s", "shadow", "loc"),
		}, assess.Policy{}, nil},

		// Security checks: each rating's severity, unknown ratings and keys included.
		{"security ratings", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("trust_store", `"high_risk"`), withCheck("ciphers", `"medium_risk"`),
				withCheck("ui_certificate", `"low_risk"`), withCheck("authentication_type", `"not_evaluated"`),
				withCheck("payload_trace", `"high_risk"`), withCheck("cpic_trace", `"high_risk"`), withCheck("application_whitelist", `""`)),
			assessAgent("s", "shadow", ""),
		}, assess.Policy{}, []string{
			"security.cpic_trace critical m", "security.payload_trace critical m",
			"security.trust_store high m", "security.authentication_type high m", "security.application_whitelist high m",
			"security.ciphers medium m", "security.ui_certificate low m",
		}},
		{"undocumented check key", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("Tunnel-Audit", `"medium_risk"`)), assessAgent("s", "shadow", ""),
		}, assess.Policy{}, []string{"security.tunnel_audit medium m"}},
		{"summary alone is not a check", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("summary", `"low_risk"`)), assessAgent("s", "shadow", ""),
		}, assess.Policy{}, nil},
		{"malformed security status", nil, []map[string]string{
			assessAgent("m", "master", "", set("security_status", `{"summary":"ok","ciphers":`)), assessAgent("s", "shadow", ""),
		}, assess.Policy{}, []string{"decode.security_status high m"}},
		{"missing security status", nil, []map[string]string{
			assessAgent("m", "master", "", set("security_status", "<absent>")), assessAgent("s", "shadow", ""),
		}, assess.Policy{}, []string{"decode.security_status high m"}},
		{"partly readable security status", nil, []map[string]string{
			assessAgent("m", "master", "", withCheck("ciphers", `3`)), assessAgent("s", "shadow", ""),
		}, assess.Policy{}, []string{"security.ciphers high m", "decode.security_status low m"}},

		// High availability.
		{"master without shadow", nil, []map[string]string{
			assessAgent("m1", "master", ""), assessAgent("m2", "master", "other"),
		}, assess.Policy{}, []string{"ha.no_shadow medium m1", "ha.no_shadow medium m2"}},
		{"pairs in two locations", nil, []map[string]string{
			assessAgent("a", "master", "x"), assessAgent("b", "master", ""), assessAgent("c", "shadow", ""), assessAgent("d", "shadow", "x"),
		}, assess.Policy{}, nil},
		{"double master reported once, on the later one", nil, []map[string]string{
			assessAgent("m2", "master", "us", set("connected_since", "1794000500000")), assessAgent("m1", "master", "us"),
		}, assess.Policy{}, []string{"ha.double_master high m2"}},
		{"double master beside a shadow", nil, []map[string]string{
			assessAgent("m1", "master", "us"), assessAgent("m2", "master", "us", set("connected_since", "1794000500000")), assessAgent("s", "shadow", "us"),
		}, assess.Policy{}, []string{"ha.double_master high m2"}},
		{"same location in two subaccounts", []string{"sub-a", "sub-b"}, []map[string]string{
			assessAgent("m1", "master", "us"), assessAgent("m2", "master", "us"),
		}, assess.Policy{}, []string{"ha.no_shadow medium m1", "ha.no_shadow medium m2"}},
		{"shadow not connected", nil, []map[string]string{
			assessAgent("m", "master", "hr"), assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		}, assess.Policy{}, []string{"ha.shadow_disconnected medium s"}},
		{"shadow and master both not connected", nil, []map[string]string{
			assessAgent("m", "master", "hr", set("connected_since", "", "agent_recent_start_ms", "")),
			assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		}, assess.Policy{}, nil},
		{"shadow that restarted recently is connected", nil, []map[string]string{
			assessAgent("m", "master", "hr"), assessAgent("s", "shadow", "hr", set("connected_since", "")),
		}, assess.Policy{}, nil},
		{"shadow without a master", nil, []map[string]string{
			assessAgent("s", "shadow", "hr", set("connected_since", "", "agent_recent_start_ms", "<absent>")),
		}, assess.Policy{}, []string{"ha.unmatched_shadow low s"}},
		{"unknown role is left out of pairing, and reported", nil, []map[string]string{
			assessAgent("m", "master", ""), assessAgent("x", "standby", ""),
		}, assess.Policy{}, []string{"ha.no_shadow medium m", "decode.agent_type low x"}},

		// Versions.
		{"derived minimum: one minor back", nil, []map[string]string{
			assessAgent("new", "master", ""), assessAgent("ok", "shadow", "", set("agent_version", "2.17.0")),
			assessAgent("old", "master", "b", set("agent_version", "2.16.9")), assessAgent("olds", "shadow", "b", set("agent_version", "1.99.0")),
		}, assess.Policy{}, []string{"version.outdated medium old", "version.outdated medium olds"}},
		{"configured minimum", nil, []map[string]string{
			assessAgent("m", "master", "", set("agent_version", "2.17.1")), assessAgent("s", "shadow", "", set("agent_version", "2.18.0")),
		}, assess.Policy{MinSCCVersion: "2.18.0"}, []string{"version.outdated medium m"}},
		{"unreadable version", nil, []map[string]string{
			assessAgent("m", "master", "", set("agent_version", "banana")), assessAgent("s", "shadow", "", set("agent_version", "<absent>")),
		}, assess.Policy{}, []string{"decode.agent_version low m", "decode.agent_version low s"}},
		{"java below 17", nil, []map[string]string{
			assessAgent("m", "master", "", set("java_version", "11.0.22 (SAP SE)")),
			assessAgent("s", "shadow", "", set("java_version", "1.8.0_292", "jvm_vendor_version", "")),
		}, assess.Policy{}, []string{"version.java medium m", "version.java medium s"}},
		{"java from the vendor string", nil, []map[string]string{
			assessAgent("m", "master", "", set("java_version", "", "jvm_vendor_version", "OpenJDK 64-Bit Server VM (SAP SE, 11.0.22+7-LTS, mixed mode)")),
			assessAgent("s", "shadow", "", set("java_version", "<absent>")),
		}, assess.Policy{}, []string{"version.java medium m"}},
		{"java unreadable", nil, []map[string]string{
			assessAgent("m", "master", "", set("java_version", "unknown", "jvm_vendor_version", "Java HotSpot(TM) 64-Bit Server VM (build 25.292-b10, mixed mode)")),
			assessAgent("s", "shadow", ""),
		}, assess.Policy{}, []string{"decode.java_version low m"}},
		{"higher java floor", nil, []map[string]string{
			assessAgent("m", "master", ""), assessAgent("s", "shadow", "", set("java_version", "17.0.14 (SAP SE)")),
		}, assess.Policy{MinJavaMajor: 21}, []string{"version.java medium s"}},

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
		}, assess.Policy{}, []string{
			"protocol.unencrypted medium m", "protocol.unencrypted medium m", "protocol.unencrypted medium m",
			"ha.no_shadow medium m", "protocol.unencrypted low m", "ha.unmatched_shadow low s",
		}},

		// Decoding problems in other attributes.
		{"malformed attributes", nil, []map[string]string{
			assessAgent("m", "master", "", set("connected_since", "yesterday", "exposed_systems", `[{"protocol":`, "agent_recent_start_ms", "soon")),
			assessAgent("s", "shadow", "", set("client_id", "<absent>")),
		}, assess.Policy{}, []string{
			"decode.connected_since low m", "decode.exposed_systems low m", "decode.client_id low ", "decode.agent_recent_start_ms info m",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, assessSnapshotOf(t, tt.subaccounts, tt.agents...), tt.policy)
			if got := ruleKeys(res); !slices.Equal(got, tt.want) {
				t.Errorf("findings\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
