package tools

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The performance contract, without timing: how many requests reach the Connectivity service
// and XSUAA for a given pattern of tool calls, counted by the simulator.

// perfResult is what these tests read of a tools/call response.
type perfResult struct {
	Result struct {
		IsError           bool `json:"isError"`
		StructuredContent struct {
			FetchedAt string `json:"fetched_at"`
			Total     *int   `json:"total"`
		} `json:"structuredContent"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// perfAsk sends one tools/call through the MCP server, as the stdio transport does.
func perfAsk(t *testing.T, srv *server.MCPServer, id int, tool, args string) perfResult {
	t.Helper()
	var res perfResult
	if err := json.Unmarshal(perfHandle(t, srv, perfCall(id, tool, args)), &res); err != nil {
		t.Errorf("%s: %v", tool, err)
		return res
	}
	if res.Error != nil || res.Result.IsError {
		t.Errorf("%s %s: error %+v %+v", tool, args, res.Error, res.Result.Content)
	}
	if res.Result.StructuredContent.FetchedAt == "" {
		t.Errorf("%s: no fetched_at", tool)
	}
	return res
}

var perfQuestions = []struct{ tool, args string }{
	{"list_cloud_connectors", `{}`},
	{"get_security_status", `{"min_risk":"medium_risk"}`},
	{"find_exposed_system", `{"query":"s4h"}`},
	{"find_exposed_system", `{"protocol":"RFCS"}`},
}

// perfAskConcurrently asks n questions at once, cycling through perfQuestions, and returns the
// distinct fetched_at values of the answers.
func perfAskConcurrently(t *testing.T, srv *server.MCPServer, n int) map[string]int {
	t.Helper()
	results := make([]perfResult, n)
	var wg sync.WaitGroup
	for i := range n {
		q := perfQuestions[i%len(perfQuestions)]
		wg.Go(func() { results[i] = perfAsk(t, srv, i, q.tool, q.args) })
	}
	wg.Wait()
	fetched := map[string]int{}
	for _, r := range results {
		fetched[r.Result.StructuredContent.FetchedAt]++
	}
	return fetched
}

func TestConcurrentCallsShareOneRead(t *testing.T) {
	t.Parallel()
	// The latency keeps the first read in flight while most calls arrive; calls arriving after
	// it are answered from the cache. Either way there is exactly one read.
	sim, land := perfLandscape(t, simulator.Options{APILatency: 200 * time.Millisecond}, time.Hour)
	srv := NewServer(Config{Observations: land})

	fetched := perfAskConcurrently(t, srv, 100)
	if n := sim.Counts(); n.APIRequests != 1 || n.TokenRequests != 1 {
		t.Fatalf("100 concurrent tool calls on a cold server: %d API and %d token requests, want 1 and 1", n.APIRequests, n.TokenRequests)
	}
	if len(fetched) != 1 {
		t.Errorf("answers report %d different fetched_at values, want 1: %v", len(fetched), fetched)
	}

	// Warm: the same again costs nothing.
	sim.ResetCounts()
	again := perfAskConcurrently(t, srv, 100)
	if n := sim.Counts(); n.APIRequests != 0 || n.TokenRequests != 0 {
		t.Fatalf("100 concurrent tool calls on a warm server: %d API and %d token requests, want none", n.APIRequests, n.TokenRequests)
	}
	for at := range again {
		if fetched[at] == 0 {
			t.Errorf("warm answers report fetched_at %s, not the first read's %v", at, fetched)
		}
	}
}

func TestRefreshReadsAgainWithTheCachedToken(t *testing.T) {
	t.Parallel()
	sim, land := perfLandscape(t, simulator.Options{}, time.Hour)
	srv := NewServer(Config{Observations: land})
	first := perfAsk(t, srv, 1, "list_cloud_connectors", `{}`)
	sim.ResetCounts()
	for i := range 5 {
		q := perfQuestions[i%len(perfQuestions)]
		var args map[string]any
		if err := json.Unmarshal([]byte(q.args), &args); err != nil {
			t.Fatal(err)
		}
		args["refresh"] = true
		refreshed, _ := json.Marshal(args)
		perfAsk(t, srv, 2+i, q.tool, string(refreshed))
	}
	if n := sim.Counts(); n.APIRequests != 5 || n.TokenRequests != 0 {
		t.Fatalf("5 calls with refresh=true: %d API and %d token requests, want 5 and 0", n.APIRequests, n.TokenRequests)
	}
	if first.Result.StructuredContent.FetchedAt == "" {
		t.Fatal("no fetched_at")
	}
}

func TestCacheDisabledReadsEveryTimeWithTheCachedToken(t *testing.T) {
	t.Parallel()
	sim, land := perfLandscape(t, simulator.Options{}, 0)
	srv := NewServer(Config{Observations: land})
	for i := range 4 {
		perfAsk(t, srv, i, perfQuestions[i].tool, perfQuestions[i].args)
	}
	if n := sim.Counts(); n.APIRequests != 4 || n.TokenRequests != 1 {
		t.Fatalf("4 sequential calls with the cache disabled: %d API and %d token requests, want 4 and 1", n.APIRequests, n.TokenRequests)
	}
}

func TestNoNetworkBeforeTheFirstToolCall(t *testing.T) {
	t.Parallel()
	sim, land := perfLandscape(t, simulator.Options{}, time.Hour)
	srv := NewServer(Config{Observations: land})
	for i, line := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"ping"}`,
	} {
		srv.HandleMessage(context.Background(), json.RawMessage(line))
		if n := sim.Counts(); n.APIRequests != 0 || n.TokenRequests != 0 {
			t.Fatalf("message %d (%.40s…) caused %d API and %d token requests", i, line, n.APIRequests, n.TokenRequests)
		}
	}
	perfAsk(t, srv, 4, "list_cloud_connectors", `{}`)
	if n := sim.Counts(); n.APIRequests != 1 || n.TokenRequests != 1 {
		t.Fatalf("first tool call: %d API and %d token requests, want 1 and 1", n.APIRequests, n.TokenRequests)
	}
}

// TestLargeLandscapeSearch checks find_exposed_system against the index on a landscape where
// masters and shadows share their exposed systems.
func TestLargeLandscapeSearch(t *testing.T) {
	t.Parallel()
	sim, land := perfLandscape(t, simulator.Options{Landscape: simulator.LargeLandscape(200, 50)}, time.Hour)
	srv := NewServer(Config{Observations: land})
	for _, tc := range []struct {
		args  string
		total int
	}{
		// Location 12 has a master and a shadow; location 13 (13 % 7 == 6) a master only.
		{`{"query":"SYS7.loc12.internal"}`, 2},
		{`{"query":"sys7.loc13.internal"}`, 1},
		{`{"query":"System 49 of location 99"}`, 2}, // 99 % 7 == 1: a pair; no location 990

		{`{"query":"no such host"}`, 0},
		{`{}`, 200 * 50},
		{`{"query":"internal","client_id":"400000120"}`, 50},
	} {
		res := perfAsk(t, srv, 1, "find_exposed_system", tc.args)
		if got := res.Result.StructuredContent.Total; got == nil || *got != tc.total {
			t.Errorf("find_exposed_system %s: total %v, want %d", tc.args, perfDeref(got), tc.total)
		}
	}
	if n := sim.Counts(); n.APIRequests != 1 {
		t.Errorf("%d API requests, want 1", n.APIRequests)
	}
}

// TestRepeatedAnswersAreIdentical checks that remembering checked results changes nothing a
// client sees: the same question gives the same text, and a new snapshot a new one.
func TestRepeatedAnswersAreIdentical(t *testing.T) {
	t.Parallel()
	_, land := perfLandscape(t, simulator.Options{}, time.Hour)
	srv := NewServer(Config{Observations: land})
	for _, q := range perfQuestions {
		a := perfAsk(t, srv, 1, q.tool, q.args)
		b := perfAsk(t, srv, 2, q.tool, q.args)
		if len(a.Result.Content) != 1 || len(b.Result.Content) != 1 || a.Result.Content[0].Text != b.Result.Content[0].Text {
			t.Errorf("%s %s: repeated answers differ", q.tool, q.args)
		}
	}
	time.Sleep(1100 * time.Millisecond) // fetched_at has second precision
	a := perfAsk(t, srv, 3, "list_cloud_connectors", `{}`)
	b := perfAsk(t, srv, 4, "list_cloud_connectors", `{"refresh":true}`)
	if a.Result.StructuredContent.FetchedAt == b.Result.StructuredContent.FetchedAt {
		t.Errorf("refresh=true answered from the old snapshot (fetched_at %s)", a.Result.StructuredContent.FetchedAt)
	}
}

func perfDeref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
