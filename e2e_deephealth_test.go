package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSCCConfigRefused checks that a bad --scc-config stops the program with the file, entry,
// line and problem: exit 2 for check, 1 otherwise.
func TestSCCConfigRefused(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "scc.yaml")
	if err := os.WriteFile(bad, []byte("connectors:\n  - name: fra\n    url: https://scc:8443\n    user: monitoring\n    password: inline\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--demo", "check", "--scc-config", bad}, 2},
		{[]string{"--demo", "call", "list_cloud_connectors", "--scc-config", bad}, 1},
		{[]string{"--demo", "--scc-config", filepath.Join(t.TempDir(), "missing.yaml")}, 1},
		{[]string{"--demo", "check", "--cert-warn-days", "0"}, 2},
	} {
		code, stdout, stderr := assessRun(append([]string{"--log-level", "error"}, tc.args...)...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, "Fix the file or leave out --scc-config") {
			t.Errorf("%v: exit %d (want %d)\nstdout %q\nstderr %s", tc.args, code, tc.code, stdout, stderr)
		}
	}
	if _, _, stderr := assessRun("--demo", "check", "--scc-config", bad); !strings.Contains(stderr, `entry 1 "fra" (line 2): an inline password is refused`) {
		t.Errorf("message does not name the entry and problem: %s", stderr)
	}
}

// TestCheckDeepHealthDemo checks that the demo serves deep health: check fails on the sample
// connectors' critical and high findings, among them the subaccount certificate expiring in 12
// days and the lost shadow.
func TestCheckDeepHealthDemo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "check")
	for _, want := range []string{
		"scc.cert_expiring               acme-prod   284610375  The subaccount certificate of ACME production expires in 12 days",
		"scc.shadow_not_ready            acme-prod   856302418  Shadow muc-hr shadow is LOST, not READY",
		"scc.master_alone                acme-prod   856302417  Master muc-hr master lost its shadow (BROKEN)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check --demo lacks %q\n%s", want, stdout)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr)
	}
}
