package connectivity

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// tokenEarlyExpiry is how long before its expiry a cached token is replaced, so that a request
// never leaves with a token that expires on the way.
const tokenEarlyExpiry = 2 * time.Minute

// authenticator hands out XSUAA access tokens for one binding. oauth2's clientcredentials makes
// each token request; the authenticator caches the token until shortly before it expires, lets
// concurrent callers share one request, drops a token the API rejected, and swaps in a rotated
// binding.
//
// A caller that gives up (its context ends) never costs a token: it leaves the cached token
// alone, and a request other callers still wait for goes on for them. Only a request that nobody
// waits for any more is cancelled, so that a hung token endpoint holds nothing for long.
type authenticator struct {
	newClient func(b *binding.Binding) (*http.Client, func(), error) // the token endpoint's HTTP client for b, and its release

	mu         sync.Mutex
	cred       *credential   // the binding in use
	cached     *oauth2.Token // nil when there is none
	generation uint64        // names the cached token; bumped whenever it is replaced or dropped, never 0
	inflight   *tokenFetch   // the token request under way for cred, if any
}

// credential is a binding with what requests its tokens.
type credential struct {
	binding *binding.Binding
	config  *clientcredentials.Config
	client  *http.Client
	// release closes the idle connections of client when it has a transport of its own (X.509);
	// it is called once the credential is replaced and no request uses it any more.
	release func()
}

// tokenFetch is one token request shared by every caller that asked while it ran.
type tokenFetch struct {
	cred    *credential
	done    chan struct{} // closed when token, gen and err are set
	token   *oauth2.Token
	gen     uint64 // the generation the token was cached as; 0 if it was not cached
	err     error
	waiters int // guarded by authenticator.mu
	cancel  context.CancelFunc
}

func newAuthenticator(b *binding.Binding, newClient func(*binding.Binding) (*http.Client, func(), error)) (*authenticator, error) {
	a := &authenticator{newClient: newClient}
	if err := a.setBinding(b); err != nil {
		return nil, err
	}
	return a, nil
}

// setBinding switches to b and drops the cached token. A token request under way for the
// previous binding goes on for the callers waiting for it, but its token is not cached.
func (a *authenticator) setBinding(b *binding.Binding) error {
	client, release, err := a.newClient(b)
	if err != nil {
		return err
	}
	cred := &credential{
		binding: b,
		config: &clientcredentials.Config{
			ClientID:     b.ClientID,
			ClientSecret: b.ClientSecret.Reveal(),
			TokenURL:     b.TokenURL(),
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		client:  client,
		release: release,
	}
	a.mu.Lock()
	old, busy := a.cred, a.inflight != nil
	a.cred, a.cached, a.inflight = cred, nil, nil
	a.generation++
	a.mu.Unlock()
	if old != nil && !busy {
		old.release() // otherwise the request under way releases it when it ends
	}
	return nil
}

// current returns the binding in use.
func (a *authenticator) current() *binding.Binding {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cred.binding
}

// fresh reports whether t can still be sent: it does not expire within tokenEarlyExpiry.
func fresh(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Until(t.Expiry) > tokenEarlyExpiry)
}

// token returns a valid access token and its generation (for invalidate). It returns when ctx
// ends even if the token endpoint hangs; the request itself is bounded by the token HTTP
// client's timeout, and cancelled when every caller waiting for it has gone.
func (a *authenticator) token(ctx context.Context) (*oauth2.Token, uint64, error) {
	a.mu.Lock()
	if t := a.cached; fresh(t) {
		gen := a.generation
		a.mu.Unlock()
		return t, gen, nil
	}
	if ctx.Err() != nil { // gone already: no request on its behalf
		a.mu.Unlock()
		return nil, 0, tokenWaitError(ctx)
	}
	f := a.inflight
	if f == nil {
		// The request's context carries the HTTP client (with the X.509 client certificate, when
		// the binding has one) and is not the caller's: others may come to wait for it too.
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), oauth2.HTTPClient, a.cred.client))
		f = &tokenFetch{cred: a.cred, done: make(chan struct{}), cancel: cancel}
		a.inflight = f
		go a.fetch(ctx, f)
	}
	f.waiters++
	a.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, 0, tokenError(ctx, f.err)
		}
		return f.token, f.gen, nil
	case <-ctx.Done():
		a.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody wants this token any more: stop the request; the next caller starts afresh.
			f.cancel()
			if a.inflight == f {
				a.inflight = nil
			}
		}
		a.mu.Unlock()
		return nil, 0, tokenWaitError(ctx)
	}
}

// fetch makes the token request of f, caches its token if f's binding is still the one in use,
// and wakes the callers waiting for it.
func (a *authenticator) fetch(ctx context.Context, f *tokenFetch) {
	defer f.cancel()
	t, err := f.cred.config.Token(ctx)
	a.mu.Lock()
	if a.inflight == f {
		a.inflight = nil
	}
	current := f.cred == a.cred
	if err == nil && current {
		a.generation++
		a.cached, f.gen = t, a.generation
	}
	f.token, f.err = t, err
	a.mu.Unlock()
	if !current {
		f.cred.release() // replaced while this request ran (see setBinding)
	}
	close(f.done)
}

// invalidate drops the cached token of generation gen, so the next call fetches a new one. Many
// callers that saw the same rejected token cause a single replacement, and a token that was
// never cached (generation 0) or has been replaced already drops nothing.
func (a *authenticator) invalidate(gen uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen != 0 && gen == a.generation {
		a.cached = nil
		a.generation++
	}
}

// tokenWaitError is the error of a caller whose context ended before it had a token.
func tokenWaitError(ctx context.Context) error {
	return &RequestError{Service: ServiceXSUAA, Op: "waiting for a token from XSUAA", Err: context.Cause(ctx)}
}

// tokenError turns what oauth2 returns into an error that names the cause without any secret.
func tokenError(ctx context.Context, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		ae := &AuthError{Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			ae.Status = re.Response.StatusCode
		}
		return ae
	}
	// Transport errors (*url.Error) name the token URL, which holds no secret.
	return newRequestError(ctx, ServiceXSUAA, "requesting a token from XSUAA", err)
}

// clientCertificate parses the binding's X.509 certificate and key for the TLS handshake.
func clientCertificate(b *binding.Binding) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair([]byte(b.Certificate), []byte(b.Key.Reveal()))
	if err != nil {
		// The parse error of crypto/tls never quotes key material.
		return tls.Certificate{}, fmt.Errorf("binding %q: the certificate and key do not form a usable TLS key pair: %w", b.Name, err)
	}
	return cert, nil
}
