package connectivity

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// Defaults of Options.
const (
	DefaultRequestTimeout = 15 * time.Second
	DefaultMaxBodyBytes   = 32 << 20
	DefaultRetryBudget    = 20 * time.Second
)

// Options tune a Client. The zero value is ready for production use.
type Options struct {
	// RootCAs replaces the system trust roots (the simulator has its own CA); verification is always on.
	RootCAs *x509.CertPool
	// RequestTimeout bounds each HTTP request, token or API, including reading its body.
	RequestTimeout time.Duration
	// MaxBodyBytes caps the size of an API response body.
	MaxBodyBytes int64
	// RetryBudget bounds retrying 429 and 5xx answers when the caller's context has no deadline.
	RetryBudget time.Duration
	// Logger receives debug records of requests; never tokens or secrets. Nil discards.
	Logger *slog.Logger
	// UserAgent is sent with every request.
	UserAgent string
	// BindingCheckInterval is binding.Rotation's interval: 0 means binding.DefaultCheckInterval,
	// negative that the binding's source is read again only when XSUAA refuses its credentials.
	BindingCheckInterval time.Duration
	// Observe, when set, is told of every request to the Connectivity service and XSUAA, every
	// snapshot answered from the cache and every failed read (for metrics). It is called on the
	// request's goroutine, so it must be quick and safe for concurrent use. Nil: nobody is told.
	Observe func(Event)
}

func (o Options) withDefaults() Options {
	o.RequestTimeout = cmp.Or(max(o.RequestTimeout, 0), DefaultRequestTimeout)
	o.MaxBodyBytes = cmp.Or(max(o.MaxBodyBytes, 0), DefaultMaxBodyBytes)
	o.RetryBudget = cmp.Or(max(o.RetryBudget, 0), DefaultRetryBudget)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	o.UserAgent = cmp.Or(o.UserAgent, "btp-connectivity-mcp")
	o.BindingCheckInterval = cmp.Or(o.BindingCheckInterval, binding.DefaultCheckInterval)
	return o
}

// Client reads the Cloud Connector info of one subaccount through one binding. It is safe for
// concurrent use: all calls share one cached XSUAA token (see token.go).
type Client struct {
	opts     Options
	api      *http.Client      // for API calls and secret-based token requests
	rotation *binding.Rotation // picks up a rotated binding from its file or folder

	tokens  singleflight.Group // token requests, one per credential at a time
	answers *Reader            // decodes the answers, sharing what did not change since the last

	mu         sync.Mutex
	cred       *credential   // the binding in use
	cached     *oauth2.Token // nil when there is none
	generation uint64        // names the cached token; bumped whenever it is replaced or dropped, never 0
	request    *tokenRequest // the token request under way for cred, if any
}

// NewClient validates b and returns a client for it. No network I/O happens until the first call.
func NewClient(b *binding.Binding, opts Options) (*Client, error) {
	c := &Client{opts: opts.withDefaults(), answers: NewReader()}
	c.api = c.httpClient(nil)
	if err := c.SetBinding(b); err != nil {
		return nil, err
	}
	c.rotation = binding.NewRotation(c.Binding, c.SetBinding, c.opts.BindingCheckInterval, c.opts.Logger)
	return c, nil
}

// httpClient returns an HTTP client with a transport of its own that trusts Options.RootCAs and
// presents certs.
func (c *Client) httpClient(certs []tls.Certificate) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: c.opts.RootCAs, MinVersion: tls.VersionTLS12, Certificates: certs}
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t, Timeout: c.opts.RequestTimeout}
}

// CloudConnectors reads and decodes the Cloud Connector info of the subaccount. Answers 429 and
// 5xx are retried with exponential backoff and jitter, honouring Retry-After, until the context's
// deadline (or Options.RetryBudget); a 401 drops the cached token and retries once with a new one.
func (c *Client) CloudConnectors(ctx context.Context) ([]Connector, error) {
	c.rotation.Check()
	budget := c.opts.RetryBudget
	if deadline, ok := ctx.Deadline(); ok {
		budget = time.Until(deadline)
	}
	policy := backoff.NewExponentialBackOff()
	policy.InitialInterval, policy.MaxInterval = 250*time.Millisecond, 5*time.Second

	attempts, retryable := 0, false
	var last error
	var answer error // the last transient failure, which made the call try again
	connectors, err := backoff.Retry(ctx, func() ([]Connector, error) {
		attempts++
		connectors, err := c.fetchOnce(ctx)
		if err == nil {
			return connectors, nil
		}
		last, retryable = err, isTransient(ctx, err)
		if !retryable {
			return nil, backoff.Permanent(err)
		}
		answer = err
		if apiErr, ok := errors.AsType[*APIError](err); ok {
			apiErr.Attempts = attempts
			if apiErr.RetryAfter > 0 {
				return nil, &backoff.RetryAfterError{Duration: apiErr.RetryAfter}
			}
		}
		return nil, err
	}, backoff.WithBackOff(policy), backoff.WithMaxElapsedTime(budget), backoff.WithMaxTries(8))
	if err == nil {
		return connectors, nil
	}
	if answer != nil && ctx.Err() != nil && !errors.Is(last, answer) {
		// The deadline ended during another attempt: the failures before it say why.
		return nil, answer
	}
	if ctxErr := context.Cause(ctx); ctxErr != nil && retryable && !errors.Is(last, ctxErr) {
		// The context ended while waiting to try again: report both.
		return nil, fmt.Errorf("%w (last answer: %w)", ctxErr, last)
	}
	return nil, cmp.Or(last, err)
}

// isTransient reports whether an error is worth another attempt: 429 and 5xx answers, connection
// failures and resets, but not the caller's own cancellation or deadline.
func isTransient(ctx context.Context, err error) bool {
	var apiErr *APIError
	var authErr *AuthError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &apiErr):
		return temporary(apiErr.Status)
	case ctx.Err() != nil:
		return false
	case errors.As(err, &authErr):
		// XSUAA itself failing (429, 5xx) is worth another attempt; refused credentials are not.
		return temporary(authErr.Status)
	case errors.Is(err, ErrResponseTooLarge), errors.Is(err, ErrMalformedResponse),
		// A certificate that is not trusted, or a server that does not speak TLS, stays so.
		errors.As(err, &certErr), errors.As(err, &recordErr):
		return false
	}
	return errors.As(err, &opErr) || (errors.As(err, &netErr) && !netErr.Timeout()) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errBodyCut)
}

// fetchOnce makes one API request, and one more with a new token if the first token is rejected,
// and decodes the answer as it arrives. Credentials refused by XSUAA are tried once more only when
// the binding's source holds new ones.
func (c *Client) fetchOnce(ctx context.Context) ([]Connector, error) {
	retried, reloaded := false, false
	for {
		used := c.Binding()
		token, gen, err := c.token(ctx)
		var authErr *AuthError
		if err != nil && !reloaded && errors.As(err, &authErr) && c.rotation.Refused(used) {
			reloaded = true
			continue
		} else if err != nil {
			return nil, err
		}
		url := c.Binding().InfoURL()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("building the request for %s: %w", url, err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.opts.UserAgent)
		token.SetAuthHeader(req)

		start := time.Now()
		resp, err := c.api.Do(req)
		if err != nil {
			c.observe(Event{Kind: EventRequest, Service: ServiceConnectivity})
			return nil, newRequestError(ctx, ServiceConnectivity, "calling the Connectivity service", err)
		}
		c.observe(Event{Kind: EventRequest, Service: ServiceConnectivity, Status: resp.StatusCode})
		c.opts.Logger.Debug("connectivity API", "status", resp.StatusCode, "duration", time.Since(start), "binding", c.Binding().Name)
		if resp.StatusCode != http.StatusOK {
			_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // so the connection can be reused
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized && !retried {
				retried = true
				c.invalidate(gen)
				continue
			}
			return nil, &APIError{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After")), Attempts: 1}
		}
		defer resp.Body.Close()
		if limit := c.opts.MaxBodyBytes; resp.ContentLength > limit {
			return nil, tooLarge(limit)
		}
		connectors, err := c.answers.Decode(&capped{r: resp.Body, limit: c.opts.MaxBodyBytes})
		if err != nil && !errors.Is(err, ErrMalformedResponse) && !errors.Is(err, ErrResponseTooLarge) {
			return nil, newRequestError(ctx, ServiceConnectivity, "reading the Connectivity service's answer", fmt.Errorf("%w: %w", errBodyCut, err))
		}
		return connectors, err
	}
}

// errBodyCut marks an answer whose body broke off (a dropped connection, an HTTP/2 stream
// reset): worth another attempt.
var errBodyCut = errors.New("the answer broke off")

// capped reads r and fails with ErrResponseTooLarge once more than limit bytes came.
type capped struct {
	r           io.Reader
	read, limit int64
}

func (c *capped) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.read += int64(n); c.read > c.limit {
		return n, tooLarge(c.limit)
	}
	return n, err
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: the Connectivity service's answer exceeds %d MiB", ErrResponseTooLarge, limit>>20)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// AuthError reports that XSUAA refused to issue a token. It never carries the client secret, the
// private key or any token.
type AuthError struct {
	Status      int    // HTTP status of the token endpoint, 0 when unknown
	Code        string // OAuth error code, e.g. "invalid_client"
	Description string // OAuth error_description, e.g. "Bad credentials"
}

func (e *AuthError) Error() string {
	msg := "authentication with XSUAA failed"
	switch {
	case e.Code != "" && e.Description != "":
		msg += fmt.Sprintf(": %s (%s)", e.Code, e.Description)
	case e.Code != "":
		msg += ": " + e.Code
	case e.Status != 0:
		msg += fmt.Sprintf(": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return msg
}

// APIError reports an unsuccessful HTTP status from the Connectivity service.
type APIError struct {
	Status     int
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
	Attempts   int           // how many requests were made before giving up
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("the Connectivity service answered HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf("; it asks to retry after %s", e.RetryAfter.Round(time.Second))
	}
	return msg
}

// temporary reports whether an HTTP status is worth another attempt later: 429 or 5xx.
func temporary(status int) bool { return status == http.StatusTooManyRequests || status >= 500 }

// ErrResponseTooLarge is returned when a response body exceeds the configured cap.
var ErrResponseTooLarge = errors.New("response body too large")

// Service names the endpoint a request went to.
type Service string

// The two services a Client talks to.
const (
	ServiceXSUAA        Service = "XSUAA"
	ServiceConnectivity Service = "the Connectivity service"
)

// RequestError is a request that got no usable answer (a network failure, a timeout, an
// untrusted certificate, a body that broke off) and names the service it went to, so callers can
// say which side failed without reading error text.
type RequestError struct {
	Service Service
	Op      string // what was being done, e.g. "requesting a token from XSUAA"
	Err     error
}

func (e *RequestError) Error() string { return e.Op + ": " + e.Err.Error() }

func (e *RequestError) Unwrap() error { return e.Err }

// ErrRequestTimeout marks a request that hit its own limit (Options.RequestTimeout) while the
// caller's context was still alive, as opposed to the caller's deadline ending.
var ErrRequestTimeout = errors.New("request timed out")

// newRequestError wraps err from a request to service, marking a timeout that was the request's
// own (ctx still alive) with ErrRequestTimeout.
func newRequestError(ctx context.Context, service Service, op string, err error) *RequestError {
	var netErr net.Error
	if ctx.Err() == nil && errors.As(err, &netErr) && netErr.Timeout() {
		err = fmt.Errorf("%w: %w", ErrRequestTimeout, err)
	}
	return &RequestError{Service: service, Op: op, Err: err}
}
