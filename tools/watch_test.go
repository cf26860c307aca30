package tools

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestSubscriptions subscribes a client to the findings and the changes of the demo landscape,
// which changes one step a read: every poll then notifies both. Unsubscribed, nothing polls.
func TestSubscriptions(t *testing.T) {
	t.Parallel()
	events := make(chan string, 10)
	env := newSimEnvWith(t, simEnvOptions{CacheTTL: time.Millisecond}, func(cfg *Config) {
		cfg.WatchInterval, cfg.watchEvents = 20*time.Millisecond, events
	})
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
	if n := len(events); env.sim.Counts().APIRequests != 0 || n != 0 {
		t.Fatalf("something polled before any subscription (%d poller events)", n)
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
	// The poller started once and stops with the last subscription: nothing polls any more.
	if e := waitEvent(t, events); e != "start" {
		t.Fatalf("poller event %q, want start", e)
	}
	if e := waitEvent(t, events); e != "stop" {
		t.Fatalf("poller event %q, want stop", e)
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

// waitEvent returns the next poller event, waiting up to 30 s (generous, for a loaded machine).
func waitEvent(t *testing.T, events <-chan string) string {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for the poller")
	}
	return ""
}

// waitUntil polls cond for up to two minutes: generous, for a loaded machine.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
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
	t.Parallel()
	events := make(chan string, 10)
	env := newSimEnvWith(t, simEnvOptions{CacheTTL: time.Millisecond}, func(cfg *Config) {
		cfg.WatchInterval, cfg.Stateless, cfg.watchEvents = 10*time.Millisecond, true, events
	})
	env.client, _ = startInProcessAt(t, NewServer(env.cfg), "2025-11-25")
	req := mcp.SubscribeRequest{}
	req.Params.URI = findingsURI
	if err := env.client.Subscribe(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	// The subscribe hook has run when the answer arrives, and a poller starts in it.
	if n := len(events); n != 0 || env.sim.Counts().APIRequests != 0 {
		t.Errorf("a subscription nobody can be told about started a poller (%d events)", n)
	}
}

// TestSubscriptionSeesEveryChange: subscribe, then change the landscape at once, twenty times in
// a row: twenty notifications. The baseline of a subscription is what the subscriber could have
// seen when it subscribed, not the first poll after it.
func TestSubscriptionSeesEveryChange(t *testing.T) {
	t.Parallel()
	events := make(chan string, 100)
	env := newSimEnvWith(t, simEnvOptions{CacheTTL: time.Millisecond}, func(cfg *Config) {
		cfg.WatchInterval, cfg.watchEvents = 20*time.Millisecond, events
	})
	env.client, _ = startInProcessAt(t, NewServer(env.cfg), "2025-11-25")
	var mu sync.Mutex
	notified := 0
	env.client.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == mcp.MethodNotificationResourceUpdated && n.Params.AdditionalFields["uri"] == findingsURI {
			mu.Lock()
			notified++
			mu.Unlock()
		}
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return notified
	}
	// What the subscriber has seen: the findings document.
	if _, err := env.client.ReadResource(t.Context(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: findingsURI}}); err != nil {
		t.Fatal(err)
	}
	landscapes := [][]simulator.Agent{simulator.CleanLandscape(), simulator.SampleLandscape()}
	const rounds = 20
	for i := range rounds {
		if err := env.client.Subscribe(t.Context(), mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: findingsURI}}); err != nil {
			t.Fatal(err)
		}
		env.sim.SetLandscape(landscapes[i%2]) // at once: before the poller's first read
		waitUntil(t, "the notification of the change", func() bool { return count() == i+1 })
		if err := env.client.Unsubscribe(t.Context(), mcp.UnsubscribeRequest{Params: mcp.UnsubscribeParams{URI: findingsURI}}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"start", "stop"} {
			if e := waitEvent(t, events); e != want {
				t.Fatalf("round %d: poller event %q, want %q", i, e, want)
			}
		}
	}
	if n := count(); n != rounds {
		t.Errorf("%d notifications for %d changes", n, rounds)
	}
}

// TestSubscribingToAnUnwatchedResourceIsRefused: only the findings and the changes are ever
// notified; a subscription to anything else is refused with a sentence naming those two, over
// resources/subscribe (up to 2025-11-25) and subscriptions/listen (2026-07-28) alike.
func TestSubscribingToAnUnwatchedResourceIsRefused(t *testing.T) {
	t.Parallel()
	events := make(chan string, 10)
	env := newSimEnvWith(t, simEnvOptions{}, func(cfg *Config) { cfg.watchEvents = events })
	env.client, _ = startInProcessAt(t, NewServer(env.cfg), "2025-11-25")
	for _, uri := range []string{connectorsURI, "connectivity://connectors/123", "connectivity://nothing"} {
		req := mcp.SubscribeRequest{}
		req.Params.URI = uri
		err := env.client.Subscribe(t.Context(), req)
		if err == nil || !containsAll(err.Error(), uri, "cannot be subscribed to", findingsURI, changesURI) {
			t.Errorf("subscribe %s: %v, want a refusal naming %s and %s", uri, err, findingsURI, changesURI)
		}
	}
	if n := len(events); n != 0 || env.sim.Counts().APIRequests != 0 {
		t.Errorf("a refused subscription started a poller (%d events, %d API requests)", n, env.sim.Counts().APIRequests)
	}

	for _, tc := range []struct {
		name, message string
		refused       bool
	}{
		{"subscribe to the findings", `{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"connectivity://findings"}}`, false},
		{"listen to the findings and the changes", `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"resourceSubscriptions":["connectivity://findings","connectivity://changes"]}}}`, false},
		{"listen to the connectors", `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"resourceSubscriptions":["connectivity://findings","connectivity://connectors"]}}}`, true},
		{"listen to no resource", `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true}}}`, false},
		{"a tool call naming resources/subscribe", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find_exposed_system","arguments":{"query":"resources/subscribe"}}}`, false},
		{"subscribe without a URI (mcp-go's own answer)", `{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{}}`, false},
	} {
		if err := refuseUnwatched(t.Context(), 1, json.RawMessage(tc.message)); (err != nil) != tc.refused {
			t.Errorf("%s: %v, want refused %v", tc.name, err, tc.refused)
		}
	}
}
