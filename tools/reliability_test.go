package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The tests in this file drive the three tools against the simulator with its fault switches,
// through the real client, cache and adapter: what a user sees when SAP misbehaves.

// relShort shortens a result text for a failure message.
func relShort(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// relSecret is the client secret of every simulator here, so any output can be searched for it.
const relSecret = "rel-canary-secret-7c1d$9e_2f=a"

// relEnv is a simulator and the tools configured against it.
type relEnv struct {
	sim    *simulator.Server
	client *connectivity.Client
	cfg    Config
}

type relSetup struct {
	sim         simulator.Options
	client      connectivity.Options
	ttl         time.Duration
	callTimeout time.Duration
	untrusted   bool // do not trust the simulator's CA
}

func relStart(t *testing.T, s relSetup) *relEnv {
	t.Helper()
	if s.sim.ClientSecret == "" {
		s.sim.ClientSecret = relSecret
	}
	sim, err := simulator.New(s.sim)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	kind := simulator.SecretCredentials
	parsed := binding.Parse(sim.ServiceKeyJSON(kind), "test service key")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil || len(bindings) != 1 {
		t.Fatalf("binding.Parse: %v", err)
	}
	if !s.untrusted {
		s.client.RootCAs = sim.RootCAs()
	}
	c, err := connectivity.NewClient(bindings[0], s.client)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if s.callTimeout == 0 {
		s.callTimeout = 3 * time.Second
	}
	obs := observations(t, []*connectivity.Client{c}, nil, observe.Options{CacheTTL: s.ttl})
	return &relEnv{sim: sim, client: c, cfg: Config{Observations: obs, History: memoryHistory(t, obs), CallTimeout: s.callTimeout}}
}

// call runs one tool call as the MCP server would and returns the result and its text.
func (e *relEnv) call(ctx context.Context, t *testing.T, name string, args map[string]any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, text, err := relCall(ctx, e.cfg, name, args)
	if err != nil {
		t.Fatal(err)
	}
	return res, text
}

// relCall is call for any goroutine: a broken answer is an error.
func relCall(ctx context.Context, cfg Config, name string, args map[string]any) (*mcp.CallToolResult, string, error) {
	tool, ok := Lookup(cfg, name)
	if !ok {
		return nil, "", fmt.Errorf("no tool %s", name)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := tool.Handler(ctx, req)
	if err != nil || res == nil {
		return nil, "", fmt.Errorf("%s: handler returned (%v, %v); want a result", name, res, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if text.Len() == 0 {
		return nil, "", fmt.Errorf("%s: result without text: %#v", name, res)
	}
	return res, text.String(), nil
}

// relCheckClean fails if text shows the client secret, a token the simulator issued, or the
// adapter's internal error.
func relCheckClean(t *testing.T, sim *simulator.Server, text string) {
	t.Helper()
	if strings.Contains(text, relSecret) {
		t.Errorf("the result shows the client secret: %s", text)
	}
	for _, tok := range sim.IssuedTokens() {
		if strings.Contains(text, tok) {
			t.Errorf("the result shows an access token: %s", text)
		}
	}
	if strings.Contains(text, "internal error") {
		t.Errorf("internal error (a panic or a result off its schema): %s", text)
	}
}

// relRevoke makes the simulator refuse the token in use, so that the next call needs a new one.
func relRevoke(e *relEnv) { e.sim.RevokeTokens() }

// TestFaultScenarios runs each fault against every tool: the call ends within its deadline with
// an isError result saying what happened (or succeeds when the fault is transient), and once the
// fault is gone the next call succeeds.
func TestFaultScenarios(t *testing.T) {
	// Not parallel with the others: its calls have short deadlines, the assertion.
	const timeout = 5 * time.Second
	// slack covers a loaded machine: a generous "does not hang" bound, not a duration to meet.
	const slack = 30 * time.Second
	tests := []struct {
		name   string
		setup  relSetup
		faults []simulator.Fault
		before func(e *relEnv) // after a first successful call, before the faulty one
		// want are substrings of the failure's sentence; empty means the read must succeed. After a
		// first good read, a failed one answers from it, marked stale with the sentence.
		want []string
		// deadline says the fault lasts until the call's short deadline ends, which the answer
		// must say; every other scenario gets a generous deadline.
		deadline bool
		// check looks at the simulator's counts for the one faulty call of the first tool.
		check func(t *testing.T, n simulator.Counts, elapsed time.Duration)
	}{
		{
			name:   "API 503 twice, then an answer",
			faults: []simulator.Fault{{Status: 503, Times: 2}},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.APIRequests != 3 {
					t.Errorf("%d API requests, want 3 (two retries)", n.APIRequests)
				}
			},
		},
		{
			name:     "API 503 until the deadline",
			deadline: true,
			faults:   []simulator.Fault{{Status: 503}},
			want:     []string{"the Connectivity service is unavailable (HTTP 503 Service Unavailable", "attempts", "Try again in a few minutes"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.APIRequests < 2 {
					t.Errorf("%d API requests, want retries", n.APIRequests)
				}
			},
		},
		{
			name:     "API 502 HTML page until the deadline",
			deadline: true,
			faults:   []simulator.Fault{{Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}},
			want:     []string{"HTTP 502 Bad Gateway"},
		},
		{
			name:   "API 429 with Retry-After 1, once",
			faults: []simulator.Fault{{Status: 429, RetryAfter: "1", Times: 1}},
			check: func(t *testing.T, n simulator.Counts, elapsed time.Duration) {
				if n.APIRequests != 2 {
					t.Errorf("%d API requests, want 2", n.APIRequests)
				}
				if elapsed < 900*time.Millisecond {
					t.Errorf("retried after %v, before the Retry-After second", elapsed)
				}
			},
		},
		{
			name:   "API 429 asking for more time than the deadline leaves",
			faults: []simulator.Fault{{Status: 429, RetryAfter: "60"}},
			want:   []string{"rate-limiting requests (HTTP 429 Too Many Requests", "asks to wait 1m0s"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.APIRequests != 1 {
					t.Errorf("%d API requests, want 1: the next attempt could not be within the deadline", n.APIRequests)
				}
			},
		},
		{
			name:     "hung API",
			deadline: true,
			faults:   []simulator.Fault{{Hang: true}},
			want:     []string{"did not answer within 5s (timed out)", "Connectivity service"},
		},
		{
			name:     "slow API",
			deadline: true,
			faults:   []simulator.Fault{{Delay: time.Minute}},
			want:     []string{"did not answer within 5s (timed out)"},
		},
		{
			name:     "hung token endpoint",
			deadline: true,
			before:   relRevoke,
			faults:   []simulator.Fault{{Target: simulator.TargetToken, Hang: true}},
			want:     []string{"did not answer within 5s (timed out)", "XSUAA"},
		},
		{
			name:     "slow token endpoint",
			deadline: true,
			before:   relRevoke,
			faults:   []simulator.Fault{{Target: simulator.TargetToken, Delay: time.Minute}},
			want:     []string{"did not answer within 5s (timed out)", "XSUAA"},
		},
		{
			name:     "API request timeout shorter than the call",
			deadline: true,
			setup:    relSetup{client: connectivity.Options{RequestTimeout: 500 * time.Millisecond}},
			faults:   []simulator.Fault{{Hang: true}},
			want:     []string{"the Connectivity service did not answer in time (timed out)"},
		},
		{
			name:   "truncated body",
			faults: []simulator.Fault{{Truncate: true}},
			want:   []string{"Connectivity service", "unexpected EOF"},
		},
		{
			name:   "truncated body once",
			faults: []simulator.Fault{{Truncate: true, Times: 1}},
		},
		{
			name:   "HTTP/2 stream reset mid-body once (HTTPS)",
			setup:  relSetup{sim: simulator.Options{TLS: true}},
			faults: []simulator.Fault{{Truncate: true, Times: 1}},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.APIRequests != 2 {
					t.Errorf("%d API requests, want 2 (one retry)", n.APIRequests)
				}
			},
		},
		{
			name:   "not JSON",
			faults: []simulator.Fault{{Body: "Service temporarily down, please retry"}},
			want:   []string{"not the expected list of Cloud Connectors", `expected a JSON array, got "Service temporarily down`},
		},
		{
			name:   "HTML error page with status 200",
			faults: []simulator.Fault{{Body: "<!DOCTYPE html><html><head><title>Login</title></head></html>"}},
			want:   []string{"not the expected list of Cloud Connectors", "HTML", "proxy or gateway error page"},
		},
		{
			name:   "JSON object instead of an array",
			faults: []simulator.Fault{{Body: `{"connectors":[]}`}},
			want:   []string{"not the expected list of Cloud Connectors", "got a JSON object"},
		},
		{
			name:   "array of strings",
			faults: []simulator.Fault{{Body: `["a","b"]`}},
			want:   nil, // decoded, with a problem recorded on each element
		},
		{
			name:   "body over the size cap",
			setup:  relSetup{client: connectivity.Options{MaxBodyBytes: 1 << 20}},
			faults: []simulator.Fault{{OversizeBytes: 3 << 20}},
			want:   []string{"exceeds 1 MiB", "larger than this server accepts"},
		},
		{
			name:   "token endpoint 401",
			before: relRevoke,
			faults: []simulator.Fault{{Target: simulator.TargetToken, Status: 401}},
			want:   []string{"authentication with XSUAA failed: invalid_client (Bad credentials)", "Check the binding's clientid and clientsecret"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.TokenRequests != 1 || n.APIRequests != 1 {
					t.Errorf("counts = %+v, want the refused API request and exactly one token request", n)
				}
			},
		},
		{
			name:   "token endpoint 400",
			before: relRevoke,
			faults: []simulator.Fault{{Target: simulator.TargetToken, Status: 400, Body: `{"error":"invalid_request","error_description":"Missing grant type"}`}},
			want:   []string{"authentication with XSUAA failed: invalid_request (Missing grant type)", "Check the binding's clientid"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.TokenRequests != 1 {
					t.Errorf("%d token requests, want exactly 1", n.TokenRequests)
				}
			},
		},
		{
			name:   "wrong secret",
			before: func(e *relEnv) { e.sim.RotateSecret("someone-else-s-secret"); e.sim.RevokeTokens() },
			want:   []string{"authentication with XSUAA failed: invalid_client (Bad credentials)"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.TokenRequests != 1 {
					t.Errorf("%d token requests, want exactly 1 per call", n.TokenRequests)
				}
			},
		},
		{
			name:   "token endpoint 503 twice, then a token",
			before: relRevoke,
			faults: []simulator.Fault{{Target: simulator.TargetToken, Status: 503, Times: 2}},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.TokenRequests != 3 {
					t.Errorf("%d token requests, want 3 (two retries)", n.TokenRequests)
				}
			},
		},
		{
			name:     "token endpoint 503 until the deadline",
			deadline: true,
			before:   relRevoke,
			faults:   []simulator.Fault{{Target: simulator.TargetToken, Status: 503}},
			want:     []string{"XSUAA", "HTTP 503 Service Unavailable", "Try again"},
		},
		{
			name:   "token endpoint answers HTML",
			before: relRevoke,
			faults: []simulator.Fault{{Target: simulator.TargetToken, Body: "<html>maintenance</html>"}},
			want:   []string{"XSUAA"},
		},
		{
			name:   "token endpoint truncated",
			before: relRevoke,
			faults: []simulator.Fault{{Target: simulator.TargetToken, Truncate: true}},
			want:   []string{"XSUAA"},
		},
		{
			name:   "token endpoint oversize",
			before: relRevoke,
			faults: []simulator.Fault{{Target: simulator.TargetToken, OversizeBytes: 3 << 20}},
			want:   []string{"XSUAA"},
		},
		{
			name:   "token revoked mid-session",
			before: relRevoke,
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.TokenRequests != 1 || n.APIRequests != 2 {
					t.Errorf("counts = %+v, want one refused API request, one new token, one API request", n)
				}
			},
		},
		{
			name:   "API refuses every token",
			faults: []simulator.Fault{{Status: 401}},
			want:   []string{"rejected the access token even after a new one was fetched (HTTP 401 Unauthorized)"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.TokenRequests != 1 || n.APIRequests != 2 {
					t.Errorf("counts = %+v, want exactly one refresh", n)
				}
			},
		},
		{
			name:   "API 403",
			faults: []simulator.Fault{{Status: 403}},
			want:   []string{"denied access (HTTP 403 Forbidden)", "plan api_access"},
			check: func(t *testing.T, n simulator.Counts, _ time.Duration) {
				if n.APIRequests != 1 {
					t.Errorf("%d API requests, want 1: a 403 is not retried", n.APIRequests)
				}
			},
		},
	}
	// The scenarios wait on deadlines, not on the CPU: their faulty calls all run at once, and
	// each scenario's outcome is then checked in its own subtest. The first tool asks for a read
	// (refresh) and meets the fault; the others answer at once from what it left: the last good
	// read, stale, with the same sentence (the subaccount backs off).
	type answer struct {
		tool, text string
		isError    bool
		elapsed    time.Duration
		err        error
	}
	type run struct {
		env     *relEnv
		timeout time.Duration
		answers []answer         // the first tool's first, alone, then the others at once
		counts  simulator.Counts // of the first tool's call
	}
	runs := make([]*run, len(tests))
	for i, tc := range tests {
		r := &run{timeout: timeout}
		if !tc.deadline {
			// The fault shows at once (or the call must succeed): a loaded machine must not turn
			// it into a timeout.
			r.timeout = 30 * time.Second
		}
		tc.setup.callTimeout = r.timeout
		if tc.setup.ttl == 0 {
			tc.setup.ttl = time.Hour // the faulty read is asked for (refresh); the others answer from it
		}
		r.env = relStart(t, tc.setup)
		// A first call warms the token cache, as in a running session (with a generous deadline:
		// a loaded machine).
		warm := r.env.cfg
		warm.CallTimeout = 30 * time.Second
		if res, text, err := relCall(context.Background(), warm, Names()[0], nil); err != nil || res.IsError {
			t.Fatalf("%s: healthy call failed: %v %s", tc.name, err, relShort(text))
		}
		r.env.cfg.History.Flush(t.Context()) // the first read recorded: the faulty calls share no CPU with it
		if tc.before != nil {
			tc.before(r.env)
		}
		for _, f := range tc.faults {
			r.env.sim.InjectFault(f)
		}
		runs[i] = r
	}
	names := Names()
	ask := func(r *run, i int) {
		start := time.Now()
		var args map[string]any
		if i == 0 {
			args = map[string]any{"refresh": true}
		}
		res, text, err := relCall(context.Background(), r.env.cfg, names[i], args)
		r.answers[i] = answer{tool: names[i], text: text, elapsed: time.Since(start), err: err}
		if res != nil {
			r.answers[i].isError = res.IsError
		}
	}
	// First every scenario's faulty read, then every other answer: the reads' deadlines do not
	// compete for the CPU with the shaping of 125 answers.
	var wg sync.WaitGroup
	for _, r := range runs {
		r.answers = make([]answer, len(names))
		wg.Go(func() {
			r.env.sim.ResetCounts()
			ask(r, 0)
			r.counts = r.env.sim.Counts()
		})
	}
	wg.Wait()
	for _, r := range runs {
		for i := 1; i < len(names); i++ {
			wg.Go(func() { ask(r, i) })
		}
	}
	wg.Wait()

	for i, tc := range tests {
		r := runs[i]
		t.Run(tc.name, func(t *testing.T) {
			t.Logf("%s answered in %v: %s", r.answers[0].tool, r.answers[0].elapsed.Round(time.Millisecond), relShort(r.answers[0].text))
			for _, a := range r.answers {
				if a.err != nil {
					t.Errorf("%s: %v", a.tool, a.err)
					continue
				}
				relCheckClean(t, r.env.sim, a.text)
				if a.elapsed > r.timeout+slack {
					t.Errorf("%s took %v, want an answer by the %v deadline", a.tool, a.elapsed, r.timeout)
				}
				if a.tool == "list_subaccounts" || a.tool == "what_changed" {
					// They report a failed read as data (last_error, errors), answering from what
					// they know.
					if a.isError {
						t.Errorf("%s: isError %q", a.tool, relShort(a.text))
					}
					continue
				}
				if len(tc.want) == 0 && a.isError {
					t.Errorf("%s: isError %q, want success", a.tool, relShort(a.text))
				}
				if len(tc.want) > 0 {
					if a.isError || !strings.Contains(a.text, `"age_seconds":`) {
						t.Errorf("%s: %s, want the last good read marked stale", a.tool, relShort(a.text))
					}
					for _, w := range tc.want {
						if !strings.Contains(strings.ReplaceAll(a.text, `\"`, `"`), w) { // the sentence is in JSON
							t.Errorf("%s: error %q does not contain %q", a.tool, relShort(a.text), w)
						}
					}
				}
			}
			if tc.check != nil {
				tc.check(t, r.counts, r.answers[0].elapsed)
			}
			// The fault gone, the next call works (with a generous deadline: a loaded machine).
			r.env.sim.ClearFaults()
			if tc.before != nil {
				r.env.sim.RotateSecret(relSecret)
			}
			healthy := r.env.cfg
			healthy.CallTimeout = 30 * time.Second
			for _, name := range Names() {
				res, text, err := relCall(context.Background(), healthy, name, map[string]any{"refresh": true})
				if err != nil || res.IsError {
					t.Errorf("%s after the fault: %v %s", name, err, relShort(text))
				}
			}
		})
	}
}

// TestUntrustedTLSIsRefused: verification is always on. A server whose CA is not trusted is
// refused with a clear error, and no request reaches it by another way.
func TestUntrustedTLSIsRefused(t *testing.T) {
	t.Parallel()
	e := relStart(t, relSetup{sim: simulator.Options{TLS: true}, untrusted: true})
	res, text := e.call(context.Background(), t, "list_cloud_connectors", nil)
	if !res.IsError {
		t.Fatalf("success against an untrusted server: %.200s", text)
	}
	t.Log(text)
	for _, w := range []string{"certificate", "not trusted", "XSUAA"} {
		if !strings.Contains(text, w) {
			t.Errorf("error %q does not contain %q", text, w)
		}
	}
	if n := e.sim.Counts(); n != (simulator.Counts{}) {
		t.Errorf("counts = %+v: a request got through the untrusted TLS server", n)
	}
}

// TestArgumentsCannotChooseTheHost: the tools call only the binding's URLs, whatever the
// arguments say. A second simulator, named in every argument, must see no request at all.
func TestArgumentsCannotChooseTheHost(t *testing.T) {
	t.Parallel()
	e := relStart(t, relSetup{ttl: time.Minute})
	decoy, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer decoy.Close()
	u := decoy.URL()
	host := strings.TrimPrefix(u, "http://")
	for _, name := range Names() {
		tool, _ := Lookup(e.cfg, name)
		props := map[string]bool{}
		var schema struct {
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(tool.Tool.RawInputSchema, &schema); err != nil {
			t.Fatal(err)
		}
		for p := range schema.Properties {
			props[p] = true
		}
		// Every string argument set to the decoy's URL or host.
		for _, value := range []string{u, host, u + "/api/v1/cloudconnectors", "@" + host, "http://" + host + "#"} {
			args := map[string]any{}
			for p := range props {
				switch p {
				case "limit", "refresh", "protocol", "type", "min_risk", "subaccount": // subaccount: an unknown name is refused before any request
				default:
					args[p] = value
				}
			}
			_, text := e.call(context.Background(), t, name, args)
			relCheckClean(t, e.sim, text)
		}
		// Arguments a model might invent to redirect the call are refused.
		for _, key := range []string{"url", "host", "base_url", "service_url", "token_url", "binding", "endpoint"} {
			res, text := e.call(context.Background(), t, name, map[string]any{key: u})
			if !res.IsError || !strings.Contains(text, "unknown argument") {
				t.Errorf("%s with %s: %q, want an unknown argument error", name, key, text)
			}
		}
	}
	if n := decoy.Counts(); n != (simulator.Counts{}) {
		t.Errorf("the decoy got requests: %+v", n)
	}
	if n := e.sim.Counts(); n.APIRequests == 0 {
		t.Error("the bound simulator got no request")
	}
}

// TestConcurrentCallsWithFaults makes 200 calls of all three tools while the faults change
// under them: every call is answered (success or a readable isError), none deadlocks or races
// (run with -race), and once the faults stop every tool works.
func TestConcurrentCallsWithFaults(t *testing.T) {
	// Not parallel with the others: its calls have short deadlines, the assertion.
	e := relStart(t, relSetup{ttl: 30 * time.Millisecond, callTimeout: 1500 * time.Millisecond,
		client: connectivity.Options{MaxBodyBytes: 1 << 20}})
	// Fault phases alternate with healthy ones (nil).
	faults := [][]simulator.Fault{
		{{Status: 503}},
		nil,
		{{Status: 429, RetryAfter: "1", Times: 3}},
		nil,
		{{Delay: 200 * time.Millisecond}},
		nil,
		{{Target: simulator.TargetToken, Hang: true, Times: 2}},
		nil,
		{{Target: simulator.TargetToken, Status: 401, Times: 3}},
		nil,
		{{Truncate: true, Times: 5}},
		nil,
		{{Body: "<html>bad gateway</html>", Status: 502}},
		nil,
		{{Hang: true, Times: 1}},
		nil,
		{{OversizeBytes: 2 << 20, Times: 2}},
		nil,
		{{Body: `{"not":"an array"}`, Times: 4}},
		nil,
		{{Target: simulator.TargetToken, Status: 503, Times: 2}, {Status: 500, Times: 1}},
		nil,
	}
	stop := make(chan struct{})
	toggled := make(chan struct{})
	var switches atomic.Int64
	go func() {
		defer close(toggled)
		for i := 0; ; i++ {
			e.sim.ClearFaults()
			for _, f := range faults[i%len(faults)] {
				e.sim.InjectFault(f)
			}
			if i%7 == 3 {
				e.sim.RevokeTokens() // the next call needs a new token, so token faults bite
			}
			switches.Add(1)
			select {
			case <-stop:
				e.sim.ClearFaults()
				return
			case <-time.After(40 * time.Millisecond):
			}
		}
	}()

	const calls = 200
	type outcome struct {
		tool, text string
		isError    bool
	}
	results := make(chan outcome, calls)
	argsFor := []map[string]any{
		{"limit": 3},
		{"min_risk": "medium_risk", "refresh": true},
		{"protocol": "https"},
		{"client_id": "284610375"},
		{"refresh": "true", "limit": "7"},
	}
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			time.Sleep(time.Duration(i%100) * 20 * time.Millisecond) // spread over the fault changes
			names := Names()
			name := names[i%len(names)]
			args := map[string]any{}
			for k, v := range argsFor[i%len(argsFor)] {
				args[k] = v
			}
			if name != "find_exposed_system" {
				delete(args, "protocol")
			}
			if name != "get_security_status" {
				delete(args, "min_risk")
			}
			res, text := e.call(context.Background(), t, name, args)
			results <- outcome{name, text, res.IsError}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("calls still running after 60 s (deadlock?):\n%s", buf[:n])
	}
	close(stop)
	<-toggled
	close(results)

	var ok, failed int
	kinds := map[string]int{}
	for r := range results {
		relCheckClean(t, e.sim, r.text)
		if !r.isError {
			ok++
			continue
		}
		failed++
		kind := r.text
		if i := strings.IndexAny(kind, "(:."); i > 0 {
			kind = kind[:i]
		}
		kinds[kind]++
		if kinds[kind] == 1 {
			t.Logf("first %q: %s", kind, relShort(r.text))
		}
	}
	if ok+failed != calls {
		t.Fatalf("%d answers for %d calls", ok+failed, calls)
	}
	t.Logf("%d calls: %d answered, %d isError, %d fault switches; errors by kind: %v", calls, ok, failed, switches.Load(), kinds)

	// Faults over, every tool works again (with a generous deadline: a loaded machine, and a
	// read of the last fault phase may still run; what matters is that it ends).
	after := e.cfg
	after.CallTimeout = 30 * time.Second
	for _, name := range Names() {
		if res, text, err := relCall(context.Background(), after, name, map[string]any{"refresh": true}); err != nil || res.IsError {
			t.Errorf("%s after the faults: %v %s", name, err, relShort(text))
		}
	}
}
