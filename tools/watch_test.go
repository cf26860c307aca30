package tools

import (
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestSubscriptions subscribes a client to the findings and the changes of the demo landscape,
// which changes one step a read: every poll then notifies both. Unsubscribed, nothing polls.
func TestSubscriptions(t *testing.T) {
	env := newSimEnvWith(t, simEnvOptions{CacheTTL: time.Millisecond}, func(cfg *Config) { cfg.WatchInterval = 20 * time.Millisecond })
	env.sim.SetLandscapes(simulator.DemoLandscapes()...)
	// resources/subscribe is the RPC of protocol versions up to 2025-11-25 (2026-07-28 replaced it
	// with subscriptions/listen).
	env.client, _ = startInProcessAt(t, NewServer(env.cfg), "2025-11-25")
	var mu sync.Mutex
	updated := map[string]int{}
	env.client.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == mcp.MethodNotificationResourceUpdated {
			mu.Lock()
			updated[n.Params.AdditionalFields["uri"].(string)]++
			mu.Unlock()
		}
	})
	count := func(uri string) int {
		mu.Lock()
		defer mu.Unlock()
		return updated[uri]
	}
	if env.sim.Counts().APIRequests != 0 {
		t.Fatal("something polled before any subscription")
	}
	for _, uri := range []string{findingsURI, changesURI} {
		req := mcp.SubscribeRequest{}
		req.Params.URI = uri
		if err := env.client.Subscribe(t.Context(), req); err != nil {
			t.Fatalf("subscribe %s: %v", uri, err)
		}
	}
	waitUntil(t, "updates of findings and changes", func() bool { return count(findingsURI) >= 2 && count(changesURI) >= 2 })

	for _, uri := range []string{findingsURI, changesURI} {
		req := mcp.UnsubscribeRequest{}
		req.Params.URI = uri
		if err := env.client.Unsubscribe(t.Context(), req); err != nil {
			t.Fatalf("unsubscribe %s: %v", uri, err)
		}
	}
	time.Sleep(100 * time.Millisecond) // a poll under way may finish
	before := env.sim.Counts().APIRequests
	time.Sleep(200 * time.Millisecond) // ten intervals
	if after := env.sim.Counts().APIRequests; after != before {
		t.Errorf("%d API requests after the last unsubscribe: nothing should poll", after-before)
	}
	// The changes document holds what the polls recorded.
	res, err := env.client.ReadResource(t.Context(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: changesURI}})
	if err != nil || len(res.Contents) != 1 {
		t.Fatalf("read %s: %v", changesURI, err)
	}
	if text := res.Contents[0].(mcp.TextResourceContents).Text; !containsAll(text, `"kind":"system_exposed"`, `"kind":"security_changed"`) {
		t.Errorf("changes document: %.600s", text)
	}
}

// waitUntil polls cond for up to 30 s: generous, for a loaded machine.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatelessSubscribeIsNotWatched: over stateless HTTP a resources/subscribe has no stream to
// be notified on, so it starts no poller.
func TestStatelessSubscribeIsNotWatched(t *testing.T) {
	env := newSimEnvWith(t, simEnvOptions{CacheTTL: time.Millisecond}, func(cfg *Config) {
		cfg.WatchInterval, cfg.Stateless = 10*time.Millisecond, true
	})
	env.client, _ = startInProcessAt(t, NewServer(env.cfg), "2025-11-25")
	req := mcp.SubscribeRequest{}
	req.Params.URI = findingsURI
	if err := env.client.Subscribe(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // ten intervals
	if n := env.sim.Counts().APIRequests; n != 0 {
		t.Errorf("%d API requests: a subscription nobody can be told about started a poller", n)
	}
}
