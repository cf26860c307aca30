package connectivity

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// The fuzzers check the decoder's contract: never panic, fail only in the documented way, keep
// every element, record a problem for every malformed field, produce values that encode as JSON
// with valid UTF-8 problem messages, and decode what encoding/json reads from the same document
// (re-encoded by encoding/json, so that repeated keys and other ambiguities are gone).

func FuzzDecodeConnectors(f *testing.F) {
	f.Add([]byte(referenceSample))
	f.Add([]byte(`[{"attributes":{"client_id":"x","security_status":"{","exposed_systems":"[1,{}]","connected_since":"yesterday"}}]`))
	f.Add([]byte(`[{"attributes":{"client_id":7,"agent_type":null}}, 3, "s", null]`))
	f.Add([]byte(`[{"attributes":{"client_id":"caf\u00e9 \ud83d\ude00 \ud800","exposed_systems":"[{\"host\":\"a\\\"b\",\"status\":null}]"}}]`))
	f.Add([]byte(`{"error":"unauthorized"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := DecodeConnectors(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			var elements []json.RawMessage
			if json.Unmarshal(body, &elements) == nil {
				t.Fatalf("a JSON array rejected: %v", err)
			}
			return
		}
		var elements []json.RawMessage
		if json.Unmarshal(body, &elements) == nil && len(elements) != len(got) {
			t.Fatalf("%d elements decoded to %d connectors", len(elements), len(got))
		}
		for _, c := range got {
			checkConnector(t, c)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("decoded connectors do not encode: %v", err)
		}

		var oracle []struct {
			Attributes map[string]string `json:"attributes"`
		}
		if json.Unmarshal(body, &oracle) != nil {
			return
		}
		canonical, _ := json.Marshal(oracle)
		got, err = DecodeConnectors(canonical)
		if err != nil || len(got) != len(oracle) {
			t.Fatalf("%s: %d of %d connectors (%v)", canonical, len(got), len(oracle), err)
		}
		for i, o := range oracle {
			compareConnector(t, got[i], o.Attributes)
		}
	})
}

// checkConnector checks that c reports a problem for each of its fields that is not set.
func checkConnector(t *testing.T, c Connector) {
	t.Helper()
	has := func(attr string) bool {
		return slices.ContainsFunc(c.Problems, func(p Problem) bool { return p.Attribute == attr })
	}
	if (c.ClientID == "" && !has("client_id")) || (c.Security == nil && !has("security_status")) {
		t.Fatalf("a missing field without a problem: %+v", c)
	}
	for _, p := range c.Problems {
		if !utf8.ValidString(p.Message) || p.Message == "" {
			t.Fatalf("problem message is empty or not valid UTF-8: %q", p.Message)
		}
	}
}

// compareConnector checks c against the attributes encoding/json decoded.
func compareConnector(t *testing.T, c Connector, attrs map[string]string) {
	t.Helper()
	rest := map[string]string{}
	for k, v := range attrs {
		rest[k] = v
	}
	for name, field := range map[string]string{
		"client_id": c.ClientID, "agent_type": c.AgentType, "agent_version": c.AgentVersion, "java_version": c.JavaVersion,
		"jvm_vendor_version": c.JVMVendorVersion, "connected_by": c.ConnectedBy,
	} {
		if field != attrs[name] {
			t.Fatalf("%s = %q, encoding/json reads %q", name, field, attrs[name])
		}
		delete(rest, name)
	}
	for _, name := range []string{"connected_since", "agent_recent_start_ms", "security_status", "exposed_systems"} {
		delete(rest, name)
	}
	for _, k := range locationKeys {
		if v, ok := rest[k]; ok {
			if c.LocationID != v {
				t.Fatalf("location %q, want %q", c.LocationID, v)
			}
			delete(rest, k)
			break
		}
	}
	if len(rest) == 0 {
		rest = nil
	}
	if !reflect.DeepEqual(c.Extra, rest) {
		t.Fatalf("extra = %v, want %v", c.Extra, rest)
	}
	if s, ok := attrs["security_status"]; ok {
		want, wantErr := decodeSecurityStatus([]byte(s))
		if !reflect.DeepEqual(c.Security, want) {
			t.Fatalf("security = %+v, want %+v (%v)", c.Security, want, wantErr)
		}
	}
}

func FuzzDecodeSecurityStatus(f *testing.F) {
	f.Add(`{"summary":"low_risk","cpic_trace":"ok","trust_store":"ok","ciphers":"low_risk","ui_certificate":"low_risk","payload_trace":"ok","authentication_type":"low_risk","application_whitelist":"ok"}`)
	f.Add(`{"summary":`)
	f.Add(`{"summary":1,"x":{"y":[]}}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, s string) {
		status, err := decodeSecurityStatus([]byte(s))
		if status == nil {
			if err == nil {
				t.Fatal("nil status without an error")
			}
			var object map[string]any
			if json.Unmarshal([]byte(s), &object) == nil && object != nil {
				t.Fatalf("a JSON object rejected: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range status.Checks {
			if c.Key == "summary" || seen[c.Key] {
				t.Fatalf("bad check list %+v", status.Checks)
			}
			seen[c.Key] = true
		}
		_ = status.Worst()

		var oracle map[string]string
		if json.Unmarshal([]byte(s), &oracle) != nil || oracle == nil {
			return
		}
		if _, ok := oracle["summary"]; ok && err != nil {
			t.Fatalf("an object of strings with a summary: %v", err)
		}
		canonical, _ := json.Marshal(oracle)
		status, _ = decodeSecurityStatus(canonical)
		if status.Summary != Risk(oracle["summary"]) {
			t.Fatalf("summary %q, want %q", status.Summary, oracle["summary"])
		}
		for _, c := range status.Checks {
			if want, ok := oracle[c.Key]; !ok || Risk(want) != c.Status {
				t.Fatalf("check %+v, encoding/json reads %q", c, want)
			}
		}
	})
}

func FuzzDecodeExposedSystems(f *testing.F) {
	f.Add(`[{"protocol":"HTTP","host":"virtualhost:1234","description":"","type":"nonSAPsys","status":"exposed"}]`)
	f.Add(`[{"host":`)
	f.Add(`[1, null, {"host": 5, "extra": [1]}]`)
	f.Add(`[{"host":"x\"y\u00e4","description":"\ud83d\ude00 \udc00","status":null},{}]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		systems, err := decodeExposedSystems([]byte(s), map[string]string{})
		if _, err := json.Marshal(systems); err != nil {
			t.Fatalf("decoded systems do not re-encode: %v", err)
		}
		var elements []any
		if json.Unmarshal([]byte(s), &elements) != nil {
			return
		}
		skipped := 0
		for _, e := range elements {
			if _, ok := e.(map[string]any); !ok {
				skipped++
			}
		}
		if skipped == 0 && err != nil {
			t.Fatalf("a JSON array of objects: %v", err)
		}
		canonical, _ := json.Marshal(elements)
		systems, _ = decodeExposedSystems(canonical, map[string]string{})
		if len(systems)+skipped != len(elements) {
			t.Fatalf("%s: %d systems, %d skipped, of %d elements", canonical, len(systems), skipped, len(elements))
		}
		i := 0
		for _, e := range elements {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if want := oracleSystem(m); !reflect.DeepEqual(systems[i], want) {
				t.Fatalf("%s: system %+v, want %+v", canonical, systems[i], want)
			}
			i++
		}
	})
}

// oracleSystem is the ExposedSystem of an object as encoding/json decodes it.
func oracleSystem(m map[string]any) ExposedSystem {
	var sys ExposedSystem
	fields := map[string]*string{"protocol": &sys.Protocol, "host": &sys.Host, "description": &sys.Description, "type": &sys.Type, "status": &sys.Status}
	for k, v := range m {
		if field, known := fields[k]; known {
			if s, ok := v.(string); ok {
				*field = s
				continue
			}
			if v == nil {
				continue
			}
		}
		if sys.Extra == nil {
			sys.Extra = map[string]any{}
		}
		sys.Extra[k] = v
	}
	return sys
}

func FuzzDecodeEpochMillis(f *testing.F) {
	for _, s := range []string{"1762174293176", "", "yesterday", "-1", "0", "99999999999999999999", " 12 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := decodeEpochMillis(s)
		if err != nil && !ts.IsZero() {
			t.Fatalf("error with a non-zero time: %v", ts)
		}
		if err == nil && !ts.IsZero() && (ts.Year() < 1970 || ts.Year() > 9999) {
			t.Fatalf("implausible time %v accepted", ts)
		}
		if err != nil && !utf8.ValidString(err.Error()) {
			t.Fatalf("error is not valid UTF-8: %q", err.Error())
		}
	})
}
