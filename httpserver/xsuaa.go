package httpserver

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults of XSUAAOptions.
const (
	DefaultLeeway          = 60 * time.Second
	DefaultRefreshInterval = time.Minute
	// DefaultKeysTTL is how long fetched keys are used before they are fetched again, so that a
	// key XSUAA stopped publishing stops verifying tokens (SAP's own libraries cache keys for
	// about as long).
	DefaultKeysTTL = 10 * time.Minute
	// DefaultFailureTTL is how long a failed fetch of the keys is remembered: meanwhile no
	// request waits for, or causes, another fetch.
	DefaultFailureTTL = 5 * time.Second
)

// XSUAABinding is the part of an xsuaa service binding (its credentials) the server needs to
// verify tokens: where the keys are, and whom tokens must be for.
type XSUAABinding struct {
	URL       string `json:"url"`       // the XSUAA tenant, e.g. https://sub.authentication.eu10.hana.ondemand.com
	ClientID  string `json:"clientid"`  // the binding's OAuth client
	XSAppName string `json:"xsappname"` // the application name; scopes are <xsappname>.<name>
	UAADomain string `json:"uaadomain"` // e.g. authentication.eu10.hana.ondemand.com
	// IdentityZoneID (or ZoneID, in newer keys) is the identity zone (subaccount tenant) of
	// the instance; tokens must name it in zid unless TenantMode is "shared" (a multi-tenant
	// application, whose tokens come from every subscriber's zone).
	IdentityZoneID string `json:"identityzoneid"`
	ZoneID         string `json:"zoneid"`
	TenantMode     string `json:"tenantmode"`
}

// zone is the identity zone tokens must name in zid, or "" when any zone may.
func (b *XSUAABinding) zone() string {
	if strings.EqualFold(b.TenantMode, "shared") {
		return ""
	}
	return cmp.Or(b.IdentityZoneID, b.ZoneID)
}

// validate says what is missing, so that the user can fix the binding.
func (b *XSUAABinding) validate(source string) error {
	var missing []string
	for name, v := range map[string]string{"url": b.URL, "clientid": b.ClientID, "xsappname": b.XSAppName} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("%s: the xsuaa credentials lack %s; use the service key of an xsuaa instance (plan application), e.g. `cf service-key NAME KEY`", source, strings.Join(missing, ", "))
	}
	b.URL = strings.TrimRight(b.URL, "/")
	return nil
}

// XSUAAFromVCAP returns the first xsuaa binding (label xsuaa) of a VCAP_SERVICES document, or
// nil when it holds none.
func XSUAAFromVCAP(vcap string) (*XSUAABinding, error) {
	if strings.TrimSpace(vcap) == "" {
		return nil, nil
	}
	var doc map[string][]struct {
		Label       string          `json:"label"`
		Name        string          `json:"name"`
		Credentials json.RawMessage `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(vcap), &doc); err != nil {
		return nil, nil // malformed VCAP_SERVICES is reported by the binding loader; no xsuaa here
	}
	for _, e := range doc["xsuaa"] {
		if e.Label != "xsuaa" {
			continue
		}
		var b XSUAABinding
		if err := json.Unmarshal(e.Credentials, &b); err != nil {
			return nil, fmt.Errorf("VCAP_SERVICES xsuaa binding %q: credentials are not an object: %w", e.Name, err)
		}
		return &b, b.validate(fmt.Sprintf("VCAP_SERVICES xsuaa binding %q", e.Name))
	}
	return nil, nil
}

// XSUAAFromFile reads an xsuaa service key: a JSON file (as `cf service-key` prints it,
// optionally wrapped in {"credentials": …}) or a Kubernetes binding folder of the SAP BTP
// service operator (one file per credential: url, clientid, xsappname, uaadomain, …).
func XSUAAFromFile(path string) (*XSUAABinding, error) {
	source := "--xsuaa-binding " + path
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		var b XSUAABinding
		for name, dst := range map[string]*string{"url": &b.URL, "clientid": &b.ClientID, "xsappname": &b.XSAppName, "uaadomain": &b.UAADomain,
			"identityzoneid": &b.IdentityZoneID, "zoneid": &b.ZoneID, "tenantmode": &b.TenantMode} {
			if data, err := os.ReadFile(filepath.Join(path, name)); err == nil {
				*dst = strings.TrimSpace(string(data))
			}
		}
		return &b, b.validate(source)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--xsuaa-binding: %w", err)
	}
	var wrapped struct {
		Credentials *XSUAABinding `json:"credentials"`
	}
	var b XSUAABinding
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("%s is not a JSON service key: %w", source, err)
	}
	if wrapped.Credentials != nil {
		b = *wrapped.Credentials
	} else if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s is not a JSON service key: %w", source, err)
	}
	return &b, b.validate(source)
}

// XSUAAOptions configure an XSUAA verifier.
type XSUAAOptions struct {
	Binding *XSUAABinding
	// Scope every token must carry; default "<xsappname>.Read".
	Scope string
	// HTTPClient fetches the keys; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Leeway allowed on exp, nbf and iat; default DefaultLeeway.
	Leeway time.Duration
	// RefreshInterval is how often, at most, an unknown kid makes the keys be fetched again;
	// default DefaultRefreshInterval.
	RefreshInterval time.Duration
	// KeysTTL is how long fetched keys are used before they are fetched again; default
	// DefaultKeysTTL.
	KeysTTL time.Duration
	// FailureTTL is how long a failed fetch is remembered; default DefaultFailureTTL.
	FailureTTL time.Duration
	Logger     *slog.Logger
}

// XSUAA verifies the JWTs XSUAA issued for one binding: RS256 signature with a key from
// <url>/token_keys, no critical header parameter (crit), numeric exp (required), nbf and iat
// checked with Leeway, aud naming the binding's xsappname or client ID, zid naming the
// binding's identity zone (unless the binding is multi-tenant), and the required scope.
// Verification is jwx's; nothing here touches the cryptography.
//
// The keys are cached for KeysTTL; an unknown kid fetches them again at most once per
// RefreshInterval. Concurrent callers share one fetch; a failed fetch is remembered for
// FailureTTL, during which callers are answered at once (ErrKeysUnavailable, or the last keys
// fetched when they hold the kid) instead of waiting for another fetch.
type XSUAA struct {
	opts    XSUAAOptions
	keysURL string

	mu        sync.Mutex
	keys      jwk.Set   // the last keys fetched; nil before the first success
	fetchedAt time.Time // of keys
	failedAt  time.Time // of the last failed fetch, when it came after fetchedAt
	failure   error
	flight    *keyFetch // the fetch in progress, or nil
}

// keyFetch is one fetch of the keys that any number of callers wait for.
type keyFetch struct {
	done chan struct{} // closed when set or err is known
	set  jwk.Set
	err  error
}

// NewXSUAA returns a verifier for opts.Binding. No network I/O happens until the first token.
func NewXSUAA(opts XSUAAOptions) *XSUAA {
	opts.Scope = cmp.Or(opts.Scope, opts.Binding.XSAppName+".Read")
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	opts.Leeway = cmp.Or(opts.Leeway, DefaultLeeway)
	opts.RefreshInterval = cmp.Or(opts.RefreshInterval, DefaultRefreshInterval)
	opts.KeysTTL = cmp.Or(opts.KeysTTL, DefaultKeysTTL)
	opts.FailureTTL = cmp.Or(opts.FailureTTL, DefaultFailureTTL)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &XSUAA{opts: opts, keysURL: opts.Binding.URL + "/token_keys"}
}

// Scope is the scope every token must carry.
func (x *XSUAA) Scope() string { return x.opts.Scope }

// Issuer is the XSUAA URL (the authorization server of the protected-resource metadata).
func (x *XSUAA) Issuer() string { return x.opts.Binding.URL }

// Verify checks token and returns who it names. Errors: ErrInvalidToken (wrapped, with the
// reason), *ScopeError, ErrKeysUnavailable.
func (x *XSUAA) Verify(ctx context.Context, token string) (Identity, error) {
	if err := checkHeader(token); err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	var keysErr error
	provider := jws.KeyProviderFunc(func(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		hdr := sig.ProtectedHeaders()
		if alg, _ := hdr.Algorithm(); alg != jwa.RS256() {
			return fmt.Errorf("algorithm %q is not RS256", alg)
		}
		kid, _ := hdr.KeyID()
		key, err := x.key(ctx, kid)
		if err != nil {
			keysErr = err
			return err
		}
		sink.Key(jwa.RS256(), key)
		return nil
	})
	payload, err := jws.Verify([]byte(token), jws.WithKeyProvider(provider), jws.WithCritValidation(true), jws.WithContext(ctx))
	switch {
	case errors.Is(keysErr, ErrKeysUnavailable):
		return Identity{}, keysErr
	case keysErr != nil:
		return Identity{}, fmt.Errorf("%w: it is signed with a key (kid) the authorization server does not publish", ErrInvalidToken)
	case err != nil:
		return Identity{}, fmt.Errorf("%w: it is malformed or its signature does not verify", ErrInvalidToken)
	}
	if err := checkTimes(payload); err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	tok, err := jwt.ParseInsecure(payload) // the signature is verified above
	if err != nil {
		return Identity{}, fmt.Errorf("%w: its claims are malformed", ErrInvalidToken)
	}
	if err := jwt.Validate(tok, jwt.WithAcceptableSkew(x.opts.Leeway), jwt.WithContext(ctx)); err != nil {
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
	}
	aud, _ := tok.Audience()
	if !slices.Contains(aud, x.opts.Binding.XSAppName) && !slices.Contains(aud, x.opts.Binding.ClientID) {
		return Identity{}, fmt.Errorf("%w: it is not meant for this server (aud)", ErrInvalidToken)
	}
	var id Identity
	_ = tok.Get("user_name", &id.UserName)
	_ = tok.Get("client_id", &id.ClientID)
	_ = tok.Get("zid", &id.Zone)
	if zone := x.opts.Binding.zone(); zone != "" && id.Zone != zone {
		return Identity{}, fmt.Errorf("%w: it was issued for another identity zone (zid)", ErrInvalidToken)
	}
	var raw any
	_ = tok.Get("scope", &raw)
	var scopes []string
	switch v := raw.(type) {
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				scopes = append(scopes, s)
			}
		}
	case []string:
		scopes = v
	case string: // some issuers send one space-separated string
		scopes = strings.Fields(v)
	}
	if !slices.Contains(scopes, x.opts.Scope) {
		return id, &ScopeError{Scope: x.opts.Scope}
	}
	return id, nil
}

// checkHeader refuses what the signature check would not: a token that is not in the compact
// form, and any critical header parameter (this server understands no JWS extension, and RFC
// 7515 §4.1.11 says to refuse what it does not understand).
func checkHeader(token string) error {
	h, _, ok := strings.Cut(token, ".")
	if !ok || strings.Count(token, ".") != 2 {
		return errors.New("it is malformed or its signature does not verify")
	}
	data, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return errors.New("it is malformed or its signature does not verify")
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data, &hdr); err != nil {
		return errors.New("it is malformed or its signature does not verify")
	}
	if _, ok := hdr["crit"]; ok {
		return errors.New("it names critical header parameters (crit) this server does not understand")
	}
	return nil
}

// checkTimes requires exp, and exp, nbf and iat to be JSON numbers (RFC 7519 NumericDate): jwx
// would also read a string as a date.
func checkTimes(payload []byte) error {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return errors.New("its claims are malformed")
	}
	if _, ok := claims["exp"]; !ok {
		return errors.New("it has no expiry (exp)")
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		var n json.Number
		if json.Unmarshal(v, &n) != nil || len(v) == 0 || v[0] == '"' {
			return fmt.Errorf("its %s is not a number of seconds", name)
		}
	}
	return nil
}

// reason turns a jwx validation error into a short reason for the client; never the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "it has expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "it is not valid yet (nbf)"
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return "it was issued in the future (iat)"
	}
	return "it does not verify"
}

// key returns the public key kid names. Fresh keys (younger than KeysTTL) that hold kid answer
// at once; an unknown kid fetches the keys again once RefreshInterval has passed since the last
// fetch; stale keys are fetched again. Callers share the fetch in progress; while a failure is
// remembered, nobody waits: the last keys answer if they hold kid, else ErrKeysUnavailable.
func (x *XSUAA) key(ctx context.Context, kid string) (jwk.Key, error) {
	x.mu.Lock()
	now := time.Now()
	var cached jwk.Key
	if x.keys != nil {
		cached, _ = x.keys.LookupKeyID(kid)
	}
	age := now.Sub(x.fetchedAt)
	fresh := x.keys != nil && age < x.opts.KeysTTL
	switch {
	case fresh && cached != nil:
		x.mu.Unlock()
		return cached, nil
	case fresh && age < x.opts.RefreshInterval:
		x.mu.Unlock()
		return nil, fmt.Errorf("unknown key id %q", kid)
	case x.failure != nil && now.Sub(x.failedAt) < x.opts.FailureTTL:
		err := x.failure
		x.mu.Unlock()
		if cached != nil {
			return cached, nil // XSUAA is down: the last keys stay in use
		}
		return nil, err
	}
	f := x.flight
	if f == nil {
		f = &keyFetch{done: make(chan struct{})}
		x.flight = f
		go x.fetch(context.WithoutCancel(ctx), f)
	}
	x.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, ctx.Err())
	}
	if f.err != nil {
		if cached != nil {
			return cached, nil
		}
		return nil, f.err
	}
	if k, ok := f.set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

// fetch fetches the keys for f and records the outcome.
func (x *XSUAA) fetch(ctx context.Context, f *keyFetch) {
	set, err := jwk.Fetch(ctx, x.keysURL, jwk.WithHTTPClient(x.opts.HTTPClient))
	x.mu.Lock()
	if err != nil {
		f.err = fmt.Errorf("%w from %s: %w", ErrKeysUnavailable, x.keysURL, err)
		x.failure, x.failedAt = f.err, time.Now()
	} else {
		f.set = set
		x.keys, x.fetchedAt, x.failure = set, time.Now(), nil
	}
	x.flight = nil
	x.mu.Unlock()
	close(f.done)
	if err != nil {
		x.opts.Logger.Warn("cannot fetch the token keys: tokens are verified with the last keys fetched, if any, and the fetch is retried on demand",
			"url", x.keysURL, "retry_after", x.opts.FailureTTL, "error", err)
		return
	}
	x.opts.Logger.Info("token keys fetched", "url", x.keysURL, "keys", set.Len())
}
