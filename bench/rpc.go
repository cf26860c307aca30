package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// server is one running server process spoken to over stdio, newline-delimited JSON-RPC 2.0, as
// an MCP client does it.
type server struct {
	cmd               *exec.Cmd
	stdin             io.WriteCloser
	stdout            *bufio.Reader
	stderr            *os.File // a temporary file, removed by stop
	nextID            int
	startup, initTime time.Duration // spawn → initialize response; the initialize request alone
}

// start spawns the server with binding (KEY=VALUE) in this process's environment without any
// other binding source, passes --cache-ttl, --history and args, and performs the MCP handshake.
func start(cfg config, binding string, args ...string) (*server, error) {
	stderr, err := os.CreateTemp("", "btp-connectivity-mcp-bench-stderr-")
	if err != nil {
		return nil, err
	}
	flags := []string{"--cache-ttl", cfg.cacheTTL.String(), "--history", cfg.history}
	s := &server{cmd: exec.Command(cfg.binary, append(flags, args...)...), stderr: stderr}
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "VCAP_SERVICES", "VCAP_SERVICES_FILE_PATH", "VCAP_APPLICATION", "CONNECTIVITY_BINDING", "SERVICE_BINDING_ROOT":
		default:
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Env, s.cmd.Stderr = append(append(s.cmd.Env, cfg.env...), binding), s.stderr
	if cfg.stderr != nil {
		s.cmd.Stderr = io.MultiWriter(s.stderr, cfg.stderr)
	}
	stdin, err1 := s.cmd.StdinPipe()
	stdout, err2 := s.cmd.StdoutPipe()
	s.stdin, s.stdout = stdin, bufio.NewReaderSize(stdout, 1<<20)
	spawn := time.Now()
	if err := errors.Join(err1, err2, s.cmd.Start()); err != nil {
		stderr.Close()
		os.Remove(stderr.Name())
		return nil, err
	}
	asked := time.Now()
	_, d, err := s.request("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "btp-connectivity-mcp-bench", "version": "1"}})
	s.startup, s.initTime = asked.Sub(spawn)+d, d
	if err == nil {
		_, err = io.WriteString(s.stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	}
	if err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("start-up: %w", err)
	}
	return s, nil
}

// request sends one request and waits for its response. The duration runs from just before the
// request is written to just after the response line is read: the server's time plus the pipes.
func (s *server) request(method string, params any) (json.RawMessage, time.Duration, error) {
	s.nextID++
	line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": s.nextID, "method": method, "params": params})
	start := time.Now()
	if _, err := s.stdin.Write(append(line, '\n')); err != nil {
		return nil, 0, fmt.Errorf("%s: writing the request: %w%s", method, err, s.hint())
	}
	for {
		out, err := s.stdout.ReadBytes('\n')
		d := time.Since(start)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: reading the response: %w%s", method, err, s.hint())
		}
		var resp struct {
			ID     *int            `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, 0, fmt.Errorf("%s: the server wrote something that is not JSON-RPC on stdout: %.200q", method, out)
		}
		switch {
		case resp.ID == nil || *resp.ID != s.nextID: // a notification, or an answer to something else
		case resp.Error != nil:
			return nil, 0, fmt.Errorf("%s: JSON-RPC error %s", method, resp.Error)
		default:
			return resp.Result, d, nil
		}
	}
}

// toolResult is what the bench checks of a tools/call result.
type toolResult struct {
	IsError           bool `json:"isError"`
	StructuredContent struct {
		FetchedAt          string `json:"fetched_at"`
		Partial            bool   `json:"partial"`
		ConnectorsAssessed int    `json:"connectors_assessed"`
	} `json:"structuredContent"`
}

// callTool calls a tool and fails unless it answers without error, with a fetched_at.
func (s *server) callTool(name string, args map[string]any) (res toolResult, d time.Duration, err error) {
	raw, d, err := s.request("tools/call", map[string]any{"name": name, "arguments": args})
	switch {
	case err != nil:
	case json.Unmarshal(raw, &res) != nil:
		err = fmt.Errorf("tools/call %s: not a tool result: %.300s", name, raw)
	case res.IsError:
		err = fmt.Errorf("tools/call %s: the tool answered an error: %.300s", name, raw)
	case res.StructuredContent.FetchedAt == "":
		err = fmt.Errorf("tools/call %s: the result has no fetched_at", name)
	}
	return res, d, err
}

// memory reads the server's peak and current resident set size (VmHWM, VmRSS) from /proc.
func (s *server) memory() (peak, current int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmHWM":
			peak = kb << 10
		case "VmRSS":
			current = kb << 10
		}
	}
	if err == nil && peak == 0 {
		err = errors.New("no VmHWM in /proc/PID/status")
	}
	return peak, current, err
}

// sockets counts the server's open sockets: any network I/O (or a prepared connection) shows.
func (s *server) sockets() (int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid)
	entries, err := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n, err
}

// stop closes stdin, which ends the server, and waits for it to exit (killing it after 10 s).
func (s *server) stop() error {
	s.stdin.Close()
	kill := time.AfterFunc(10*time.Second, func() { _ = s.cmd.Process.Kill() })
	defer kill.Stop()
	defer os.Remove(s.stderr.Name())
	defer s.stderr.Close()
	if err := s.cmd.Wait(); err != nil {
		return fmt.Errorf("server exit: %w%s", err, s.hint())
	}
	return nil
}

// hint returns the end of the server's stderr, prefixed for appending to an error.
func (s *server) hint() string {
	data, _ := os.ReadFile(s.stderr.Name())
	if len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	return "\nserver stderr (last lines):\n" + string(data[max(0, len(data)-4096):])
}
