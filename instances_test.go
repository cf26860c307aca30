package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// testPostgres creates a schema of its own in the test PostgreSQL server and returns a URL whose
// search_path points at it. Without a server the test is skipped, except in CI.
func testPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("HISTORY_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required in CI: %v", base, err)
		}
		t.Skipf("no PostgreSQL at %s: %v", base, err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	schema := "instances_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// roundRobin is a TCP proxy on loopback that hands each new connection to the next backend.
type roundRobin struct {
	ln       net.Listener
	backends []string
	next     atomic.Int64
	served   []atomic.Int64
}

func startRoundRobin(t *testing.T, backends ...string) *roundRobin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &roundRobin{ln: ln, backends: backends, served: make([]atomic.Int64, len(backends))}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(p.next.Add(1)-1) % len(backends)
			p.served[i].Add(1)
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", backends[i])
				if err != nil {
					return
				}
				defer b.Close()
				go io.Copy(b, c)
				io.Copy(c, b)
			}()
		}
	}()
	return p
}

// TestTwoInstancesOnePostgres runs two server processes behind a round-robin proxy, sharing one
// PostgreSQL history: calls alternate between them, what_changed agrees on both, and while
// clients of both are subscribed only one instance polls; its findings reach both.
func TestTwoInstancesOnePostgres(t *testing.T) {
	t.Parallel()
	pg := testPostgres(t)
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetLandscapes(simulator.DemoLandscapes()...)
	const token = "two-instances-static-token-7c2e-4b19"
	env := stdioEnv("VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials), "MCP_AUTH_TOKEN="+token)
	args := []string{"--http", "127.0.0.1:0", "--history", pg, "--cache-ttl", "10ms", "--watch-interval", "200ms", "--log-level", "info"}
	a, b := startHTTP(t, env, args...), startHTTP(t, env, args...)
	proxy := startRoundRobin(t, strings.TrimPrefix(a.url, "http://"), strings.TrimPrefix(b.url, "http://"))

	// A new connection per request: the proxy alternates per connection.
	httpClient := &http.Client{Transport: bearerNoKeepAlive(token)}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	connect := func() *mcp.ClientSession {
		client := mcp.NewClient(&mcp.Implementation{Name: "instances-test", Version: "0"}, nil)
		s, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + proxy.ln.Addr().String() + "/mcp", HTTPClient: httpClient, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	session := connect()
	call := func(name string, args map[string]any) string {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %+v", name, err, res)
		}
		return res.Content[0].(*mcp.TextContent).Text
	}
	// Reads through every step of the demo landscape (five), each recorded by whichever instance
	// served it; after the last step it no longer changes.
	for range 6 {
		call("list_cloud_connectors", map[string]any{"refresh": true, "limit": 1})
	}
	changes := func() []string {
		var out struct {
			Changes []struct {
				Kind     string `json:"kind"`
				ClientID string `json:"client_id"`
				Field    string `json:"field"`
			} `json:"changes"`
		}
		json.Unmarshal([]byte(call("what_changed", map[string]any{"since": "1h"})), &out)
		var keys []string
		for _, c := range out.Changes {
			keys = append(keys, c.Kind+" "+c.ClientID+" "+c.Field)
		}
		return keys
	}
	first, second := changes(), changes() // one from each instance
	if len(first) == 0 || strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Errorf("what_changed differs between the instances:\n%v\n%v", first, second)
	}
	if proxy.served[0].Load() == 0 || proxy.served[1].Load() == 0 {
		t.Errorf("calls did not alternate: %d and %d connections", proxy.served[0].Load(), proxy.served[1].Load())
	}

	// Subscribers on both instances; exactly one instance polls; updates reach both. The landscape
	// changes again, one step a read.
	sim.SetLandscapes(simulator.DemoLandscapes()...)
	var mu sync.Mutex
	got := map[int]int{}
	for i := range 2 {
		client := mcp.NewClient(&mcp.Implementation{Name: "subscriber", Version: "0"}, &mcp.ClientOptions{
			ResourceUpdatedHandler: func(context.Context, *mcp.ResourceUpdatedNotificationRequest) {
				mu.Lock()
				got[i]++
				mu.Unlock()
			},
		})
		backend := []string{a.url, b.url}[i]
		s, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: backend + "/mcp", HTTPClient: &http.Client{Transport: bearer(token)}, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		go s.Subscribe(ctx, &mcp.SubscribeParams{URI: "connectivity://findings"})
	}
	const polls = "this instance polls for the subscribed resources"
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		both := got[0] > 0 && got[1] > 0
		mu.Unlock()
		if both {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("updates seen by the subscribers of each instance: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pa, pb := strings.Count(a.stderr.String(), polls), strings.Count(b.stderr.String(), polls); pa+pb != 1 {
		t.Errorf("instances that polled: a %d, b %d; want exactly one", pa, pb)
	}
}

// bearerNoKeepAlive sends the token and opens a new connection for every request.
func bearerNoKeepAlive(token string) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return tr.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
