package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The tests in this file and secrets_test.go run the built binary as an MCP client would: JSON-RPC
// lines on its stdin, answers on its stdout, logs on its stderr, signals, and the simulator (or a
// watching proxy in front of it) as SAP.

// stdioBin is the server binary, built once by TestMain for every test of the package that runs it
// (stdio, secrets and end-to-end tests).
var stdioBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bcm-stdio-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	stdioBin = filepath.Join(dir, "btp-connectivity-mcp")
	// History goes to a folder of the test run, never to the real state folder of this machine.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	if out, err := exec.Command(goTool, "build", "-o", stdioBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the server: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rpcMessage is one JSON-RPC message from the server.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	raw string
}

// toolResult is the result of tools/call.
type toolResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	IsError bool `json:"isError"`
}

func (m rpcMessage) tool(t *testing.T) toolResult {
	t.Helper()
	var r toolResult
	if m.Error != nil || json.Unmarshal(m.Result, &r) != nil || len(r.Content) == 0 {
		t.Fatalf("not a tool result: %.500s", m.raw)
	}
	return r
}

// serverProc is the binary serving MCP on stdio.
type serverProc struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	messages chan rpcMessage // every stdout line, parsed
	stdout   syncbuf.Buffer  // everything written to stdout
	stderr   syncbuf.Buffer
	exited   chan struct{}
	exitErr  error
	nextID   int
}

// stdioEnv is the environment of the binary: the test's, without any binding source.
func stdioEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "VCAP_SERVICES", "VCAP_SERVICES_FILE_PATH", "SERVICE_BINDING_ROOT", "CONNECTIVITY_BINDING", "SSL_CERT_FILE", "SSL_CERT_DIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startServer runs the binary in serve mode with args and completes the MCP handshake.
func startServer(t *testing.T, env []string, args ...string) *serverProc {
	t.Helper()
	p := &serverProc{messages: make(chan rpcMessage, 64), exited: make(chan struct{})}
	p.cmd = exec.Command(stdioBin, args...)
	p.cmd.Env = env
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				p.stdout.Write([]byte(line))
				m := rpcMessage{raw: line}
				if json.Unmarshal([]byte(line), &m) != nil || m.JSONRPC != "2.0" {
					m.JSONRPC = "INVALID" // reported by the reader of messages
				}
				p.messages <- m
			}
			if err != nil {
				close(p.messages)
				return
			}
		}
	}()
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	p.request(t, "initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "stdio-test", "version": "1"},
	})
	p.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return p
}

// send writes one line to the server's stdin.
func (p *serverProc) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("writing to the server: %v\nstderr:\n%s", err, p.stderr.String())
	}
}

// next returns the next message from the server, failing after a generous wait.
func (p *serverProc) next(t *testing.T) rpcMessage {
	t.Helper()
	select {
	case m, ok := <-p.messages:
		if !ok {
			t.Fatalf("the server closed stdout; stderr:\n%s", p.stderr.String())
		}
		if m.JSONRPC != "2.0" {
			t.Fatalf("stdout carries a line that is not JSON-RPC: %.300q", m.raw)
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatalf("no message from the server within 30 s; stderr:\n%s", p.stderr.String())
	}
	return rpcMessage{}
}

// call sends a request and returns its id.
func (p *serverProc) call(t *testing.T, method string, params any) string {
	t.Helper()
	p.nextID++
	id := fmt.Sprint(p.nextID)
	data, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": p.nextID, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	p.send(t, string(data))
	return id
}

// request sends a request and waits for its answer (skipping notifications).
func (p *serverProc) request(t *testing.T, method string, params any) rpcMessage {
	t.Helper()
	id := p.call(t, method, params)
	for {
		m := p.next(t)
		if string(m.ID) == id {
			return m
		}
		if m.Method == "" {
			t.Fatalf("answer to another request while waiting for %s: %.300s", id, m.raw)
		}
	}
}

func (p *serverProc) callTool(t *testing.T, name string, args map[string]any) toolResult {
	t.Helper()
	return p.request(t, "tools/call", map[string]any{"name": name, "arguments": args}).tool(t)
}

// waitExit waits up to d for the process to end and returns its exit code.
func (p *serverProc) waitExit(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("the server did not exit within %v; stderr:\n%s", d, p.stderr.String())
	}
	if p.exitErr == nil {
		return 0
	}
	if ee, ok := p.exitErr.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", p.exitErr)
	return -1
}

// watchProxy is a pass-through proxy in front of the simulator that records, per path, the
// requests that arrived and those whose client went away before the answer was complete.
type watchProxy struct {
	srv           *httptest.Server
	mu            sync.Mutex
	arrived, gone map[string]int
	changed       chan struct{}
}

// startWatchedServer starts a simulator, a watchProxy in front of it and the server bound to
// the simulator through the proxy, with a call deadline long enough that only the test ends calls.
func startWatchedServer(t *testing.T) (*simulator.Server, *watchProxy, *serverProc) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	proxy := newWatchProxy(t, sim)
	p := startServer(t, stdioEnv(), "--binding", writeServiceKey(t, sim, simulator.SecretCredentials, proxy.srv.URL), "--timeout", "2m")
	return sim, proxy, p
}

func newWatchProxy(t *testing.T, sim *simulator.Server) *watchProxy {
	t.Helper()
	target, err := url.Parse(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	w := &watchProxy{arrived: map[string]int{}, gone: map[string]int{}, changed: make(chan struct{}, 1)}
	note := func(m map[string]int, path string) {
		w.mu.Lock()
		m[path]++
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		note(w.arrived, r.URL.Path)
		rp.ServeHTTP(rw, r)
		if r.Context().Err() != nil {
			note(w.gone, r.URL.Path)
		}
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *watchProxy) counts(path string) (arrived, gone int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.arrived[path], w.gone[path]
}

// await waits until cond holds, up to within (a generous deadline).
func (w *watchProxy) await(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-w.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: not within %v", what, within)
		}
	}
}

// writeServiceKey writes sim's service key to a file, with every URL replaced by via (a proxy)
// when it is not empty, and returns its path.
func writeServiceKey(t *testing.T, sim *simulator.Server, kind simulator.CredentialType, via string) string {
	t.Helper()
	creds := sim.Credentials(kind)
	if via != "" {
		for _, k := range []string{"token_service_url", "url", "certurl"} {
			if _, ok := creds[k]; ok {
				creds[k] = via
			}
		}
		creds["connectivity_service"].(map[string]any)["url"] = via
	}
	data, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "service-key.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStdioGarbage: whatever arrives on stdin, the server answers with JSON-RPC errors where the
// protocol asks for an answer, never writes anything but JSON-RPC to stdout, and keeps serving.
func TestStdioGarbage(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	p := startServer(t, stdioEnv(), "--binding", writeServiceKey(t, sim, simulator.SecretCredentials, ""))

	expectError := func(what, line string, code int, id string) {
		t.Helper()
		p.send(t, line)
		m := p.next(t)
		if m.Error == nil {
			t.Fatalf("%s: answer %.300s, want a JSON-RPC error", what, m.raw)
		}
		if code != 0 && m.Error.Code != code {
			t.Errorf("%s: error code %d (%s), want %d", what, m.Error.Code, m.Error.Message, code)
		}
		if got := string(m.ID); got != id {
			t.Errorf("%s: error for id %s, want %s", what, got, id)
		}
	}
	const parseError, invalidRequest, methodNotFound = -32700, -32600, -32601
	expectError("not JSON", "this is not JSON", parseError, "null")
	expectError("truncated JSON", `{"jsonrpc":"2.0","id":1,"method":"tools/li`, parseError, "null")
	expectError("2 MB of garbage on one line", strings.Repeat("garbage ", 256<<10), parseError, "null")
	expectError("a JSON array (batch; not part of MCP since 2025-06-18)", `[{"jsonrpc":"2.0","id":90,"method":"ping"},{"jsonrpc":"2.0","id":91,"method":"ping"}]`, 0, "null")
	expectError("JSON that is not an object", `"ping"`, 0, "null")
	expectError("wrong JSON-RPC version", `{"jsonrpc":"1.0","id":92,"method":"ping"}`, invalidRequest, "92")
	expectError("unknown method", `{"jsonrpc":"2.0","id":93,"method":"no/such/method"}`, methodNotFound, "93")
	expectError("unknown tool", `{"jsonrpc":"2.0","id":94,"method":"tools/call","params":{"name":"drop_tables","arguments":{}}}`, 0, "94")

	// Notifications (no id) get no answer: the next message is the answer to the ping after them.
	p.send(t, `{"jsonrpc":"2.0","method":"tools/list"}`)
	p.send(t, `{"jsonrpc":"2.0","method":"notifications/unknown","params":{"x":1}}`)
	p.send(t, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12345}}`)
	if m := p.request(t, "ping", map[string]any{}); m.Error != nil {
		t.Errorf("ping after notifications: %.300s", m.raw)
	}

	// A 2 MB request that is valid JSON is read whole and refused by the tool with a sentence.
	huge := p.callTool(t, "list_cloud_connectors", map[string]any{"client_id": strings.Repeat("9", 2<<20)})
	if !huge.IsError || !strings.Contains(huge.Content[0].Text, `argument "client_id" must be at most 256 characters long`) {
		t.Errorf("2 MB argument: %+v", huge)
	}
	if len(huge.Content[0].Text) > 1000 {
		t.Errorf("the error repeats the 2 MB argument (%d bytes)", len(huge.Content[0].Text))
	}

	// Still serving: every tool answers.
	for _, name := range []string{"list_cloud_connectors", "get_security_status", "find_exposed_system"} {
		if r := p.callTool(t, name, map[string]any{}); r.IsError {
			t.Errorf("%s after the garbage: %s", name, r.Content[0].Text)
		}
	}

	_ = p.stdin.Close()
	if code := p.waitExit(t, time.Minute); code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	// Everything on stdout was JSON-RPC (next() fails on anything else; drain the rest).
	for m := range p.messages {
		if m.JSONRPC != "2.0" {
			t.Errorf("stdout carries a line that is not JSON-RPC: %.300q", m.raw)
		}
	}
}

// TestStdioShutdown: SIGINT, SIGTERM and a closed stdin each end the server with exit code 0,
// although a tool call is waiting on a hung Connectivity API; the outgoing request is abandoned.
// The call's deadline is 2 minutes, so an exit within a minute did not wait for it.
func TestStdioShutdown(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"SIGINT", "SIGTERM", "stdin closed"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			sim, proxy, p := startWatchedServer(t)

			sim.InjectFault(simulator.Fault{Hang: true})
			id := p.call(t, "tools/call", map[string]any{"name": "list_cloud_connectors", "arguments": map[string]any{}})
			proxy.await(t, "the API request to arrive", time.Minute, func() bool { a, _ := proxy.counts(simulator.DefaultInfoPath); return a == 1 })

			start := time.Now()
			var err error
			switch how {
			case "SIGINT":
				err = p.cmd.Process.Signal(syscall.SIGINT)
			case "SIGTERM":
				err = p.cmd.Process.Signal(syscall.SIGTERM)
			default:
				err = p.stdin.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			code := p.waitExit(t, time.Minute)
			t.Logf("%s: exit code %d after %v", how, code, time.Since(start).Round(time.Millisecond))
			if code != 0 {
				t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
			}
			proxy.await(t, "the hung API request to be abandoned", time.Minute, func() bool { _, g := proxy.counts(simulator.DefaultInfoPath); return g == 1 })

			// The in-flight call was answered as cancelled before the exit, and stdout stayed clean.
			answered := false
			for m := range p.messages {
				if m.JSONRPC != "2.0" {
					t.Errorf("stdout carries a line that is not JSON-RPC: %.300q", m.raw)
					continue
				}
				if string(m.ID) == id {
					answered = true
					if r := m.tool(t); !r.IsError || !strings.Contains(r.Content[0].Text, "the request was cancelled") {
						t.Errorf("in-flight call answered %+v, want isError saying it was cancelled", r)
					}
				}
			}
			if !answered {
				t.Error("the in-flight call got no answer before the exit")
			}
		})
	}
}

// TestStdioCancelledNotification: notifications/cancelled for a call waiting on a hung
// endpoint stops the outgoing request (the simulator's side sees the client go away), and the
// server keeps serving.
func TestStdioCancelledNotification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
		path  string
	}{
		{"hung Connectivity API", simulator.Fault{Hang: true}, simulator.DefaultInfoPath},
		{"hung token endpoint", simulator.Fault{Target: simulator.TargetToken, Hang: true}, simulator.TokenPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, proxy, p := startWatchedServer(t)

			sim.InjectFault(tc.fault)
			id := p.call(t, "tools/call", map[string]any{"name": "get_security_status", "arguments": map[string]any{}})
			proxy.await(t, "the request to arrive", time.Minute, func() bool { a, _ := proxy.counts(tc.path); return a == 1 })
			p.send(t, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":`+id+`,"reason":"user pressed stop"}}`)
			// The 15 s request timeout would end it too; then the call would be answered with the
			// timeout, before the next call's answer, which the loop below refuses.
			proxy.await(t, "the outgoing request to be abandoned", time.Minute, func() bool { _, g := proxy.counts(tc.path); return g == 1 })

			// The fault gone, the next call works (its answer may follow the cancelled one's).
			sim.ClearFaults()
			next := p.call(t, "tools/call", map[string]any{"name": "get_security_status", "arguments": map[string]any{}})
			for {
				m := p.next(t)
				if string(m.ID) == id { // the cancelled call's answer, if the server sends one
					if !strings.Contains(m.raw, "cancelled") {
						t.Errorf("the cancelled call was answered %.300s; want nothing or that it was cancelled", m.raw)
					}
					continue
				}
				if string(m.ID) != next {
					t.Fatalf("unexpected message %.300s", m.raw)
				}
				if r := m.tool(t); r.IsError {
					t.Errorf("call after the cancellation: %s", r.Content[0].Text)
				}
				break
			}
		})
	}
}

// TestPlainHTTPOnlyToLoopback: a binding that would send the secret over plain http to another
// host is refused before any request, with a sentence saying why.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	creds := sim.Credentials(simulator.SecretCredentials)
	creds["token_service_url"] = "http://example.com"
	creds["connectivity_service"].(map[string]any)["url"] = "http://example.com"
	data, _ := json.Marshal(creds)
	path := filepath.Join(t.TempDir(), "plain-http.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--binding", path, "call", "list_cloud_connectors"},
		{"--binding", path},
	} {
		cmd := exec.Command(stdioBin, args...)
		cmd.Env = stdioEnv()
		cmd.Stdin = strings.NewReader("")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Errorf("%v: %v, want exit code 1", args, err)
		}
		for _, want := range []string{`token_service_url "http://example.com" uses plain http: only https is allowed`, `connectivity_service.url "http://example.com" uses plain http`} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%v: stderr does not say %q:\n%s", args, want, stderr.String())
			}
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q, want nothing", args, stdout.String())
		}
	}
	if n := sim.Counts(); n != (simulator.Counts{}) {
		t.Errorf("requests were made: %+v", n)
	}
}

// TestBrokenBindingBesideAGoodOne: a binding that is broken at start is logged and the others are
// served; a clash of names stops the start with both sources named.
func TestBrokenBindingBesideAGoodOne(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close) // after the parallel subtests
	good := writeServiceKey(t, sim, simulator.SecretCredentials, "")
	notJSON := filepath.Join(t.TempDir(), "not-json.json")
	if err := os.WriteFile(notJSON, []byte(`{"clientid": `), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		broken    string
		wantCode  int
		wantInErr string
	}{
		{"unreadable file", filepath.Join(t.TempDir(), "missing.json"), 0, `name=missing source="file `},
		{"not JSON", "bad=" + notJSON, 0, `name=bad source="file ` + notJSON + `" error="binding \"bad\" (file ` + notJSON + `): not valid JSON`},
		{"same name twice", "service-key=" + notJSON, 1, `two bindings are named "service-key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(stdioBin, "--binding", good, "--binding", tt.broken, "call", "list_cloud_connectors")
			cmd.Env = stdioEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Fatalf("exit code %d (%v), want %d; stderr:\n%s", code, err, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantInErr) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantInErr, stderr.String())
			}
			if served := strings.Contains(stdout.String(), `"connectors":[{`); served != (tt.wantCode == 0) {
				t.Errorf("served = %v, want %v; stdout: %.200s", served, tt.wantCode == 0, stdout.String())
			}
			// The broken binding is named in the answer's errors, beside the good one's data.
			if tt.wantCode == 0 && (!strings.Contains(stdout.String(), `"partial":true`) || !strings.Contains(stdout.String(), `"errors":[{"subaccount":`)) {
				t.Errorf("the answer does not report the broken binding: %.400s", stdout.String())
			}
		})
	}
}
