package connectivity

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The fast decoding paths must give exactly what the general ones give whenever they accept a
// document, and must accept the documents the API actually sends.

func encodeAgents(t testing.TB, agents []simulator.Agent) []byte {
	t.Helper()
	data, err := json.Marshal(agents)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeFastPathAgreesOnLandscapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		agents []simulator.Agent
	}{
		{"sample", simulator.SampleLandscape()},
		{"clean", simulator.CleanLandscape()},
		{"large", simulator.LargeLandscape(60, 25)},
		{"empty", []simulator.Agent{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := encodeAgents(t, tc.agents)
			fast, ok := decodeConnectorsFast(body)
			if !ok {
				t.Fatal("the fast path gave up on a landscape the simulator serves")
			}
			general, err := decodeConnectorsGeneral(body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, general) {
				t.Fatalf("fast and general decoding differ:\nfast    %+v\ngeneral %+v", fast, general)
			}
			if tc.name == "large" && &fast[0].ExposedSystems[0] != &fast[1].ExposedSystems[0] {
				t.Error("a master and its shadow with the same exposed systems do not share them")
			}
			var scratch exposedScratch
			for _, a := range tc.agents {
				s := a.Attributes["exposed_systems"]
				if s == "" {
					continue
				}
				fast, ok := decodeExposedSystemsFast([]byte(s), &scratch) // reused, as in DecodeConnectors
				general, err := decodeExposedSystemsGeneral(s)
				if ok != (err == nil) || (ok && !reflect.DeepEqual(fast, general)) {
					t.Fatalf("exposed systems %.80q: fast %+v (ok %v), general %+v (%v)", s, fast, ok, general, err)
				}
			}
		})
	}
}

// TestDecodeFastPathShapes checks which documents the fast path takes and which it leaves to
// the general path; either way DecodeConnectors must answer what the general path answers.
func TestDecodeFastPathShapes(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		fast bool
	}{
		{`[]`, true},
		{" [ {\"attributes\" : {}} ]\n", true},
		{`[{"attributes":{"client_id":"1","connected_by":null,"x":"y"}}]`, true},
		{`[{"attributes":{"client_id":"1","exposed_systems":"[{\"host\":\"h\\u00e4:1\",\"description\":\"a \\\"b\\\"\"}]"}}]`, true},
		{`[{"attributes":{"client_id":"caf\u00e9 \ud83d\ude00 \ud800 x"}}]`, true},
		{"[{\"attributes\":{\"client_id\":\"\xff\xfe\"}}]", true},
		{`[{"attributes":{"client_id":"1","client_id":"2"}}]`, true},
		{`[{"attributes":{"cl\u0069ent_id":"1"}}]`, true},
		{`[{"Attributes":{"client_id":"1"}}]`, false},
		{`[{"attributes":{"client_id":1}}]`, false},
		{`[{"attributes":{"client_id":"1"},"other":true}]`, false},
		{`[{"attributes":{"client_id":"1"},"attributes":{"agent_type":"master"}}]`, false},
		{`[{"attributes":null}]`, false},
		{`[{}]`, false},
		{`[1, "x", null]`, false},
		{`[{"attributes":{"client_id":"1"}}] x`, false},
		{`[{"attributes":{"client_id":"1"}},]`, false},
		{`[{"attributes":{"client_id":"a` + "\x01" + `"}}]`, false},
		{`[{"attributes":{"client_id":"\x"}}]`, false},
		{`[{"attributes":{"client_id":"\u12"}}]`, false},
		{`[{"attributes":{"client_id":"1"`, false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			doc := bytes.TrimSpace([]byte(tc.doc))
			fast, ok := decodeConnectorsFast(doc)
			if ok != tc.fast {
				t.Errorf("fast path taken = %v, want %v", ok, tc.fast)
			}
			general, generalErr := decodeConnectorsGeneral(doc)
			if ok && (generalErr != nil || !reflect.DeepEqual(fast, general)) {
				t.Fatalf("fast %+v, general %+v (%v)", fast, general, generalErr)
			}
			got, err := DecodeConnectors([]byte(tc.doc))
			if (err == nil) != (generalErr == nil) || !reflect.DeepEqual(got, general) {
				t.Fatalf("DecodeConnectors = %+v (%v), general %+v (%v)", got, err, general, generalErr)
			}
		})
	}
}

func TestDecodeExposedSystemsFastPathShapes(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		fast bool
	}{
		{`[]`, true},
		{` [ ] `, true},
		{`[{}]`, true},
		{`[{"protocol":"HTTPS","host":"s4h:443","description":"ERP","type":"abapSys","status":"exposed"},{"host":"b:1"}]`, true},
		{`[{"protocol":null,"host":"x\"y\u00e4","description":"\ud83d\ude00 \udc00","status":"Exposed"}]`, true},
		{"[{\"host\":\"\xc3\x28\"}]", true},
		{`[{"host":"a","host":"b"}]`, false},
		{`[{"host":"a","port":1}]`, false},
		{`[{"host":5}]`, false},
		{`[{"ho\u0073t":"a"}]`, false},
		{`[1, {"host":"a"}]`, false},
		{`[null]`, false},
		{`[{"host":"a"}`, false},
		{`{"host":"a"}`, false},
		{`[{"host":"a"}] []`, false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			fast, ok := decodeExposedSystemsFast([]byte(tc.doc), &exposedScratch{})
			if ok != tc.fast {
				t.Errorf("fast path taken = %v, want %v", ok, tc.fast)
			}
			general, generalErr := decodeExposedSystemsGeneral(tc.doc)
			if ok && (generalErr != nil || !reflect.DeepEqual(fast, general)) {
				t.Fatalf("fast %+v, general %+v (%v)", fast, general, generalErr)
			}
			got, err := DecodeExposedSystems(tc.doc)
			if (err == nil) != (generalErr == nil) || !reflect.DeepEqual(got, general) {
				t.Fatalf("DecodeExposedSystems = %+v (%v), general %+v (%v)", got, err, general, generalErr)
			}
		})
	}
}

func FuzzDecodeFastPathAgrees(f *testing.F) {
	f.Add([]byte(referenceSample))
	f.Add([]byte(`[{"attributes":{"client_id":"caf\u00e9 \ud83d\ude00 \ud800","exposed_systems":"[{\"host\":\"a\\\"b\",\"status\":null}]"}}]`))
	f.Add([]byte(`[{"attributes":{"client_id":"1","connected_by":null}}, {"attributes":{}}]`))
	f.Add([]byte("[{\"attributes\":{\"client_id\":\"\xff\"}}]"))
	f.Add([]byte(`[{"attributes":{"client_id":"1","exposed_systems":"[{\"host\":\"a\",\"host\":\"b\"}]"}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc := bytes.TrimSpace(body)
		fast, ok := decodeConnectorsFast(doc)
		if !ok {
			return
		}
		general, err := decodeConnectorsGeneral(doc)
		if err != nil {
			t.Fatalf("the fast path accepted a document the general path rejects: %v", err)
		}
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("fast %+v\ngeneral %+v", fast, general)
		}
	})
}

func FuzzDecodeExposedSystemsFastPathAgrees(f *testing.F) {
	f.Add(`[{"protocol":"HTTP","host":"virtualhost:1234","description":"","type":"nonSAPsys","status":"exposed"}]`)
	f.Add(`[{"host":"x\"y\u00e4","description":"\ud83d\ude00 \udc00","status":null},{}]`)
	f.Add("[{\"host\":\"\xc3\x28\"}]")
	f.Add(`[{"host":"a","host":"b"}]`)
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := decodeExposedSystemsFast([]byte(s), &exposedScratch{text: []byte("left over"), bounds: []int{3}})
		if !ok {
			return
		}
		general, err := decodeExposedSystemsGeneral(s)
		if err != nil {
			t.Fatalf("the fast path accepted a document the general path rejects: %v", err)
		}
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("fast %+v\ngeneral %+v", fast, general)
		}
	})
}

// TestNewSnapshotSearchTexts checks the packed search index against its definition: the
// lower-cased host and description of each system, joined by a NUL.
func TestNewSnapshotSearchTexts(t *testing.T) {
	extra := []Connector{
		{ClientID: "u", ExposedSystems: []ExposedSystem{{Host: "ÄÖÜ.Example:443", Description: "Straße İstanbul"}, {Host: "", Description: ""}}},
		{ClientID: "v"},
	}
	extra = append(extra, Connector{ClientID: "w", ExposedSystems: extra[0].ExposedSystems}) // shared, as a shadow's
	extra = append(extra, Connector{ClientID: "x", ExposedSystems: extra[0].ExposedSystems[:1]})
	for _, tc := range []struct {
		name       string
		connectors []Connector
	}{
		{"large", mustDecode(t, encodeAgents(t, simulator.LargeLandscape(40, 30)))},
		{"sample", mustDecode(t, encodeAgents(t, simulator.SampleLandscape()))},
		{"non-ASCII and shared", extra},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := NewSnapshot(time.Now(), tc.connectors, nil)
			want := 0
			for _, c := range tc.connectors {
				want += len(c.ExposedSystems)
			}
			if len(snap.Systems) != want {
				t.Fatalf("%d refs for %d systems", len(snap.Systems), want)
			}
			k := 0
			for i, c := range tc.connectors {
				for j, sys := range c.ExposedSystems {
					ref := snap.Systems[k]
					k++
					if ref.Connector != i || ref.System != j {
						t.Fatalf("ref %d = %+v, want connector %d system %d", k-1, ref, i, j)
					}
					if text := strings.ToLower(sys.Host) + "\x00" + strings.ToLower(sys.Description); ref.search != text {
						t.Fatalf("search text of %s system %d = %q, want %q", c.ClientID, j, ref.search, text)
					}
				}
			}
		})
	}
}

func mustDecode(t *testing.T, body []byte) []Connector {
	t.Helper()
	c, err := DecodeConnectors(body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSystemMatcherAgreesWithMatchesQuery checks the search over distinct system texts against
// the search of each system.
func TestSystemMatcherAgreesWithMatchesQuery(t *testing.T) {
	connectors := mustDecode(t, encodeAgents(t, simulator.LargeLandscape(30, 12)))
	connectors = append(connectors, Connector{ClientID: "u", ExposedSystems: []ExposedSystem{
		{Host: "aa", Description: "bb"}, {Host: "aa", Description: "bb"}, {Host: "ÄÖ", Description: "straße"},
	}})
	connectors = append(connectors, Connector{ClientID: "v", ExposedSystems: connectors[len(connectors)-1].ExposedSystems[1:]})
	snap := NewSnapshot(time.Now(), connectors, nil)
	for _, q := range []string{
		"", "sys", "sys3.loc4.internal:", "internal", "of location 7", "bbaa", "bb\x00", "\x00", "b\x00a",
		"aa\x00bb", "äö", "straße", "nothing", "1", "abapsys system 1 of location 12",
	} {
		matches := snap.SystemMatcher(q)
		for _, ref := range snap.Systems {
			if got, want := matches(ref), ref.MatchesQuery(q); got != want {
				t.Fatalf("query %q, system %+v: SystemMatcher %v, MatchesQuery %v", q, ref, got, want)
			}
		}
	}
}
