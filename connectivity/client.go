package connectivity

import (
	"bytes"
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
	"time"

	"github.com/cenkalti/backoff/v5"

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
	// RootCAs replaces the system trust roots (tests and the simulator use their own CA).
	// Certificate verification is always on.
	RootCAs *x509.CertPool
	// RequestTimeout bounds each HTTP request, token or API, including reading its body.
	RequestTimeout time.Duration
	// MaxBodyBytes caps the size of an API response body.
	MaxBodyBytes int64
	// RetryBudget bounds the time spent retrying 429 and 5xx answers when the caller's context
	// has no deadline of its own.
	RetryBudget time.Duration
	// Logger receives debug records of requests; never tokens or secrets. Nil discards.
	Logger *slog.Logger
	// UserAgent is sent with every request.
	UserAgent string
	// BindingCheckInterval is how often, at most, the file or folder the binding was loaded
	// from is looked at for a rotated secret or certificate (see binding.Rotation); 0 means
	// binding.DefaultCheckInterval, negative disables the periodic look (credentials refused by
	// XSUAA still make the client read the source again).
	BindingCheckInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RetryBudget <= 0 {
		o.RetryBudget = DefaultRetryBudget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.UserAgent == "" {
		o.UserAgent = "btp-connectivity-mcp"
	}
	if o.BindingCheckInterval == 0 {
		o.BindingCheckInterval = binding.DefaultCheckInterval
	}
	return o
}

// Client reads the Cloud Connector info of one subaccount through one binding. It is safe for
// concurrent use: all calls share one cached XSUAA token.
type Client struct {
	opts      Options
	transport *http.Transport // shared by API calls and secret-based token requests
	api       *http.Client
	auth      *authenticator
	rotation  *binding.Rotation // picks up a rotated binding from its file or folder
}

// NewClient validates b and returns a client for it. No network I/O happens until the first call.
func NewClient(b *binding.Binding, opts Options) (*Client, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
	transport.MaxIdleConnsPerHost = 16
	c := &Client{
		opts:      opts,
		transport: transport,
		api:       &http.Client{Transport: transport, Timeout: opts.RequestTimeout},
	}
	auth, err := newAuthenticator(b, c.tokenHTTPClient)
	if err != nil {
		return nil, err
	}
	c.auth = auth
	c.rotation = binding.NewRotation(auth.current, c.SetBinding, opts.BindingCheckInterval, opts.Logger)
	return c, nil
}

// tokenHTTPClient returns the HTTP client for b's token endpoint and how to release it once
// the binding is replaced: the shared client for a client secret (nothing to release), one
// presenting the binding's certificate for X.509, whose idle connections are then closed.
func (c *Client) tokenHTTPClient(b *binding.Binding) (*http.Client, func(), error) {
	if !b.UsesX509() {
		return &http.Client{Transport: c.transport, Timeout: c.opts.RequestTimeout}, func() {}, nil
	}
	cert, err := clientCertificate(b)
	if err != nil {
		return nil, nil, err
	}
	t := c.transport.Clone()
	t.TLSClientConfig = &tls.Config{
		RootCAs:      c.opts.RootCAs,
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	return &http.Client{Transport: t, Timeout: c.opts.RequestTimeout}, t.CloseIdleConnections, nil
}

// Binding returns the binding in use.
func (c *Client) Binding() *binding.Binding { return c.auth.current() }

// SetBinding switches to a new version of the binding (a rotated secret or certificate). The
// cached token is dropped; in-flight calls finish with the token they have.
func (c *Client) SetBinding(b *binding.Binding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return c.auth.setBinding(b)
}

// CloudConnectors reads and decodes the Cloud Connector info of the subaccount. Answers 429 and
// 5xx are retried with exponential backoff and jitter, honouring Retry-After, until the context's
// deadline (or Options.RetryBudget); a 401 drops the cached token and retries once with a new one.
func (c *Client) CloudConnectors(ctx context.Context) ([]Connector, error) {
	body, err := c.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return DecodeConnectors(body)
}

// fetch returns the raw body of the Cloud Connector info endpoint, with retries.
func (c *Client) fetch(ctx context.Context) ([]byte, error) {
	c.rotation.Check()
	budget := c.opts.RetryBudget
	if deadline, ok := ctx.Deadline(); ok {
		budget = time.Until(deadline)
	}
	policy := backoff.NewExponentialBackOff()
	policy.InitialInterval = 250 * time.Millisecond
	policy.MaxInterval = 5 * time.Second

	attempts := 0
	var last error
	lastRetryable := false
	body, err := backoff.Retry(ctx, func() ([]byte, error) {
		attempts++
		body, err := c.fetchOnce(ctx)
		if err == nil {
			return body, nil
		}
		last, lastRetryable = err, true
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.Temporary():
			apiErr.Attempts = attempts
			if apiErr.RetryAfter > 0 {
				return nil, &backoff.RetryAfterError{Duration: apiErr.RetryAfter}
			}
			return nil, err
		case isTransient(ctx, err):
			return nil, err
		default:
			lastRetryable = false
			return nil, backoff.Permanent(err)
		}
	}, backoff.WithBackOff(policy), backoff.WithMaxElapsedTime(budget), backoff.WithMaxTries(8))
	if err == nil {
		return body, nil
	}
	if ctxErr := context.Cause(ctx); ctxErr != nil && lastRetryable && !errors.Is(last, ctxErr) {
		// The context ended while waiting to try again: report both.
		return nil, fmt.Errorf("%w (last answer: %v)", ctxErr, last)
	}
	if last != nil {
		return nil, last
	}
	return nil, err
}

// isTransient reports whether a transport error is worth another attempt: connection failures
// and resets, but not the caller's own cancellation or deadline.
func isTransient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var authErr *AuthError
	if errors.As(err, &authErr) {
		// XSUAA itself failing (429, 5xx) is worth another attempt; refused credentials are not.
		return authErr.Status == http.StatusTooManyRequests || authErr.Status >= 500
	}
	if errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrMalformedResponse) {
		return false
	}
	// A certificate that is not trusted, or a server that does not speak TLS, stays so.
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	if errors.As(err, &certErr) || errors.As(err, &recordErr) {
		return false
	}
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &opErr) || (errors.As(err, &netErr) && !netErr.Timeout()) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, errBodyCut)
}

// fetchOnce makes one API request, and one more with a new token if the first token is rejected.
// Credentials refused by XSUAA are tried once more only when the binding's source holds new ones.
func (c *Client) fetchOnce(ctx context.Context) ([]byte, error) {
	retried, reloaded := false, false
	for {
		used := c.auth.current()
		token, gen, err := c.auth.token(ctx)
		if err != nil {
			var authErr *AuthError
			if !reloaded && errors.As(err, &authErr) && c.rotation.Refused(used) {
				reloaded = true
				continue
			}
			return nil, err
		}
		b := c.auth.current()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.InfoURL(), nil)
		if err != nil {
			return nil, fmt.Errorf("building the request for %s: %w", b.InfoURL(), err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.opts.UserAgent)
		token.SetAuthHeader(req)

		start := time.Now()
		resp, err := c.api.Do(req)
		if err != nil {
			return nil, newRequestError(ctx, ServiceConnectivity, "calling the Connectivity service", err)
		}
		c.opts.Logger.Debug("connectivity API", "status", resp.StatusCode, "duration", time.Since(start), "binding", b.Name)
		if resp.StatusCode == http.StatusUnauthorized && !retried {
			retried = true
			drain(resp.Body)
			c.auth.invalidate(gen)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			drain(resp.Body)
			return nil, &APIError{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After")), Attempts: 1}
		}
		body, err := readLimited(resp.Body, resp.ContentLength, c.opts.MaxBodyBytes)
		resp.Body.Close()
		if errors.Is(err, errBodyCut) {
			return nil, newRequestError(ctx, ServiceConnectivity, "reading the Connectivity service's answer", err)
		}
		return body, err
	}
}

// errBodyCut marks an answer whose body broke off (a dropped connection, an HTTP/2 stream
// reset): worth another attempt.
var errBodyCut = errors.New("the answer broke off")

// readLimited reads at most limit bytes; a longer body is ErrResponseTooLarge. A declared
// length within the limit sizes the buffer once, instead of growing it by doubling (which, for a
// landscape of many megabytes, would allocate about twice the body).
func readLimited(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared > limit {
		return nil, fmt.Errorf("%w: the Connectivity service's answer exceeds %d MiB", ErrResponseTooLarge, limit>>20)
	}
	var buf bytes.Buffer
	if declared > 0 {
		buf.Grow(int(declared) + 1) // +1: the read that sees EOF needs no new buffer
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBodyCut, err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: the Connectivity service's answer exceeds %d MiB", ErrResponseTooLarge, limit>>20)
	}
	return buf.Bytes(), nil
}

// drain discards a little of an unwanted body so the connection can be reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	body.Close()
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
