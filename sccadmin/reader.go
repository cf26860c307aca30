package sccadmin

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// Defaults of Options.
const (
	DefaultTTL          = 60 * time.Second
	DefaultTimeout      = 20 * time.Second
	DefaultParallel     = 4
	DefaultConnectors   = 32
	DefaultMaxBodyBytes = 8 << 20
)

// Options tune a Reader. The zero value is ready for production use.
type Options struct {
	// TTL is how long a read is reused: DefaultTTL when zero, and never below CacheTTL.
	TTL time.Duration
	// CacheTTL is the server's --cache-ttl, the floor of TTL.
	CacheTTL time.Duration
	// Timeout bounds one connector's read, every request included.
	Timeout time.Duration
	// Parallel bounds the requests in flight to one connector.
	Parallel int
	// Connectors bounds the connectors ReadAll reads at once.
	Connectors int
	// MaxBodyBytes caps each answer's body.
	MaxBodyBytes int64
	// Proxy is the Connectivity proxy for entries with via: connectivity-proxy; nil: such entries
	// fail with a sentence saying what to bind.
	Proxy *Proxy
	// Now is the clock for ReadAt and the cache; nil means time.Now.
	Now func() time.Time
	// UserAgent is sent with every request.
	UserAgent string
}

// EffectiveTTL is the cache TTL a Reader uses: ttl (DefaultTTL when zero), never below cacheTTL.
func EffectiveTTL(ttl, cacheTTL time.Duration) time.Duration {
	return max(cmp.Or(ttl, DefaultTTL), cacheTTL)
}

func (o Options) withDefaults() Options {
	o.TTL = EffectiveTTL(o.TTL, o.CacheTTL)
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	o.Parallel = max(cmp.Or(o.Parallel, DefaultParallel), 1)
	o.Connectors = max(cmp.Or(o.Connectors, DefaultConnectors), 1)
	o.MaxBodyBytes = cmp.Or(o.MaxBodyBytes, DefaultMaxBodyBytes)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.UserAgent = cmp.Or(o.UserAgent, "btp-connectivity-mcp")
	return o
}

// Reader reads the configured connectors: each read bounded by Options.Timeout, answers cached
// for the TTL, concurrent readers of one connector sharing one read. A connector that refused
// the credentials is not asked again until its password changes. Safe for concurrent use.
type Reader struct {
	opts    Options
	conns   []*conn
	byName  map[string]*conn
	flights singleflight.Group
}

// conn is one configured connector and what the Reader remembers of it.
type conn struct {
	entry  *Entry
	client *http.Client

	mu      sync.Mutex
	cached  *Health
	refused *refusal // the credentials the connector refused, if it did
}

// refusal remembers a refused login so that it is never repeated with the same password.
type refusal struct {
	password binding.Secret
	health   *Health
}

// NewReader returns a reader of cfg's connectors. No network I/O happens until the first read.
func NewReader(cfg *Config, opts Options) *Reader {
	r := &Reader{opts: opts.withDefaults(), byName: map[string]*conn{}}
	for _, e := range cfg.Connectors {
		c := &conn{entry: e}
		if !e.ViaProxy() {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.Proxy = nil // the admin port is reached directly, never through an environment proxy
			t.TLSClientConfig = &tls.Config{RootCAs: e.roots, Certificates: e.clientCerts, MinVersion: tls.VersionTLS12}
			t.MaxIdleConnsPerHost = r.opts.Parallel
			c.client = &http.Client{Transport: t, CheckRedirect: noRedirect}
		} else if r.opts.Proxy != nil {
			c.client = &http.Client{Transport: r.opts.Proxy.transport(e.LocationID, r.opts.Parallel), CheckRedirect: noRedirect}
		}
		r.conns = append(r.conns, c)
		r.byName[e.Name] = c
	}
	return r
}

// noRedirect keeps a redirect (to a login page) as the answer: it is an authentication failure.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// TTL returns how long a read is reused.
func (r *Reader) TTL() time.Duration { return r.opts.TTL }

// Names returns the configured connectors' names, in file order.
func (r *Reader) Names() []string {
	out := make([]string, len(r.conns))
	for i, c := range r.conns {
		out[i] = c.entry.Name
	}
	return out
}

// NamesFor returns, in file order, the connectors that may serve the subaccount known by any of
// keys (its binding name, label or ID): those whose entry names it in subaccount, and those whose
// entry names no subaccount (which subaccounts they serve is known only once they are read).
func (r *Reader) NamesFor(keys ...string) []string {
	var out []string
	for _, c := range r.conns {
		if s := c.entry.Subaccount; s == "" || slices.ContainsFunc(keys, func(k string) bool { return k != "" && strings.EqualFold(k, s) }) {
			out = append(out, c.entry.Name)
		}
	}
	return out
}

// Entry returns the configured entry of name, or nil.
func (r *Reader) Entry(name string) *Entry {
	if c := r.byName[name]; c != nil {
		return c.entry
	}
	return nil
}

// ErrUnknownConnector is returned by Read for a name that is not configured.
var ErrUnknownConnector = errors.New("no connector of that name in the scc config")

// Read returns the health of the connector name: the cached read while it is younger than the
// TTL (unless refresh), else a new one. It fails only for an unknown name; a connector that
// could not be read is a Health with Failure set.
func (r *Reader) Read(ctx context.Context, name string, refresh bool) (*Health, error) {
	c := r.byName[name]
	if c == nil {
		return nil, fmt.Errorf("%q: %w; configured are %s", name, ErrUnknownConnector, strings.Join(r.Names(), ", "))
	}
	if !refresh {
		c.mu.Lock()
		h := c.cached
		c.mu.Unlock()
		if h != nil && r.opts.Now().Sub(h.ReadAt) < r.opts.TTL {
			return h, nil
		}
	}
	ch := r.flights.DoChan(name, func() (any, error) {
		// The read outlives a caller who gives up, bounded by its own deadline, so that the
		// others waiting for it (and the cache) get its answer.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
		defer cancel()
		h := r.read(rctx, c)
		c.mu.Lock()
		c.cached = h
		c.mu.Unlock()
		return h, nil
	})
	select {
	case res := <-ch:
		return res.Val.(*Health), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// ReadAll reads every configured connector, at most Options.Connectors at once, and returns
// their health in file order. A caller that gives up gets what was read so far, nil elsewhere.
func (r *Reader) ReadAll(ctx context.Context, refresh bool) []*Health {
	out := make([]*Health, len(r.conns))
	var g errgroup.Group
	g.SetLimit(r.opts.Connectors)
	for i, c := range r.conns {
		g.Go(func() error {
			out[i], _ = r.Read(ctx, c.entry.Name, refresh)
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// session is one read of one connector.
type session struct {
	r        *Reader
	c        *conn
	password binding.Secret
	h        *Health

	mu sync.Mutex // guards h while endpoints are read in parallel
}

// read reads one connector: role, version, then its role's endpoints.
func (r *Reader) read(ctx context.Context, c *conn) *Health {
	e := c.entry
	h := &Health{Name: e.Name, Endpoint: e.Endpoint(), User: e.User, ReadAt: r.opts.Now()}
	pw, err := e.Password()
	if err != nil {
		h.Failure = &Failure{Kind: FailureConfig, Message: fmt.Sprintf("connector %q: %v", e.Name, err)}
		return h
	}
	if c.client == nil {
		h.Failure = &Failure{Kind: FailureConfig, Message: fmt.Sprintf("connector %q is to be read through the Connectivity proxy, "+
			"but none is configured: bind a Connectivity instance of plan lite (Cloud Foundry) or run in Kyma with the connectivity proxy", e.Name)}
		return h
	}
	c.mu.Lock()
	ref := c.refused
	c.mu.Unlock()
	if ref != nil && ref.password == pw {
		old := *ref.health
		f := *old.Failure
		f.Message += " Not asked again with the same password (repeated failed logons can lock the user): change the password file, or restart with the right password."
		old.Failure = &f
		return &old
	}
	s := &session{r: r, c: c, password: pw, h: h}
	s.run(ctx)
	slices.Sort(h.Unsupported)
	slices.SortStableFunc(h.Problems, func(a, b Problem) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	c.mu.Lock()
	if h.Failure != nil && h.Failure.Kind == FailureCredentials {
		c.refused = &refusal{password: pw, health: h}
	} else if h.Failure == nil {
		c.refused = nil
	}
	c.mu.Unlock()
	return h
}

func (s *session) run(ctx context.Context) {
	e, h := s.c.entry, s.h
	// 1. The role: hasMasterRole needs no credentials (2.15+); haRole is the fallback.
	v, err := s.get(ctx, PathHasMasterRole)
	if s.fatal(err) {
		return
	}
	if err != nil || decodeRole(v) == "" { // older than 2.15, or an answer that says nothing
		if v, err = s.get(ctx, PathHARole); s.fatal(err) {
			return
		}
	}
	if h.Role = decodeRole(v); err != nil || (h.Role != RoleMaster && h.Role != RoleShadow) {
		h.Failure = &Failure{Kind: FailureAnswer, Path: PathHARole, Message: fmt.Sprintf(
			"connector %q did not tell its high-availability role (%s and %s): check that %s is the connector's administration port",
			e.Name, PathHasMasterRole, PathHARole, e.Endpoint())}
		if err != nil {
			h.Failure.Message += ": " + err.Error()
		}
		return
	}
	// 2. The version (2.14+). The tunnel mapping does not expose it.
	if e.ViaProxy() {
		s.unsupported("version")
	} else {
		v, err := s.get(ctx, PathVersion)
		switch {
		case s.fatal(err):
			return
		case isUnsupported(err):
			s.unsupported("version")
		case err != nil:
			s.problem("version", err)
		default:
			h.Version = decodeVersion(v)
		}
	}
	// 3. A shadow reports its own HA state; the monitoring endpoints answer on the master only.
	if h.Role == RoleShadow {
		if e.ViaProxy() {
			s.unsupported("ha_shadow_state")
			return
		}
		v, err := s.get(ctx, PathShadowState)
		switch {
		case s.fatal(err):
		case isUnsupported(err):
			s.unsupported("ha_shadow_state")
		case err != nil:
			s.problem("ha_shadow_state", err)
		default:
			h.HA = decodeShadowState(v)
		}
		return
	}
	var todo []endpoint
	for _, ep := range masterEndpoints {
		switch {
		case olderThan(h.Version, ep.since):
			s.unsupported(ep.name) // not asked: poll sparingly
		case e.ViaProxy() && !exposedThroughTunnel(ep.path):
			s.unsupported(ep.name)
		default:
			todo = append(todo, ep)
		}
	}
	// Until one credentialed request has been answered, one at a time: a wrong password then
	// costs a single failed logon, never one per endpoint.
	proven := h.Version != ""
	for !proven && len(todo) > 0 {
		ep := todo[0]
		todo = todo[1:]
		ok, stop := s.endpoint(ctx, ep)
		if stop {
			return
		}
		proven = ok
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.r.opts.Parallel)
	for _, ep := range todo {
		g.Go(func() error {
			if _, stop := s.endpoint(gctx, ep); stop {
				return errStop
			}
			return nil
		})
	}
	_ = g.Wait()
}

var errStop = errors.New("stop")

// endpoint reads one endpoint into the health; ok when it answered with data, stop when the
// read as a whole failed.
func (s *session) endpoint(ctx context.Context, ep endpoint) (ok, stop bool) {
	v, err := s.get(ctx, ep.path)
	switch {
	case s.fatal(err):
		return false, true
	case isUnsupported(err):
		s.unsupported(ep.name)
		return false, false
	case err != nil:
		s.problem(ep.name, err)
		return false, false
	}
	d := &decoder{endpoint: ep.name}
	s.mu.Lock()
	defer s.mu.Unlock()
	ep.apply(s.h, d, v)
	s.h.Problems = append(s.h.Problems, d.problems...)
	return true, false
}

func (s *session) unsupported(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h.Unsupported = append(s.h.Unsupported, name)
}

func (s *session) problem(name string, err error) {
	var se *statusError
	p := Problem{Endpoint: name, Message: err.Error()}
	if errors.As(err, &se) {
		p.Status = se.status
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h.Problems = append(s.h.Problems, p)
}

// fatal records err as the read's failure when it ends the read: no answer, or the credentials
// refused. The first such failure wins.
func (s *session) fatal(err error) bool {
	var f *Failure
	if !errors.As(err, &f) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h.Failure == nil {
		s.h.Failure = f
	}
	return true
}

// statusError is an answer with an unexpected status; 400 and 404 mean not supported.
type statusError struct {
	path   string
	status int
	detail string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s answered HTTP %d", e.path, e.status)
	if e.detail != "" {
		msg += ": " + e.detail
	}
	return msg
}

func isUnsupported(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.status == http.StatusBadRequest || se.status == http.StatusNotFound)
}

// get sends one GET with HTTP Basic and returns the decoded JSON answer. Errors: *Failure when
// the read must stop (no answer, credentials refused, a login page), *statusError for another
// status, or a decoding error.
func (s *session) get(ctx context.Context, path string) (any, error) {
	e := s.c.entry
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.BaseURL()+path, nil)
	if err != nil {
		return nil, &Failure{Kind: FailureConfig, Path: path, Message: fmt.Sprintf("connector %q: %v", e.Name, err)}
	}
	req.SetBasicAuth(e.User, s.password.Reveal())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", s.r.opts.UserAgent)
	resp, err := s.c.client.Do(req)
	if err != nil {
		return nil, s.unreachable(ctx, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.r.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, s.unreachable(ctx, path, err)
	}
	if int64(len(body)) > s.r.opts.MaxBodyBytes {
		return nil, &statusError{path: path, status: resp.StatusCode, detail: fmt.Sprintf("the answer is larger than %d bytes; not read", s.r.opts.MaxBodyBytes)}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if e.ViaProxy() && !exposedThroughTunnel(path) {
			return nil, &statusError{path: path, status: code, detail: "not exposed through the tunnel mapping"}
		}
		return nil, s.refused(path, code, apiMessage(body))
	case code == http.StatusProxyAuthRequired:
		return nil, &Failure{Kind: FailureUnreachable, Status: code, Path: path, Message: fmt.Sprintf(
			"connector %q: the Connectivity proxy refused its token (HTTP 407): check the binding of plan lite or connectivity_proxy", e.Name)}
	case code >= 300 && code < 400:
		return nil, s.loginPage(path, code, "a redirect to "+clip(resp.Header.Get("Location"), 80))
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if code := resp.StatusCode; code < 200 || code >= 300 {
		detail := apiMessage(body)
		if detail == "" && ct == "text/plain" { // the Connectivity proxy's own messages
			detail = clip(strings.TrimSpace(string(body)), 160)
		}
		return nil, &statusError{path: path, status: code, detail: detail}
	}
	if ct == "text/html" || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		return nil, s.loginPage(path, resp.StatusCode, "an HTML page")
	}
	v, err := decodeAny(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// apiMessage returns the message of an error document {"type":…,"message":…}, clipped.
func apiMessage(body []byte) string {
	v, err := decodeAny(body)
	if err != nil {
		return ""
	}
	o := asObject(v)
	if msg := o.str("message"); msg != "" {
		if t := o.str("type"); t != "" {
			return clip(t+": "+msg, 200)
		}
		return clip(msg, 200)
	}
	return ""
}

func (s *session) refused(path string, status int, detail string) *Failure {
	e := s.c.entry
	what := "the password in " + cmp.Or(e.PasswordFile, "$"+e.PasswordEnv)
	if e.password == nil {
		what = "the client certificate in " + e.ClientCertFile
	}
	msg := fmt.Sprintf("connector %q refused the credentials (HTTP %d on %s): check user %q and %s, that the user has the role sccmonitoring (or sccadmin)",
		e.Name, status, path, e.User, what)
	if status == http.StatusForbidden {
		msg += ", and that its initial password was changed (a 403 also comes before that)"
	}
	if detail != "" {
		msg += " (" + detail + ")"
	}
	return &Failure{Kind: FailureCredentials, Status: status, Path: path, Message: msg + ". Not retried: repeated failed logons can lock the user."}
}

func (s *session) loginPage(path string, status int, what string) *Failure {
	e := s.c.entry
	return &Failure{Kind: FailureCredentials, Status: status, Path: path, Message: fmt.Sprintf(
		"connector %q answered %s (HTTP %d) with %s instead of data: the logon was not accepted (an expired session or wrong credentials); "+
			"check user %q and its password, and that %s is the administration port. Not retried.", e.Name, path, status, what, e.User, e.Endpoint())}
}

func (s *session) unreachable(ctx context.Context, path string, err error) *Failure {
	e := s.c.entry
	var pe *ProxyError
	switch {
	case errors.As(err, &pe):
		return &Failure{Kind: FailureUnreachable, Path: path, Message: fmt.Sprintf("connector %q: %v", e.Name, pe)}
	case ctx.Err() != nil:
		return &Failure{Kind: FailureUnreachable, Path: path, Message: fmt.Sprintf(
			"connector %q did not answer within %s (%s): check that it runs and that %s is reachable from this server", e.Name, s.r.opts.Timeout, path, e.Endpoint())}
	}
	return &Failure{Kind: FailureUnreachable, Path: path, Message: fmt.Sprintf(
		"connector %q could not be reached at %s: %v; check the host, port, firewall and (for https) ca_file", e.Name, e.Endpoint(), err)}
}
