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
	"sync"
	"time"
)

// server is one running server process spoken to over stdio: newline-delimited JSON-RPC 2.0,
// as an MCP client does it.
type server struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	stdout     *bufio.Reader
	stderr     *tail
	nextID     int
	stderrFile *os.File // closed by stop
	// answeredAt is when the last response line was read.
	answeredAt time.Time
}

// startServer starts binary with env and returns once the process runs. Nothing is sent yet.
func startServer(binary string, args, env []string, stderrFile string) (*server, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 1<<20), stderr: &tail{}}
	cmd.Stderr = s.stderr
	if stderrFile != "" {
		f, err := os.OpenFile(stderrFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		s.stderrFile = f
		cmd.Stderr = io.MultiWriter(s.stderr, f)
	}
	if err := cmd.Start(); err != nil {
		s.closeStderrFile()
		return nil, err
	}
	return s, nil
}

// response is what the client reads of a JSON-RPC response.
type response struct {
	ID     *int            `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// request sends one request and waits for its response. The duration runs from just before the
// request is written to just after the response line is read, before it is parsed: the server's
// time plus the pipe in both directions.
func (s *server) request(method string, params any) (json.RawMessage, time.Duration, error) {
	s.nextID++
	id := s.nextID
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, 0, err
	}
	line = append(line, '\n')
	start := time.Now()
	if _, err := s.stdin.Write(line); err != nil {
		return nil, 0, fmt.Errorf("%s: writing the request: %w%s", method, err, s.stderr.hint())
	}
	for {
		out, err := s.stdout.ReadBytes('\n')
		s.answeredAt = time.Now()
		elapsed := s.answeredAt.Sub(start)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: reading the response: %w%s", method, err, s.stderr.hint())
		}
		var resp response
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, 0, fmt.Errorf("%s: the server wrote something that is not JSON-RPC on stdout: %.200q", method, out)
		}
		if resp.ID == nil || *resp.ID != id {
			continue // a notification, or an answer to something else
		}
		if resp.Error != nil {
			return nil, 0, fmt.Errorf("%s: JSON-RPC error %d: %s", method, resp.Error.Code, resp.Error.Message)
		}
		return resp.Result, elapsed, nil
	}
}

// initialize performs the MCP handshake and returns how long the initialize request took.
func (s *server) initialize() (time.Duration, error) {
	_, d, err := s.request("initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "btp-connectivity-mcp-bench", "version": "1"},
	})
	if err != nil {
		return 0, err
	}
	_, err = io.WriteString(s.stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	return d, err
}

// toolResult is what the bench checks of a tools/call result.
type toolResult struct {
	IsError           bool `json:"isError"`
	StructuredContent struct {
		FetchedAt          string `json:"fetched_at"`
		Partial            bool   `json:"partial"`
		ConnectorsAssessed int    `json:"connectors_assessed"`
	} `json:"structuredContent"`
	Content []struct {
		Text string `json:"text"`
	} `json:"content"`
}

// callTool calls a tool and fails unless it answers without error.
func (s *server) callTool(name string, args map[string]any) (toolResult, time.Duration, error) {
	raw, d, err := s.request("tools/call", map[string]any{"name": name, "arguments": args})
	if err != nil {
		return toolResult{}, 0, err
	}
	var res toolResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return toolResult{}, 0, fmt.Errorf("tools/call %s: %w", name, err)
	}
	if res.IsError {
		text := ""
		if len(res.Content) > 0 {
			text = res.Content[0].Text
		}
		return res, 0, fmt.Errorf("tools/call %s: the tool answered an error: %s", name, text)
	}
	if res.StructuredContent.FetchedAt == "" {
		return res, 0, fmt.Errorf("tools/call %s: the result has no fetched_at", name)
	}
	return res, d, nil
}

// memory reads the server's peak and current resident set size from /proc.
func (s *server) memory() (peak, current int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch {
		case err != nil:
		case name == "VmHWM":
			peak = kb << 10
		case name == "VmRSS":
			current = kb << 10
		}
	}
	if peak == 0 {
		return 0, 0, errors.New("no VmHWM in /proc/PID/status")
	}
	return peak, current, nil
}

// sockets counts the server's open sockets: any network I/O (or a prepared connection) shows.
func (s *server) sockets() (int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n, nil
}

func (s *server) closeStderrFile() {
	if s.stderrFile != nil {
		s.stderrFile.Close()
		s.stderrFile = nil
	}
}

// stop closes stdin, which ends the server, and waits for it to exit.
func (s *server) stop() error {
	defer s.closeStderrFile()
	s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("server exit: %w%s", err, s.stderr.hint())
		}
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		return errors.New("the server did not exit within 10 s of stdin closing")
	}
}

// tail keeps the last few KiB a process wrote, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - 4096; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// hint returns the server's last stderr lines, prefixed for appending to an error.
func (t *tail) hint() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(bytes.TrimSpace(t.buf)) == 0 {
		return ""
	}
	return "\nserver stderr (last lines):\n" + string(t.buf)
}
