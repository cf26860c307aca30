package connectivity

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

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

func mustDecode(t *testing.T, body []byte) []Connector {
	t.Helper()
	c, err := DecodeConnectors(body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
