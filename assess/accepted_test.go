package assess_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestAcceptedRisks(t *testing.T) {
	t.Parallel()
	file := `# accepted on purpose
accepted:
  - rule: ha.no_shadow
    client_id: "123456789"
    reason: lab system, no failover needed
    owner: basis-team@example.com
    expires: 2027-06-30
  - rule: protocol.unencrypted
    subject: erp-prod:8000
    reason: migration to HTTPS planned
    owner: erp-team@example.com
    expires: 2026-10-31
  - rule: security.payload_trace
    client_id: "999999999"
    reason: a connector long gone
    owner: basis-team@example.com
    expires: 2027-01-31
`
	risks, err := assess.ParseAcceptedRisks("accepted.yaml", []byte(file), fetched)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, snapshotOf(t, simulator.SampleLandscape(), "acme"), assess.Policy{Accepted: risks})
	var accepted, expired int
	for _, f := range res.Findings {
		switch {
		case f.Accepted != nil:
			accepted++
			if f.Rule != assess.RuleHANoShadow || f.ClientID != "123456789" || f.Accepted.Owner != "basis-team@example.com" || f.Accepted.Expires != "2027-06-30" {
				t.Errorf("accepted: %+v", f)
			}
		case f.Expired != nil:
			expired++
			if f.Subject != "erp-prod:8000" || f.Expired.Reason != "migration to HTTPS planned" {
				t.Errorf("expired: %+v", f)
			}
		}
	}
	if accepted != 1 || expired != 1 {
		t.Errorf("%d accepted, %d expired; want 1 and 1", accepted, expired)
	}
	if len(res.Unused) != 1 || res.Unused[0].ClientID != "999999999" || res.Unused[0].Line != 13 {
		t.Errorf("unused entries: %+v", res.Unused)
	}
	// JSON is YAML too.
	if _, err := assess.ParseAcceptedRisks("a.json", []byte(`{"accepted":[{"rule":"version.java","reason":"r","owner":"o","expires":"2027-01-01"}]}`), fetched); err != nil {
		t.Errorf("JSON file: %v", err)
	}
}

func TestAcceptedRisksBadFiles(t *testing.T) {
	t.Parallel()
	entry := func(lines ...string) string {
		return "accepted:\n  - " + strings.Join(lines, "\n    ") + "\n"
	}
	tests := []struct {
		name, data, want string
		entry            int
	}{
		{"not YAML", "accepted: [\n", "not valid YAML", 0},
		{"not a mapping", "- rule: x\n", `must be a mapping with the key "accepted"`, 0},
		{"unknown top key", "accept:\n  - rule: x\n", `unknown key "accept"`, 0},
		{"unknown rule", entry("rule: ha.no_shadows", "reason: r", "owner: o", "expires: 2027-01-01"), `unknown rule "ha.no_shadows"`, 1},
		{"missing fields", entry("rule: ha.no_shadow", "client_id: x"), "missing required reason, owner, expires", 1},
		{"bad date", entry("rule: ha.no_shadow", "reason: r", "owner: o", "expires: next summer"), `expires "next summer" is not a date`, 1},
		{"more than a year ahead", entry("rule: ha.no_shadow", "reason: r", "owner: o", "expires: 2028-06-30"), "more than one year ahead", 1},
		{"unknown entry key", entry("rule: ha.no_shadow", "reason: r", "owner: o", "expires: 2027-01-01", "clientid: x"), "clientid", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := assess.ParseAcceptedRisks("risks.yaml", []byte(tt.data), fetched)
			var fe *assess.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "risks.yaml") || fe.Entry != tt.entry {
				t.Errorf("error %q (entry %d), want it to name risks.yaml, entry %d and %q", err, fe.Entry, tt.entry, tt.want)
			}
		})
	}
	_, err := assess.LoadAcceptedRisks(filepath.Join(t.TempDir(), "missing.yaml"), fetched)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("missing file: %v", err)
	}
}

// An assessment holds until an accepted risk expires: the first instant after its expiry date.
func TestPolicyHolds(t *testing.T) {
	t.Parallel()
	file := "accepted:\n  - rule: ha.no_shadow\n    reason: lab\n    owner: basis\n    expires: 2026-11-30\n"
	risks, err := assess.ParseAcceptedRisks("accepted.yaml", []byte(file), fetched)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		since, now time.Time
		holds      bool
	}{
		{end.Add(-time.Hour), end.Add(-time.Second), true},
		{end.Add(-time.Hour), end, false},
		{end.Add(-time.Second), end.Add(time.Hour), false},
		{end, end.Add(time.Hour), true},
	} {
		if got := (assess.Policy{Accepted: risks}).Holds(tc.since, tc.now); got != tc.holds {
			t.Errorf("Holds(%s, %s) = %v, want %v", tc.since, tc.now, got, tc.holds)
		}
	}
	if !(assess.Policy{}).Holds(end.Add(-time.Hour), end) {
		t.Error("without accepted risks an assessment always holds")
	}
}
