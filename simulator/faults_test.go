package simulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestFaultAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      simulator.Fault
		withToken  bool // call the API with a valid token
		wantStatus int
		wantType   string
		wantBody   string // exact, if set
		wantIn     string // substring, if set
		wantRetry  string
	}{
		{"503 with Retry-After", simulator.Fault{Status: 503, RetryAfter: "1"}, true, 503, "application/json", `{"error":"service_unavailable","error_description":"Service Unavailable"}`, "", "1"},
		{"429", simulator.Fault{Status: 429, RetryAfter: "7"}, true, 429, "application/json", "", "too_many_requests", "7"},
		{"401 although the token is valid", simulator.Fault{Status: 401}, true, 401, "application/json", "", "unauthorized", ""},
		{"fault precedes authentication", simulator.Fault{Status: 500}, false, 500, "application/json", "", "internal_server_error", ""},
		{"HTML error page", simulator.Fault{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"}, true, 502, "text/html; charset=utf-8", "<html><body>502 Bad Gateway</body></html>", "", ""},
		{"not JSON with 200", simulator.Fault{Body: "not json"}, true, 200, "application/json", "not json", "", ""},
		{"object instead of array", simulator.Fault{Body: `{"a":1}`, ContentType: "application/json;charset=UTF-8"}, true, 200, "application/json;charset=UTF-8", `{"a":1}`, "", ""},
		{"content type only", simulator.Fault{ContentType: "text/plain"}, true, 200, "text/plain", "", `"client_id":"123456789"`, ""},
		{"unusual status", simulator.Fault{Status: 599}, true, 599, "application/json", `{"error":"http_599","error_description":"HTTP 599"}`, "", ""},
		{"delay then normal answer", simulator.Fault{Delay: 50 * time.Millisecond}, true, 200, "application/json", "", `"client_id":"123456789"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, simulator.Options{})
			c := client(s)
			tok := ""
			if tc.withToken {
				tok = token(t, c, s)
			}
			tc.fault.Times = 1
			s.InjectFault(tc.fault)
			begin := time.Now()
			resp, body, err := getInfo(t, c, s, tok)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("Content-Type") != tc.wantType {
				t.Errorf("status %d Content-Type %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantStatus, tc.wantType)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body %s, want %s", body, tc.wantBody)
			}
			if tc.wantIn != "" && !strings.Contains(string(body), tc.wantIn) {
				t.Errorf("body %.200s lacks %s", body, tc.wantIn)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tc.wantRetry)
			}
			if d := time.Since(begin); d < tc.fault.Delay {
				t.Errorf("answered after %v, want at least %v", d, tc.fault.Delay)
			}
			// Times: 1 — the next request is normal.
			if tok != "" {
				if resp, _, err := getInfo(t, c, s, tok); err != nil || resp.StatusCode != 200 {
					t.Errorf("after the fault: %v %v", err, resp.StatusCode)
				}
			}
		})
	}
}

func TestTokenFaults(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	s.InjectFault(simulator.Fault{Target: simulator.TargetToken, Status: 401, Times: 1})
	s.InjectFault(simulator.Fault{Target: simulator.TargetToken, Status: 500, Times: 1})
	s.InjectFault(simulator.Fault{Target: simulator.TargetToken, Body: "<html>login</html>", Times: 1})
	for _, want := range []struct {
		status int
		in     string
	}{
		{401, `"invalid_client"`},
		{500, `"internal_server_error"`},
		{200, "<html>login</html>"},
		{200, `"access_token"`},
	} {
		resp, _, body := postToken(t, c, s, secretForm(s), "", "")
		if resp.StatusCode != want.status || !strings.Contains(body, want.in) {
			t.Errorf("status %d body %.100s, want %d with %s", resp.StatusCode, body, want.status, want.in)
		}
	}
	// The API queue is separate.
	if resp, _, _ := getInfo(t, c, s, token(t, c, s)); resp.StatusCode != 200 {
		t.Errorf("API affected by token faults: %d", resp.StatusCode)
	}
	if got, want := s.Counts(), (simulator.Counts{TokenRequests: 5, TokenFailures: 3, APIRequests: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	if n := len(s.IssuedTokens()); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
}

func TestFaultTimesAndClear(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	tok := token(t, c, s)
	status := func() int {
		resp, _, err := getInfo(t, c, s, tok)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	s.InjectFault(simulator.Fault{Status: 503, Times: 2})
	s.InjectFault(simulator.Fault{Status: 500, Times: 1})
	s.InjectFault(simulator.Fault{Status: 429}) // forever
	s.InjectFault(simulator.Fault{Status: 418}) // never reached
	var got []int
	for range 6 {
		got = append(got, status())
	}
	if want := []int{503, 503, 500, 429, 429, 429}; !equalInts(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	s.ClearFaults()
	if st := status(); st != 200 {
		t.Errorf("after ClearFaults: %d", st)
	}

	// A fault with Times: 1 hits exactly one of many concurrent requests.
	s.InjectFault(simulator.Fault{Status: 503, Times: 1})
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if status() == 503 {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed != 1 {
		t.Errorf("%d of 50 concurrent requests failed, want 1", failed)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for name, target := range map[string]simulator.Target{"api": simulator.TargetAPI, "token": simulator.TargetToken} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := start(t, simulator.Options{})
			c := client(s)
			tok := token(t, c, s)
			s.InjectFault(simulator.Fault{Target: target, Truncate: true, Times: 1})
			var resp *http.Response
			var err error
			if target == simulator.TargetAPI {
				req, _ := http.NewRequest(http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err = c.Do(req)
			} else {
				resp, err = c.PostForm(s.URL()+simulator.TokenPath, secretForm(s))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("read error %v, want unexpected EOF", err)
			}
			if resp.StatusCode != 200 || len(body) == 0 || int64(len(body)) != resp.ContentLength/2 {
				t.Errorf("status %d, got %d of %d bytes, want half", resp.StatusCode, len(body), resp.ContentLength)
			}
			if target == simulator.TargetToken && s.Counts().TokenFailures != 1 {
				t.Errorf("truncated token answer not counted as a failure: %+v", s.Counts())
			}
		})
	}
}

func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	for name, target := range map[string]simulator.Target{"api": simulator.TargetAPI, "token": simulator.TargetToken} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := start(t, simulator.Options{})
			c := client(s)
			tok := token(t, c, s)
			s.InjectFault(simulator.Fault{Target: target, Hang: true, Times: 1})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			var req *http.Request
			if target == simulator.TargetAPI {
				req, _ = http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
			} else {
				req, _ = http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+simulator.TokenPath, strings.NewReader(secretForm(s).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want DeadlineExceeded", err)
			}
			if target == simulator.TargetToken {
				// The handler's end is counted: it ended with the client, not with the server.
				waitFor(t, "the abandoned token request to count as a failure", func() bool { return s.Counts().TokenFailures == 1 })
			}
			// The fault was used up; the server answers normally again.
			if target == simulator.TargetAPI {
				if resp, _, err := getInfo(t, c, s, tok); err != nil || resp.StatusCode != 200 {
					t.Errorf("after the hang: %v", err)
				}
			} else {
				token(t, c, s)
			}
		})
	}
}

func TestDelayEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	tok := token(t, c, s)
	s.InjectFault(simulator.Fault{Delay: time.Hour, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want DeadlineExceeded", err)
	}
	// Close must not wait for the abandoned delay of an hour.
	returns(t, "Close after an abandoned delay of an hour", s.Close)
}

func TestOversize(t *testing.T) {
	t.Parallel()
	t.Run("API body is a plausible JSON array of the requested size", func(t *testing.T) {
		t.Parallel()
		s := start(t, simulator.Options{})
		const size = 4 << 20
		s.InjectFault(simulator.Fault{OversizeBytes: size, Times: 1})
		resp, body, err := getInfo(t, client(s), s, "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.ContentLength != -1 {
			t.Errorf("status %d, Content-Length %d, want 200 streamed", resp.StatusCode, resp.ContentLength)
		}
		if n := len(body); n < size*9/10 || n > size {
			t.Errorf("%d bytes, want about %d", n, size)
		}
		var agents []simulator.Agent
		if err := json.Unmarshal(body, &agents); err != nil || len(agents) < 100 || agents[0].Attributes["client_id"] == "" {
			t.Errorf("not an array of agents: %v (%d)", err, len(agents))
		}
	})
	t.Run("token body is a plausible token response", func(t *testing.T) {
		t.Parallel()
		s := start(t, simulator.Options{})
		s.InjectFault(simulator.Fault{Target: simulator.TargetToken, OversizeBytes: 1 << 20, Times: 1})
		resp, tr, body := postToken(t, client(s), s, secretForm(s), "", "")
		if resp.StatusCode != 200 || len(body) < 900<<10 || len(tr.AccessToken) < 900<<10 || tr.TokenType != "bearer" {
			t.Errorf("status %d, %d bytes, token %d bytes", resp.StatusCode, len(body), len(tr.AccessToken))
		}
		if s.Counts().TokenFailures != 1 {
			t.Errorf("oversized token answer not counted as a failure")
		}
	})
	t.Run("40 MiB stops when the client stops reading", func(t *testing.T) {
		t.Parallel()
		s := start(t, simulator.Options{})
		s.InjectFault(simulator.Fault{OversizeBytes: 40 << 20})
		resp, err := client(s).Get(s.URL() + simulator.DefaultInfoPath)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(resp.Body)
		if b, _ := r.Peek(1); string(b) != "[" {
			t.Errorf("starts with %q", b)
		}
		n, _ := io.CopyN(io.Discard, r, 1<<20)
		resp.Body.Close() // a client enforcing a 1 MiB limit gives up here
		if n != 1<<20 {
			t.Errorf("read %d bytes", n)
		}
		returns(t, "Close while streaming 40 MiB", s.Close)
	})
}
