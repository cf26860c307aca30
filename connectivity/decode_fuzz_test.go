package connectivity

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// The fuzzers check the decoders' contract: never panic, fail only in the documented way, keep
// every element, and produce values that encode as valid JSON with valid UTF-8 problem messages.

func FuzzDecodeConnectors(f *testing.F) {
	f.Add([]byte(referenceSample))
	f.Add([]byte(`[{"attributes":{"client_id":"x","security_status":"{","exposed_systems":"[1,{}]","connected_since":"yesterday"}}]`))
	f.Add([]byte(`[{"attributes":{"client_id":7,"agent_type":null}}, 3, "s", null]`))
	f.Add([]byte(`{"error":"unauthorized"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := DecodeConnectors(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		var elements []json.RawMessage
		if json.Unmarshal(body, &elements) == nil && len(elements) != len(got) {
			t.Fatalf("%d elements decoded to %d connectors", len(elements), len(got))
		}
		for _, c := range got {
			for _, p := range c.Problems {
				if !utf8.ValidString(p.Message) {
					t.Fatalf("problem message is not valid UTF-8: %q", p.Message)
				}
			}
		}
	})
}

func FuzzDecodeSecurityStatus(f *testing.F) {
	f.Add(`{"summary":"low_risk","cpic_trace":"ok","trust_store":"ok","ciphers":"low_risk","ui_certificate":"low_risk","payload_trace":"ok","authentication_type":"low_risk","application_whitelist":"ok"}`)
	f.Add(`{"summary":`)
	f.Add(`{"summary":1,"x":{"y":[]}}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, s string) {
		status, err := DecodeSecurityStatus(s)
		if status == nil {
			if err == nil {
				t.Fatal("nil status without an error")
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
	})
}

func FuzzDecodeExposedSystems(f *testing.F) {
	f.Add(`[{"protocol":"HTTP","host":"virtualhost:1234","description":"","type":"nonSAPsys","status":"exposed"}]`)
	f.Add(`[{"host":`)
	f.Add(`[1, null, {"host": 5, "extra": [1]}]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		systems, err := DecodeExposedSystems(s)
		if err == nil {
			var raw []json.RawMessage
			if s != "" && json.Unmarshal([]byte(s), &raw) == nil && len(raw) != len(systems) {
				t.Fatalf("%d elements decoded to %d systems without an error", len(raw), len(systems))
			}
		}
		if _, err := json.Marshal(systems); err != nil {
			t.Fatalf("decoded systems do not re-encode: %v", err)
		}
	})
}

func FuzzDecodeEpochMillis(f *testing.F) {
	for _, s := range []string{"1762174293176", "", "yesterday", "-1", "0", "99999999999999999999", " 12 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := DecodeEpochMillis(s)
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
