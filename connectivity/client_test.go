package connectivity_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// newSim starts a simulator for the test and returns it with a client bound to it.
func newSim(t *testing.T, opts simulator.Options, kind simulator.CredentialType, copts connectivity.Options) (*simulator.Server, *connectivity.Client) {
	t.Helper()
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	return sim, clientFor(t, sim, kind, copts)
}

func clientFor(t *testing.T, sim *simulator.Server, kind simulator.CredentialType, copts connectivity.Options) *connectivity.Client {
	t.Helper()
	parsed := binding.Parse(sim.ServiceKeyJSON(kind), "test service key")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil || len(bindings) != 1 {
		t.Fatalf("binding.Parse: %v (%d bindings)", err, len(bindings))
	}
	if copts.RootCAs == nil {
		copts.RootCAs = sim.RootCAs()
	}
	c, err := connectivity.NewClient(bindings[0], copts)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestClientReadsSampleLandscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts simulator.Options
		kind simulator.CredentialType
	}{
		{"client secret over http", simulator.Options{}, simulator.SecretCredentials},
		{"client secret over https", simulator.Options{TLS: true}, simulator.SecretCredentials},
		{"x509 client certificate (mTLS)", simulator.Options{TLS: true}, simulator.X509Credentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, c := newSim(t, tc.opts, tc.kind, connectivity.Options{})
			got, err := c.CloudConnectors(context.Background())
			if err != nil {
				t.Fatalf("CloudConnectors: %v", err)
			}
			if want := len(simulator.SampleLandscape()); len(got) != want {
				t.Fatalf("got %d connectors, want %d", len(got), want)
			}
			if n := sim.Counts(); n.TokenRequests != 1 || n.APIRequests != 1 {
				t.Errorf("counts = %+v, want 1 token and 1 API request", n)
			}
			// A second call reuses the token.
			if _, err := c.CloudConnectors(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := sim.Counts(); n.TokenRequests != 1 || n.APIRequests != 2 {
				t.Errorf("counts after second call = %+v, want the token reused", n)
			}
		})
	}
}

func TestX509RequiresTheClientCertificate(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	// A binding whose certificate the simulator did not issue is refused at the token endpoint.
	good := clientFor(t, sim, simulator.X509Credentials, connectivity.Options{})
	if _, _, err := sim.RotateCertificate(); err != nil {
		t.Fatal(err)
	}
	_, err = good.CloudConnectors(context.Background())
	var authErr *connectivity.AuthError
	if !errors.As(err, &authErr) {
		t.Fatalf("error = %v, want an AuthError after the certificate was replaced", err)
	}
	// With the current certificate it works.
	if _, err := clientFor(t, sim, simulator.X509Credentials, connectivity.Options{}).CloudConnectors(context.Background()); err != nil {
		t.Fatalf("with the rotated certificate: %v", err)
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	t.Parallel()
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if _, err := c.CloudConnectors(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := sim.Counts(); n.TokenRequests != 1 || n.APIRequests != 100 {
		t.Errorf("counts = %+v, want exactly 1 token request for 100 API calls", n)
	}
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	t.Parallel()
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	if _, err := c.CloudConnectors(context.Background()); err != nil {
		t.Fatal(err)
	}
	sim.RevokeTokens()
	if _, err := c.CloudConnectors(context.Background()); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := sim.Counts(); n.TokenRequests != 2 || n.APIRequests != 3 {
		t.Errorf("counts = %+v, want 2 token requests and 3 API requests (one refused)", n)
	}

	// Many callers that hit the same revoked token cause one new token, not one each.
	sim.RevokeTokens()
	sim.ResetCounts()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.CloudConnectors(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := sim.Counts(); n.TokenRequests != 1 {
		t.Errorf("concurrent revocation: %d token requests, want 1", n.TokenRequests)
	}
}

func TestAPIRefusingEveryTokenFailsAfterOneRetry(t *testing.T) {
	t.Parallel()
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	sim.InjectFault(simulator.Fault{Target: simulator.TargetAPI, Status: http.StatusUnauthorized})
	_, err := c.CloudConnectors(context.Background())
	var apiErr *connectivity.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("error = %v, want APIError 401", err)
	}
	if n := sim.Counts(); n.TokenRequests != 2 || n.APIRequests != 2 {
		t.Errorf("counts = %+v, want 2 token and 2 API requests", n)
	}
}

func TestWrongSecretIsAClearAuthError(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-that-must-never-leak-9f8e7d"
	sim, c := newSim(t, simulator.Options{ClientSecret: secret}, simulator.SecretCredentials, connectivity.Options{})
	sim.RotateSecret("another-secret")
	_, err := c.CloudConnectors(context.Background())
	var authErr *connectivity.AuthError
	if !errors.As(err, &authErr) {
		t.Fatalf("error = %v (%T), want *AuthError", err, err)
	}
	if want := "authentication with XSUAA failed: invalid_client (Bad credentials)"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), secret) {
		t.Error("the error shows the client secret")
	}
	if n := sim.Counts(); n.TokenRequests != 1 || n.APIRequests != 0 {
		t.Errorf("counts = %+v: a wrong secret must cost exactly one token request per call", n)
	}
}

func TestTransientAnswersAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     simulator.Fault
		wantCalls int64
	}{
		{"503 twice", simulator.Fault{Target: simulator.TargetAPI, Status: 503, Times: 2}, 3},
		{"500 once", simulator.Fault{Target: simulator.TargetAPI, Status: 500, Times: 1}, 2},
		{"429 with Retry-After", simulator.Fault{Target: simulator.TargetAPI, Status: 429, RetryAfter: "1", Times: 1}, 2},
		{"connection dropped", simulator.Fault{Target: simulator.TargetAPI, Truncate: true, Times: 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
			sim.InjectFault(tc.fault)
			start := time.Now()
			got, err := c.CloudConnectors(context.Background())
			if err != nil {
				t.Fatalf("CloudConnectors: %v", err)
			}
			if len(got) == 0 {
				t.Error("no connectors")
			}
			if n := sim.Counts(); n.APIRequests != tc.wantCalls {
				t.Errorf("API requests = %d, want %d", n.APIRequests, tc.wantCalls)
			}
			if tc.fault.RetryAfter == "1" && time.Since(start) < 900*time.Millisecond {
				t.Errorf("Retry-After: 1 not honoured: retried after %v", time.Since(start))
			}
		})
	}
}

func TestPersistentFailuresEndWithinTheDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault simulator.Fault
		check func(t *testing.T, err error)
	}{
		{"503 forever", simulator.Fault{Target: simulator.TargetAPI, Status: 503}, func(t *testing.T, err error) {
			var apiErr *connectivity.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 503 {
				t.Errorf("error = %v, want APIError 503", err)
			}
		}},
		{"hung API", simulator.Fault{Target: simulator.TargetAPI, Hang: true}, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want DeadlineExceeded", err)
			}
		}},
		{"hung token endpoint", simulator.Fault{Target: simulator.TargetToken, Hang: true}, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want DeadlineExceeded", err)
			}
		}},
		{"403", simulator.Fault{Target: simulator.TargetAPI, Status: 403}, func(t *testing.T, err error) {
			var apiErr *connectivity.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 403 || apiErr.Attempts != 1 {
				t.Errorf("error = %v, want one APIError 403 without retries", err)
			}
		}},
		{"HTML error page", simulator.Fault{Target: simulator.TargetAPI, Status: 200, Body: "<html><body>Gateway</body></html>", ContentType: "text/html"}, func(t *testing.T, err error) {
			if !errors.Is(err, connectivity.ErrMalformedResponse) || !strings.Contains(err.Error(), "HTML") {
				t.Errorf("error = %v, want ErrMalformedResponse naming HTML", err)
			}
		}},
		{"object instead of array", simulator.Fault{Target: simulator.TargetAPI, Status: 200, Body: `{"connectors":[]}`}, func(t *testing.T, err error) {
			if !errors.Is(err, connectivity.ErrMalformedResponse) {
				t.Errorf("error = %v, want ErrMalformedResponse", err)
			}
		}},
		{"oversize body", simulator.Fault{Target: simulator.TargetAPI, OversizeBytes: 3 << 20}, func(t *testing.T, err error) {
			if !errors.Is(err, connectivity.ErrResponseTooLarge) {
				t.Errorf("error = %v, want ErrResponseTooLarge", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A 2 MiB cap keeps the oversize case fast under -race; the default cap is tested below.
			sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{MaxBodyBytes: 2 << 20})
			sim.InjectFault(tc.fault)
			// An oversize answer is decoded as it arrives, up to the cap (slow under -race and
			// load), and does not last until the deadline: it gets a longer one.
			deadline := 1500 * time.Millisecond
			if tc.fault.OversizeBytes > 0 {
				deadline = 30 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			// The call ends with its deadline at the latest; a minute more without an answer means
			// it ignored the deadline (retrying or waiting on), however busy the machine.
			errc := make(chan error, 1)
			go func() { _, err := c.CloudConnectors(ctx); errc <- err }()
			var err error
			select {
			case err = <-errc:
			case <-time.After(time.Minute + deadline):
				t.Fatal("the call did not end within a minute of its deadline")
			}
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)

			// The fault gone, the same client works again.
			sim.ClearFaults()
			if _, err := c.CloudConnectors(context.Background()); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

func TestSetBindingPicksUpARotatedSecret(t *testing.T) {
	t.Parallel()
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	if _, err := c.CloudConnectors(context.Background()); err != nil {
		t.Fatal(err)
	}
	sim.RotateSecret("rotated-secret-value")
	sim.RevokeTokens()
	parsed := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "rotated key")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetBinding(bindings[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CloudConnectors(context.Background()); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
}

// The default cap holds whether the answer declares its length or streams without one. Each
// fault stays for every request, so that an attempt cut off on a slow machine (and retried) meets
// the same oversize answer again.
func TestDefaultBodyCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
	}{
		{"declared length", simulator.Fault{Target: simulator.TargetAPI, Body: "[" + strings.Repeat(" ", 40<<20) + "]"}},
		{"streamed", simulator.Fault{Target: simulator.TargetAPI, OversizeBytes: 40 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
			sim.InjectFault(tc.fault)
			_, err := c.CloudConnectors(context.Background())
			if !errors.Is(err, connectivity.ErrResponseTooLarge) || !strings.Contains(err.Error(), "32 MiB") {
				t.Fatalf("error = %v, want ErrResponseTooLarge naming the 32 MiB cap", err)
			}
		})
	}
}

// waitUntil polls cond until it holds, failing the test after a generous minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A caller that gives up never costs a token: the cached token outlives any number of cancelled
// calls, and a token fetched for several callers stays cached when one of them leaves.
func TestCancelledCallsCostNoToken(t *testing.T) {
	t.Parallel()
	cancelled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	tests := []struct {
		name string
		// tokens is how many token requests the test needs (a revoked token must be replaced).
		tokens int64
		// cancel makes calls that are cancelled, on a client that holds a valid token.
		cancel func(t *testing.T, sim *simulator.Server, c *connectivity.Client)
	}{
		{"cancelled before the call", 0, func(t *testing.T, _ *simulator.Server, c *connectivity.Client) {
			for range 20 {
				if _, err := c.CloudConnectors(cancelled()); !errors.Is(err, context.Canceled) {
					t.Fatalf("error = %v, want context.Canceled", err)
				}
			}
		}},
		{"cancelled during the API request", 0, func(t *testing.T, sim *simulator.Server, c *connectivity.Client) {
			sim.InjectFault(simulator.Fault{Target: simulator.TargetAPI, Hang: true, Times: 5})
			for i := range 5 {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					defer cancel()
					waitUntil(t, "the hung API request", func() bool { return sim.Counts().APIRequests >= int64(2+i) })
				}()
				if _, err := c.CloudConnectors(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("error = %v, want context.Canceled", err)
				}
			}
		}},
		{"cancelled while another caller waits for the same token", 1, func(t *testing.T, sim *simulator.Server, c *connectivity.Client) {
			sim.RevokeTokens() // the next call gets a 401 and needs a new token
			sim.InjectFault(simulator.Fault{Target: simulator.TargetToken, Delay: 500 * time.Millisecond, Times: 1})
			ctx, cancel := context.WithCancel(context.Background())
			errs := make(chan error, 2)
			// The first caller makes the token request and waits for it; the second comes while
			// it runs (on a loaded machine perhaps only after the cancel: then it sends nothing).
			// Were the second the one to start it, its cancel would end a request nobody else
			// had joined yet, and the first would rightly need another.
			go func() { _, err := c.CloudConnectors(context.Background()); errs <- err }()
			waitUntil(t, "the delayed token request", func() bool { return sim.Counts().TokenRequests == 2 })
			go func() { _, err := c.CloudConnectors(ctx); errs <- err }()
			cancel()
			for range 2 {
				if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
					t.Fatalf("error = %v", err)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
			if _, err := c.CloudConnectors(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := sim.Counts().TokenRequests
			tc.cancel(t, sim, c)
			for range 3 {
				if _, err := c.CloudConnectors(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if n := sim.Counts().TokenRequests - before; n != tc.tokens {
				t.Errorf("%d token requests for the cancelled and the 3 later calls, want %d", n, tc.tokens)
			}
		})
	}
}

// countingProxy forwards TCP connections to a server and counts those open, so a test can see
// connections a client leaves behind.
type countingProxy struct {
	addr string
	open atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			p.open.Add(1)
			var pair sync.WaitGroup
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			pair.Go(func() { pipe(up, down) })
			pair.Go(func() { pipe(down, up) })
			wg.Go(func() { pair.Wait(); p.open.Add(-1) })
		}
	})
	return p
}

// With X.509 credentials the token endpoint is reached with the binding's certificate, through a
// transport of its own. Neither a dropped token nor a rotated certificate leaves connections open.
func TestX509TokenConnectionsAreNotLeaked(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	proxy := startCountingProxy(t, strings.TrimPrefix(sim.URL(), "https://"))
	proxied := func() *binding.Binding {
		key := bytes.ReplaceAll(sim.ServiceKeyJSON(simulator.X509Credentials), []byte(sim.URL()), []byte("https://"+proxy.addr))
		parsed := binding.Parse(key, "service key through the proxy")
		if err := parsed.Err(); err != nil || len(parsed.Usable) != 1 {
			t.Fatalf("binding.Parse: %v (%d bindings)", err, len(parsed.Usable))
		}
		return parsed.Usable[0]
	}
	c, err := connectivity.NewClient(proxied(), connectivity.Options{RootCAs: sim.RootCAs()})
	if err != nil {
		t.Fatal(err)
	}
	call := func() {
		t.Helper()
		if _, err := c.CloudConnectors(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	call()
	for _, tc := range []struct {
		name   string
		change func()
	}{
		{"tokens dropped after a 401", sim.RevokeTokens},
		{"certificate rotated", func() {
			if _, _, err := sim.RotateCertificate(); err != nil {
				t.Fatal(err)
			}
			if err := c.SetBinding(proxied()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens := sim.Counts().TokenRequests
			for range 5 {
				tc.change()
				call()
			}
			if n := sim.Counts().TokenRequests - tokens; n != 5 {
				t.Fatalf("%d token requests, want 5 (one per change)", n)
			}
			// One connection for the API, at most one for tokens; closing is asynchronous.
			waitUntil(t, "at most 2 open connections", func() bool { return proxy.open.Load() <= 2 })
		})
	}
}
