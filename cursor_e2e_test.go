package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestAlertCursorAcrossRuns runs the built binary as a cron job would (check --new-only, one
// process a run) and as an interactive user (call assess_connectors) on one SQLite history file,
// while the simulator's landscape changes between runs: the cron job is told of the critical
// finding that the interactive call saw first, once; a failed write of its report tells it
// again; another cursor has its own alerts; a finding that resolves and comes back alerts again.
func TestAlertCursorAcrossRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	sim := assessSim(t, simulator.CleanLandscape())
	store := filepath.Join(t.TempDir(), "history.db")
	run := func(stdout *os.File, args ...string) (int, string, string) {
		t.Helper()
		cmd := assessCommand(t, stdioBin, sim, append([]string{"--log-level", "error", "--history", store}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if stdout != nil {
			cmd.Stdout = stdout
		}
		_ = cmd.Run()
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	const alert = "critical (new)  security.payload_trace"
	cron := func(step string, wantCode int, wantOut string, extra ...string) {
		t.Helper()
		code, stdout, stderr := run(nil, append([]string{"check", "--new-only"}, extra...)...)
		if code != wantCode || !strings.Contains(stdout, wantOut) {
			t.Fatalf("%s: check --new-only %v: exit %d, want %d with %q\n%s\n%s", step, extra, code, wantCode, wantOut, stdout, stderr)
		}
	}
	interactive := func(step string) {
		t.Helper()
		code, stdout, stderr := run(nil, "call", "assess_connectors")
		if code != 0 || !strings.Contains(stdout, `"fingerprint"`) && !strings.Contains(stdout, `"findings":[]`) {
			t.Fatalf("%s: call assess_connectors: exit %d\n%s\n%s", step, code, stdout, stderr)
		}
	}

	cron("first cron run, clean landscape", 0, "PASS: no new finding at or above high")
	sim.SetLandscape(simulator.SampleLandscape())
	interactive("a critical finding appears, seen first interactively")

	// A report that cannot be written moves no cursor.
	readOnly, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer readOnly.Close()
	if code, _, stderr := run(readOnly, "check", "--new-only"); code != checkNotRun || !strings.Contains(stderr, "writing the result") {
		t.Fatalf("check --new-only with an unwritable stdout: exit %d\n%s", code, stderr)
	}

	cron("second cron run", 1, alert)
	cron("third cron run", 0, "PASS: no new finding at or above high")
	cron("another consumer's first run", 1, alert, "--cursor", "ci")
	cron("the other consumer took nothing from this one", 0, "PASS: no new finding", "--cursor", "check")

	sim.SetLandscape(simulator.CleanLandscape())
	interactive("the finding resolves")
	sim.SetLandscape(simulator.SampleLandscape())
	interactive("and comes back")
	cron("fourth cron run", 1, alert)
	cron("fifth cron run", 0, "PASS: no new finding at or above high")
}
