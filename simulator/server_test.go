package simulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestInfoEndpoint(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	tok := token(t, c, s)

	t.Run("valid token gets the landscape", func(t *testing.T) {
		resp, body, err := getInfo(t, c, s, tok)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var got []simulator.Agent
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, simulator.SampleLandscape()) {
			t.Error("the served landscape is not SampleLandscape()")
		}
	})

	for _, tc := range []struct {
		name, auth string
		wantError  string
	}{
		{"no Authorization", "", "unauthorized"},
		{"Basic instead of Bearer", "Basic Zm9vOmJhcg==", "unauthorized"},
		{"unknown token", "Bearer eyJhbGciOiJub25lIn0.e30.", "invalid_token"},
		{"lower-case scheme", "bearer " + tok, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct{ Error string }
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if tc.wantError == "" {
				if resp.StatusCode != 200 {
					t.Errorf("status %d, want 200", resp.StatusCode)
				}
				return
			}
			if resp.StatusCode != 401 || e.Error != tc.wantError || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("status %d error %q, want 401 %s with WWW-Authenticate", resp.StatusCode, e.Error, tc.wantError)
			}
		})
	}

	t.Run("routes", func(t *testing.T) {
		for _, tc := range []struct {
			method, path, accept string
			want                 int
		}{
			{http.MethodGet, "/api/v1/other", "", 404},
			{http.MethodGet, "/", "", 404},
			{http.MethodPost, simulator.DefaultInfoPath, "", 405},
			{http.MethodDelete, simulator.DefaultInfoPath, "", 405},
			{http.MethodGet, simulator.DefaultInfoPath, "text/html", 406},
			{http.MethodGet, simulator.DefaultInfoPath, "text/html, application/json;q=0.9", 200},
			{http.MethodHead, simulator.DefaultInfoPath, "*/*", 200},
		} {
			req, _ := http.NewRequest(tc.method, s.URL()+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s (Accept %q): %d, want %d", tc.method, tc.path, tc.accept, resp.StatusCode, tc.want)
			}
		}
	})

	t.Run("revoked token", func(t *testing.T) {
		s.RevokeTokens()
		resp, body, err := getInfo(t, c, s, tok)
		if err != nil || resp.StatusCode != 401 || !strings.Contains(string(body), "revoked") {
			t.Fatalf("revoked token: %v %v %s", err, resp.StatusCode, body)
		}
		fresh := token(t, c, s)
		if resp, _, _ := getInfo(t, c, s, fresh); resp.StatusCode != 200 {
			t.Errorf("token issued after RevokeTokens: %d", resp.StatusCode)
		}
	})

	t.Run("expired token", func(t *testing.T) {
		t.Parallel()
		short := start(t, simulator.Options{TokenLifetime: time.Millisecond}) // its own server: no shared short token
		tok := token(t, c, short)
		time.Sleep(10 * time.Millisecond) // a lower bound only: the token cannot be valid afterwards
		resp, body, err := getInfo(t, c, short, tok)
		if err != nil || resp.StatusCode != 401 || !strings.Contains(string(body), "expired") {
			t.Fatalf("expired token: %v %v %s", err, resp.StatusCode, body)
		}
	})
}

func TestSetLandscape(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{Landscape: []simulator.Agent{}})
	c := client(s)
	get := func() string {
		_, body, err := getInfo(t, c, s, token(t, c, s))
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	if got := get(); got != "[]" {
		t.Errorf("empty landscape served as %s", got)
	}
	clean := simulator.CleanLandscape()
	s.SetLandscape(clean)
	clean[0].Attributes["client_id"] = "mutated after SetLandscape"
	var got []simulator.Agent
	if err := json.Unmarshal([]byte(get()), &got); err != nil || !reflect.DeepEqual(got, simulator.CleanLandscape()) {
		t.Errorf("SetLandscape(CleanLandscape()): %v", err)
	}
	s.SetLandscape(nil)
	if got := get(); got != "[]" {
		t.Errorf("SetLandscape(nil) served %s", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []simulator.Options{
		{TokenLifetime: -time.Second},
		{APILatency: -time.Second},
		{TokenLatency: -time.Second},
	} {
		if s, err := simulator.New(opts); err == nil {
			s.Close()
			t.Errorf("New(%+v) accepted", opts)
		}
	}
}

func TestCountsAreExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 100
	good, bad := secretForm(s), secretForm(s)
	bad.Set("client_secret", "wrong")

	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			form := good
			if i%4 == 0 {
				form = bad
			}
			resp, tr, _ := postToken(t, c, s, form, "", "")
			if resp.StatusCode != 200 {
				return
			}
			if resp, _, err := getInfo(t, c, s, tr.AccessToken); err != nil || resp.StatusCode != 200 {
				t.Errorf("API call: %v", err)
			}
		})
	}
	wg.Wait()
	if got, want := s.Counts(), (simulator.Counts{TokenRequests: 100, TokenFailures: 25, APIRequests: 75}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	if n := len(s.IssuedTokens()); n != 75 {
		t.Errorf("%d issued tokens, want 75", n)
	}
	s.ResetCounts()
	if got := s.Counts(); got != (simulator.Counts{}) {
		t.Errorf("after ResetCounts: %+v", got)
	}
}

// TestLatency holds the latencies to lower bounds and to deadlines that they must exceed, never
// to upper bounds on a round trip.
func TestLatency(t *testing.T) {
	t.Parallel()
	expired := func(s *simulator.Server, req *http.Request) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := client(s).Do(req.WithContext(ctx))
		return errors.Is(err, context.DeadlineExceeded)
	}

	api := start(t, simulator.Options{APILatency: time.Hour})
	tok := token(t, client(api), api) // an hour's APILatency would fail this request's 10 s timeout
	req, _ := http.NewRequest(http.MethodGet, api.URL()+simulator.DefaultInfoPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if !expired(api, req) {
		t.Error("APILatency did not hold the API answer")
	}

	tokenSlow := start(t, simulator.Options{TokenLatency: time.Hour})
	req, _ = http.NewRequest(http.MethodPost, tokenSlow.URL()+simulator.TokenPath, strings.NewReader(secretForm(tokenSlow).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !expired(tokenSlow, req) {
		t.Error("TokenLatency did not hold the token answer")
	}
	waitFor(t, "the abandoned token request to count as a failure", func() bool { return tokenSlow.Counts().TokenFailures == 1 })

	short := start(t, simulator.Options{APILatency: 20 * time.Millisecond, TokenLatency: 20 * time.Millisecond})
	begin := time.Now()
	tok = token(t, client(short), short)
	if resp, _, err := getInfo(t, client(short), short, tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("with short latencies: %v", err)
	}
	if d := time.Since(begin); d < 40*time.Millisecond {
		t.Errorf("token and API answered within %v, want at least both latencies", d)
	}
}

func TestCloseWithHungRequests(t *testing.T) {
	t.Parallel()
	s, err := simulator.New(simulator.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	s.InjectFault(simulator.Fault{Target: simulator.TargetAPI, Hang: true})
	s.InjectFault(simulator.Fault{Target: simulator.TargetToken, Delay: time.Hour})
	c := &http.Client{Transport: client(s).Transport} // no client timeout: only Close can end these
	errs := make(chan error, 2)
	go func() {
		resp, err := c.Get(s.URL() + simulator.DefaultInfoPath)
		if err == nil {
			resp.Body.Close()
		}
		errs <- err
	}()
	go func() {
		resp, err := c.PostForm(s.URL()+simulator.TokenPath, url.Values{"grant_type": {"client_credentials"}})
		if err == nil {
			resp.Body.Close()
		}
		errs <- err
	}()
	waitFor(t, "both requests to arrive", func() bool {
		n := s.Counts()
		return n.APIRequests == 1 && n.TokenRequests == 1
	})
	returns(t, "Close with a request hung and one delayed by an hour", s.Close)
	for range 2 {
		select {
		case err := <-errs:
			if err == nil {
				t.Error("a hung request got an answer")
			}
		case <-time.After(time.Minute):
			t.Fatal("a hung request did not end after Close")
		}
	}
	s.Close() // idempotent
	if n := s.Counts(); n.TokenFailures != 1 {
		t.Errorf("token failures %d, want the abandoned delayed request counted", n.TokenFailures)
	}
}

func TestHTTP2(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	c := client(s)
	c.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	tok := token(t, c, s)
	resp, _, err := getInfo(t, c, s, tok)
	if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("over HTTP/2: %v %v", err, resp)
	}
	s.InjectFault(simulator.Fault{Truncate: true, Times: 1})
	if _, _, err := getInfo(t, c, s, tok); err == nil {
		t.Error("truncated answer over HTTP/2 read without error")
	}
	s.InjectFault(simulator.Fault{Hang: true, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
	if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang over HTTP/2: %v", err)
	}
	if resp, _, err := getInfo(t, c, s, tok); err != nil || resp.StatusCode != 200 {
		t.Errorf("after the faults: %v", err)
	}
}
