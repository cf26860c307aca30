package tools

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/toolsnaps"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestNewServerInitialize(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	_, res := startInProcess(t, NewServer(env.cfg))
	if res.ServerInfo.Name != "btp-connectivity-mcp" || res.ServerInfo.Version != "1.2.3-test" {
		t.Errorf("server info = %+v, want btp-connectivity-mcp 1.2.3-test", res.ServerInfo)
	}
	if res.Capabilities.Tools == nil {
		t.Errorf("capabilities = %+v, want tools", res.Capabilities)
	}
	for _, name := range Names() {
		if !strings.Contains(res.Instructions, name) {
			t.Errorf("instructions do not mention %s:\n%s", name, res.Instructions)
		}
	}
	if _, res := startInProcess(t, NewServer(Config{})); res.ServerInfo.Version != "dev" {
		t.Errorf("version without Config.Version = %q, want dev", res.ServerInfo.Version)
	}
}

func TestNewServerListsEveryTool(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	list, err := env.client.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var listed, registered []string
	for _, tool := range list.Tools {
		listed = append(listed, tool.Name)
		if err := toolsnaps.CheckAnnotations(tool); err != nil {
			t.Error(err)
		}
		a := tool.Annotations
		if !*a.ReadOnlyHint || *a.DestructiveHint || !*a.IdempotentHint || !*a.OpenWorldHint {
			t.Errorf("%s: annotations %+v, want read-only, not destructive, idempotent, open-world", tool.Name, a)
		}
		if tool.Title == "" || tool.InputSchema.Type != "object" || tool.OutputSchema.Type != "object" {
			t.Errorf("%s: title %q, input schema %q, output schema %q; want a title and object schemas",
				tool.Name, tool.Title, tool.InputSchema.Type, tool.OutputSchema.Type)
		}
	}
	for _, tool := range All(Config{}) {
		registered = append(registered, tool.Tool.Name)
	}
	// mcp-go lists tools sorted by name, as Names returns them.
	sorted := slices.Sorted(slices.Values(registered))
	if !slices.Equal(listed, sorted) || !slices.Equal(Names(), sorted) {
		t.Errorf("tools/list = %v and Names() = %v, want every tool of All(): %v", listed, Names(), sorted)
	}
	for _, want := range []string{"list_cloud_connectors", "get_security_status", "find_exposed_system"} {
		if !slices.Contains(listed, want) {
			t.Errorf("tool %s is not listed", want)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		tool, ok := Lookup(Config{}, name)
		if !ok || tool.Tool.Name != name || tool.Handler == nil {
			t.Errorf("Lookup(%s) = %v, %v", name, tool.Tool.Name, ok)
		}
	}
	if _, ok := Lookup(Config{}, "no_such_tool"); ok {
		t.Errorf("Lookup found no_such_tool")
	}
}

// TestToolSnapshots compares every tool's definition with its snapshot in __toolsnaps__
// (accept changes with UPDATE_TOOLSNAPS=true go test ./tools/) and checks its hints.
func TestToolSnapshots(t *testing.T) {
	t.Parallel()
	for _, tool := range All(Config{}) {
		t.Run(tool.Tool.Name, func(t *testing.T) {
			if err := toolsnaps.Test(tool.Tool); err != nil {
				t.Error(err)
			}
			if err := toolsnaps.CheckAnnotations(tool.Tool); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestToolSnapshotsComplete checks that __toolsnaps__ holds a snapshot of every tool and no
// snapshot of a tool that no longer exists.
func TestToolSnapshotsComplete(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(toolsnaps.Dir)
	if err != nil {
		t.Fatalf("read snapshots: %v; create them with UPDATE_TOOLSNAPS=true go test ./tools/", err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	var want []string
	for _, name := range Names() {
		want = append(want, name+".snap")
	}
	for _, f := range want {
		if !slices.Contains(files, f) {
			t.Errorf("no snapshot %s; create it with UPDATE_TOOLSNAPS=true go test ./tools/", f)
		}
	}
	for _, f := range files {
		if !slices.Contains(want, f) {
			t.Errorf("stale file %s in %s: no tool has this name; delete it", f, toolsnaps.Dir)
		}
	}
}

// TestEveryToolAnswers calls every registered tool, whatever it is, without arguments: each
// must answer the sample landscape with structured content that matches its output schema.
func TestEveryToolAnswers(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	for _, tool := range All(Config{}) {
		for _, args := range []any{nil, map[string]any{}, map[string]any{"refresh": true}} {
			if res := env.callTool(t, tool.Tool.Name, args); res.IsError {
				t.Errorf("%s(%v): %s", tool.Tool.Name, args, resultText(t, res))
			}
		}
	}
}

// TestRefresh checks that answers share one read of the Connectivity service until a call
// passes refresh=true.
func TestRefresh(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			env := newSimEnv(t, simEnvOptions{})
			steps := []struct {
				args     map[string]any
				requests int64 // API requests after the call
			}{
				{nil, 1},
				{map[string]any{}, 1},
				{map[string]any{"refresh": false}, 1},
				{map[string]any{"refresh": true}, 2},
				{map[string]any{"refresh": "true"}, 3},
				{nil, 3},
			}
			for i, s := range steps {
				if name == "list_subaccounts" { // it reads only when asked to
					s.requests = max(s.requests-1, 0)
				}
				if res := env.callTool(t, name, s.args); res.IsError {
					t.Fatalf("step %d %v: %s", i, s.args, resultText(t, res))
				}
				if got := env.sim.Counts().APIRequests; got != s.requests {
					t.Errorf("after step %d %v: %d API requests, want %d", i, s.args, got, s.requests)
				}
			}
			if n := env.sim.Counts().TokenRequests; n != 1 {
				t.Errorf("%d token requests, want 1 (the token is cached)", n)
			}
		})
	}
}

// TestConcurrentCalls sends calls of every tool at once: they share one read of the API.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	const perTool = 8
	var wg sync.WaitGroup
	errs := make(chan string, perTool*len(Names()))
	for _, name := range Names() {
		for range perTool {
			wg.Go(func() {
				req := mcp.CallToolRequest{}
				req.Params.Name = name
				res, err := env.client.CallTool(t.Context(), req)
				switch {
				case err != nil:
					errs <- name + ": " + err.Error()
				case res.IsError:
					errs <- name + ": isError"
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := env.sim.Counts(); n.APIRequests != 1 || n.TokenRequests != 1 {
		t.Errorf("counts = %+v, want one token and one API request for all calls", n)
	}
}

// TestBackendFailures checks that every tool answers failures of XSUAA and of the
// Connectivity service with an isError result that says what happened, never with a JSON-RPC
// error and never with a secret, and that a failure is not cached. Each tool has its own
// server and simulator, and the calls of all tools run at once: the slow cases wait for the
// call timeout.
func TestBackendFailures(t *testing.T) {
	// Not parallel with the others: its calls have short deadlines, the assertion.
	failures := []struct {
		name    string
		inject  func(sim *simulator.Server)
		want    []string // parts of the error text
		recover bool     // whether the tool answers once the fault is cleared
	}{
		{"rotated secret", func(sim *simulator.Server) { sim.RotateSecret("") },
			[]string{"authentication with XSUAA failed: invalid_client (Bad credentials)", "clientsecret"}, false},
		// The client retries with backoff and stops before the call's deadline would cut a
		// retry off (300 of 300 such calls named the status in a measurement under load).
		{"API 503", func(sim *simulator.Server) { sim.InjectFault(simulator.Fault{Status: 503}) },
			[]string{"HTTP 503 Service Unavailable", "attempts", "unavailable"}, true},
		// Retry-After: 1 leaves time for exactly one retry within the 2 s deadline.
		{"API 503 with Retry-After", func(sim *simulator.Server) { sim.InjectFault(simulator.Fault{Status: 503, RetryAfter: "1"}) },
			[]string{"HTTP 503 Service Unavailable, 2 attempts", "unavailable"}, true},
		{"API hangs", func(sim *simulator.Server) { sim.InjectFault(simulator.Fault{Hang: true}) },
			[]string{"timed out", shortCallTimeout.String()}, true},
		{"API sends an HTML page", func(sim *simulator.Server) {
			sim.InjectFault(simulator.Fault{Body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"})
		}, []string{"not the expected list of Cloud Connectors"}, true},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			names := slices.DeleteFunc(Names(), func(n string) bool { return n == "list_subaccounts" || n == "what_changed" }) // they report errors as data
			envs := make([]*simEnv, len(names))
			secrets := make([]string, len(names))
			for i := range names {
				envs[i] = newSimEnv(t, simEnvOptions{CallTimeout: shortCallTimeout})
				secrets[i] = envs[i].sim.Credentials(simulator.SecretCredentials)["clientsecret"].(string)
				f.inject(envs[i].sim)
			}
			type answer struct {
				res *mcp.CallToolResult
				err error
			}
			answers := make([]answer, len(names))
			var wg sync.WaitGroup
			for i, name := range names {
				wg.Go(func() {
					res, err := envs[i].send(t.Context(), name, map[string]any{})
					answers[i] = answer{res, err}
				})
			}
			wg.Wait() // each call ends by its deadline, or the test's own timeout catches it
			for i, name := range names {
				env := envs[i]
				res := env.checkAnswer(t, name, nil, answers[i].res, answers[i].err)
				got := resultText(t, res)
				if !res.IsError {
					t.Errorf("%s succeeded: %s", name, got)
					continue
				}
				t.Logf("%s: %s", name, got)
				if m := missingFrom(got, f.want...); m != "" {
					t.Errorf("%s: error = %q\nwant it to contain %q", name, got, m)
				}
				current := env.sim.Credentials(simulator.SecretCredentials)["clientsecret"].(string)
				for _, s := range append(env.sim.IssuedTokens(), secrets[i], current) {
					if strings.Contains(got, s) {
						t.Errorf("%s: error %q shows a secret", name, got)
					}
				}
				if f.recover { // the subaccount backs off: refresh=true reads now
					env.sim.ClearFaults()
					if res := env.callTool(t, name, map[string]any{"refresh": true}); res.IsError {
						t.Errorf("%s after the fault cleared: %s", name, resultText(t, res))
					}
				}
			}
		})
	}
}

// TestCancelledCall checks that a client giving up ends the call without a JSON-RPC error
// from the tool.
func TestCancelledCall(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{CallTimeout: shortCallTimeout})
	env.sim.InjectFault(simulator.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_cloud_connectors"
	res, err := env.client.CallTool(ctx, req)
	if err == nil && !res.IsError {
		t.Errorf("a call whose context ended succeeded: %+v", res)
	}
}
