package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestHistoryAcrossRuns runs check twice on one SQLite file: the first run finds every finding
// new, the second (a new process) none, so check --new-only alerts once.
func TestHistoryAcrossRuns(t *testing.T) {
	t.Parallel()
	store := filepath.Join(t.TempDir(), "history.db")
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "--history", store, "check", "--new-only")
	if code != 1 || !strings.Contains(stdout, "FAIL: 8 new finding(s) at or above high") {
		t.Fatalf("first check --new-only: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = assessRun("--demo", "--log-level", "error", "--history", store, "check", "--new-only")
	if code != 0 || !strings.Contains(stdout, "PASS: no new finding at or above high") {
		t.Errorf("second check --new-only: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The same findings, first seen in the first run.
	code, stdout, _ = assessRun("--demo", "--log-level", "error", "--history", store, "call", "assess_connectors", "--args", `{"limit":1}`)
	if code != 0 || !strings.Contains(stdout, `"first_seen":"`) || strings.Contains(stdout, `"new":true`) {
		t.Errorf("assess_connectors after two runs: %s", stdout)
	}
}

// TestBrokenHistoryStore gives the server a history store it cannot read: it starts, every tool
// but what_changed answers, what_changed says why and which file, and the file is left as it was.
func TestBrokenHistoryStore(t *testing.T) {
	t.Parallel()
	cases := map[string][]byte{
		"not-sqlite.db": []byte("this is a text file, not a history store\n"),
		"truncated.db":  append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xff}, 200)...),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := assessRun("--demo", "--log-level", "warn", "--history", path, "call", "list_cloud_connectors", "--args", `{"limit":1}`)
			if code != 0 || !strings.Contains(stdout, `"connectors":[{`) || !strings.Contains(stderr, "history unavailable") {
				t.Errorf("list_cloud_connectors with a broken store: exit %d\n%s\n%s", code, stdout, stderr)
			}
			code, _, stderr = assessRun("--demo", "--log-level", "error", "--history", path, "call", "what_changed")
			if code != 1 || !strings.Contains(stderr, "history is unavailable: SQLite file "+path) || !strings.Contains(stderr, "left untouched") {
				t.Errorf("what_changed with a broken store: exit %d\n%s", code, stderr)
			}
			code, stdout, _ = assessRun("--demo", "--log-level", "error", "--history", path, "call", "assess_connectors", "--args", `{"limit":1}`)
			if code != 0 || !strings.Contains(stdout, `"history":"history is unavailable: SQLite file `) {
				t.Errorf("assess_connectors with a broken store: exit %d\n%s", code, stdout)
			}
			if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, content) {
				t.Errorf("the store was changed (%v)", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("files beside the store were created: %d entries", len(entries))
			}
		})
	}
}

// TestConcurrentHistoryWriters runs several check processes at once on one SQLite file, as a
// server and cron jobs would: none may see "database is locked", and every one finishes.
func TestConcurrentHistoryWriters(t *testing.T) {
	t.Parallel()
	store := filepath.Join(t.TempDir(), "shared.db")
	var wg sync.WaitGroup
	results := make([]string, 6)
	codes := make([]int, 6)
	for i := range results {
		wg.Go(func() {
			cmd := exec.Command(stdioBin, "--demo", "--log-level", "warn", "--history", store, "check", "--fail-on", "critical")
			cmd.Env = stdioEnv()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			_ = cmd.Run()
			codes[i], results[i] = cmd.ProcessState.ExitCode(), out.String()
		})
	}
	wg.Wait()
	for i, out := range results {
		if codes[i] != 1 || strings.Contains(out, "locked") || strings.Contains(out, "not recorded") || strings.Contains(out, "unavailable") {
			t.Errorf("process %d: exit %d\n%s", i, codes[i], out)
		}
	}
}

// TestSubscriptionOverStdio subscribes with the official Go SDK to the findings of the demo
// server, whose landscape changes one step a read: the server polls (every 50 ms here) and tells
// the client when the findings change.
func TestSubscriptionOverStdio(t *testing.T) {
	t.Parallel()
	updates := make(chan string, 16)
	client := sdk.NewClient(&sdk.Implementation{Name: "subscription-e2e", Version: "0"}, &sdk.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *sdk.ResourceUpdatedNotificationRequest) {
			updates <- req.Params.URI
		},
	})
	cmd := exec.Command(stdioBin, "--demo", "--log-level", "error", "--cache-ttl", "10ms", "--watch-interval", "50ms")
	cmd.Env = stdioEnv()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	session, err := client.Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if caps := session.InitializeResult().Capabilities; caps.Resources == nil || !caps.Resources.Subscribe {
		t.Fatalf("resources capability %+v: subscribe not offered", caps.Resources)
	}
	// Under protocol 2026-07-28 Subscribe holds a subscriptions/listen stream open until
	// Unsubscribe; under earlier versions it returns at once.
	subscribed := make(chan error, 1)
	go func() { subscribed <- session.Subscribe(ctx, &sdk.SubscribeParams{URI: "connectivity://findings"}) }()
	select {
	case uri := <-updates:
		if uri != "connectivity://findings" {
			t.Errorf("update of %s", uri)
		}
	case <-ctx.Done():
		t.Fatal("no notifications/resources/updated within a minute")
	}
	if err := session.Unsubscribe(ctx, &sdk.UnsubscribeParams{URI: "connectivity://findings"}); err != nil {
		t.Error(err)
	}
	t.Logf("protocol %s", session.InitializeResult().ProtocolVersion)
}
