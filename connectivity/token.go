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

// authenticator hands out XSUAA access tokens for one binding. It relies on oauth2's
// ReuseTokenSource for caching, refresh before expiry and single-flight fetching (the source
// holds a lock while it fetches), and adds what that source cannot do: drop a token the API
// rejected, and swap in a rotated binding.
type authenticator struct {
	transport func(b *binding.Binding) (*http.Client, error) // builds the token endpoint's HTTP client

	mu         sync.Mutex
	bound      *binding.Binding
	source     *tokenSource
	generation uint64 // bumped each time source is replaced
}

// tokenSource is one caching token source and the context its token requests run in. Once the
// source is retired (replaced) and no caller waits for it any more, the context is cancelled, so
// that a token request nobody wants (the callers gave up or were cancelled) does not go on.
type tokenSource struct {
	oauth2.TokenSource
	cancel  context.CancelFunc
	waiters int  // callers of token waiting for this source; guarded by authenticator.mu
	retired bool // replaced by another source; guarded by authenticator.mu
}

func newAuthenticator(b *binding.Binding, transport func(*binding.Binding) (*http.Client, error)) (*authenticator, error) {
	a := &authenticator{transport: transport}
	if err := a.setBinding(b); err != nil {
		return nil, err
	}
	return a, nil
}

// newSource builds a caching token source for b.
func (a *authenticator) newSource(b *binding.Binding) (*tokenSource, error) {
	client, err := a.transport(b)
	if err != nil {
		return nil, err
	}
	cfg := &clientcredentials.Config{
		ClientID:     b.ClientID,
		ClientSecret: b.ClientSecret.Reveal(),
		TokenURL:     b.TokenURL(),
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	// The context given to TokenSource is kept for every later fetch: it carries the HTTP client
	// (with the X.509 client certificate, when the binding has one) and must not be a request's.
	// It ends when the source is retired and unwanted (see tokenSource).
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), oauth2.HTTPClient, client))
	return &tokenSource{
		TokenSource: oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), tokenEarlyExpiry),
		cancel:      cancel,
	}, nil
}

// retire marks the current source as replaced; a.mu must be held.
func (a *authenticator) retire() {
	if old := a.source; old != nil {
		old.retired = true
		if old.waiters == 0 {
			old.cancel()
		}
	}
}

// release ends one caller's wait for src.
func (a *authenticator) release(src *tokenSource) {
	a.mu.Lock()
	defer a.mu.Unlock()
	src.waiters--
	if src.waiters == 0 && src.retired {
		src.cancel()
	}
}

// setBinding replaces the binding and starts a fresh token cache for it.
func (a *authenticator) setBinding(b *binding.Binding) error {
	source, err := a.newSource(b)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.retire()
	a.bound = b
	a.source = source
	a.generation++
	return nil
}

// current returns the binding in use.
func (a *authenticator) current() *binding.Binding {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bound
}

// token returns a valid access token and the generation of the cache it came from. It returns
// when ctx ends even if the token endpoint hangs; the fetch itself is bounded by the token HTTP
// client's timeout, and cancelled when every caller waiting for it has gone.
func (a *authenticator) token(ctx context.Context) (*oauth2.Token, uint64, error) {
	a.mu.Lock()
	source, gen := a.source, a.generation
	source.waiters++
	a.mu.Unlock()

	type result struct {
		token *oauth2.Token
		err   error
	}
	done := make(chan result, 1)
	go func() {
		t, err := source.Token()
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		a.release(source)
		if r.err != nil {
			return nil, gen, tokenError(ctx, r.err)
		}
		return r.token, gen, nil
	case <-ctx.Done():
		// The abandoned fetch keeps its source locked until the token endpoint answers; retire
		// the source so the next call does not queue behind it. The fetch itself is cancelled
		// once no other caller waits for it.
		a.invalidate(gen)
		a.release(source)
		return nil, gen, &RequestError{Service: ServiceXSUAA, Op: "waiting for a token from XSUAA", Err: context.Cause(ctx)}
	}
}

// invalidate drops the cached token of generation gen, so the next call fetches a new one. Many
// callers that saw the same rejected token cause a single replacement.
func (a *authenticator) invalidate(gen uint64) {
	a.mu.Lock()
	b, stale := a.bound, gen == a.generation
	a.mu.Unlock()
	if !stale {
		return
	}
	source, err := a.newSource(b) // cannot fail in practice: it succeeded for b before
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.generation == gen {
		a.retire()
		a.source = source
		a.generation++
	} else {
		source.cancel() // lost the race: another caller replaced the source first
	}
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
