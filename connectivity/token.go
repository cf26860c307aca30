package connectivity

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// A Client's XSUAA tokens: oauth2's clientcredentials makes each request; the client caches the
// token until shortly before it expires, lets concurrent callers share one request, drops a token
// the API rejected, and swaps in a rotated binding. A caller that gives up never costs a token:
// the cached one stays, and a request is cancelled only when nobody waits for it any more.

// tokenEarlyExpiry is how long before its expiry a cached token is replaced, so that a request
// never leaves with a token that expires on the way.
const tokenEarlyExpiry = 2 * time.Minute

// credential is a binding with what requests its tokens.
type credential struct {
	binding *binding.Binding
	config  *clientcredentials.Config
	client  *http.Client
	// release closes the idle connections of client when it has a transport of its own (X.509);
	// it is called once the credential is replaced and no request uses it any more.
	release func()
}

// tokenRequest is a token request shared by the callers waiting for it (singleflight): its
// context has no caller's cancellation and ends when the last of them gives up, so nothing runs
// for nobody.
type tokenRequest struct {
	ctx     context.Context
	cancel  context.CancelFunc
	key     string // of the credential, in Client.tokens
	waiters int
}

// grant is a token and the generation it was cached as (0 if it was not cached).
type grant struct {
	token *oauth2.Token
	gen   uint64
}

// Binding returns the binding in use.
func (c *Client) Binding() *binding.Binding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cred.binding
}

// SetBinding switches to a new version of the binding (a rotated secret or certificate). The
// cached token is dropped; in-flight calls finish with the token they have, and a token request
// under way for the previous binding goes on for the callers waiting for it, uncached.
func (c *Client) SetBinding(b *binding.Binding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	cred := &credential{binding: b, client: c.api, release: func() {}, config: &clientcredentials.Config{
		ClientID:     b.ClientID,
		ClientSecret: b.ClientSecret.Reveal(),
		TokenURL:     b.TokenURL(),
		AuthStyle:    oauth2.AuthStyleInParams,
	}}
	if b.UsesX509() {
		cert, err := tls.X509KeyPair([]byte(b.Certificate), []byte(b.Key.Reveal()))
		if err != nil { // crypto/tls never quotes key material
			return fmt.Errorf("binding %q: the certificate and key do not form a usable TLS key pair: %w", b.Name, err)
		}
		cred.client = c.httpClient([]tls.Certificate{cert})
		cred.release = cred.client.CloseIdleConnections
	}
	c.mu.Lock()
	old, busy := c.cred, c.request != nil
	c.cred, c.cached, c.request = cred, nil, nil
	c.generation++
	c.mu.Unlock()
	if old != nil && !busy {
		old.release() // otherwise the request under way releases it when it ends
	}
	return nil
}

// fresh reports whether t can still be sent: it does not expire within tokenEarlyExpiry.
func fresh(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Until(t.Expiry) > tokenEarlyExpiry)
}

// token returns a valid access token and its generation (for invalidate). It returns when ctx
// ends even if the token endpoint hangs; the request itself is bounded by the token HTTP
// client's timeout, and cancelled when every caller waiting for it has gone.
func (c *Client) token(ctx context.Context) (*oauth2.Token, uint64, error) {
	c.mu.Lock()
	if t := c.cached; fresh(t) {
		defer c.mu.Unlock()
		return t, c.generation, nil
	}
	if ctx.Err() != nil { // gone already: no request on its behalf
		c.mu.Unlock()
		return nil, 0, tokenWaitError(ctx)
	}
	// The request's context carries the HTTP client (with the X.509 client certificate, when the
	// binding has one) and is not the caller's: others may come to wait for it too.
	cred, req := c.cred, c.request
	if req == nil {
		req = &tokenRequest{key: fmt.Sprintf("%p", cred)}
		req.ctx, req.cancel = context.WithCancel(context.WithValue(context.Background(), oauth2.HTTPClient, cred.client))
		c.request = req
	}
	req.waiters++
	c.mu.Unlock()
	ch := c.tokens.DoChan(req.key, func() (any, error) { return c.fetchToken(req, cred) })
	var r singleflight.Result
	select {
	case r = <-ch:
	case <-ctx.Done():
		c.leave(req) // before returning: the next caller must not join a request nobody wants
		return nil, 0, tokenWaitError(ctx)
	}
	var re *oauth2.RetrieveError
	switch {
	case errors.As(r.Err, &re): // XSUAA refused: name the cause without any secret
		return nil, 0, &AuthError{Status: tokenStatus(r.Err), Code: re.ErrorCode, Description: re.ErrorDescription}
	case r.Err != nil: // a transport error (*url.Error) names the token URL, which holds no secret
		return nil, 0, newRequestError(ctx, ServiceXSUAA, "requesting a token from XSUAA", r.Err)
	}
	g := r.Val.(grant)
	return g.token, g.gen, nil
}

// leave is a caller of req giving up; the last one cancels it, and the next caller starts afresh.
func (c *Client) leave(req *tokenRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.waiters--; req.waiters == 0 {
		req.cancel()
		c.tokens.Forget(req.key)
		if c.request == req {
			c.request = nil
		}
	}
}

// fetchToken makes the token request req for cred, and caches its token if cred is still the
// one in use.
func (c *Client) fetchToken(req *tokenRequest, cred *credential) (any, error) {
	t, err := cred.config.Token(req.ctx)
	c.observe(Event{Kind: EventTokenFetch, Service: ServiceXSUAA, Status: tokenStatus(err)})
	c.mu.Lock()
	defer c.mu.Unlock()
	g := grant{token: t}
	if err == nil && cred == c.cred {
		c.generation++
		c.cached, g.gen = t, c.generation
	}
	if cred != c.cred {
		cred.release() // replaced while this request ran (see SetBinding)
	}
	if c.request == req {
		c.request = nil
	}
	req.cancel()
	return g, err
}

// invalidate drops the cached token of generation gen, so the next call fetches a new one. Many
// callers that saw the same rejected token cause a single replacement, and a token that was
// never cached (generation 0) or has been replaced already drops nothing.
func (c *Client) invalidate(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != 0 && gen == c.generation {
		c.cached = nil
		c.generation++
	}
}

// tokenWaitError is the error of a caller whose context ended before it had a token.
func tokenWaitError(ctx context.Context) error {
	return &RequestError{Service: ServiceXSUAA, Op: "waiting for a token from XSUAA", Err: context.Cause(ctx)}
}

// tokenStatus is the HTTP status of a token request that ended with err: 200 on success, XSUAA's
// status when it refused, 0 when no answer came.
func tokenStatus(err error) int {
	var re *oauth2.RetrieveError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &re) && re.Response != nil:
		return re.Response.StatusCode
	}
	return 0
}
