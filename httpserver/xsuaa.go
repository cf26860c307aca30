package httpserver

import (
	"cmp"
	"context"
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
)

// XSUAABinding is the part of an xsuaa service binding (its credentials) the server needs to
// verify tokens: where the keys are, and whom tokens must be for.
type XSUAABinding struct {
	URL       string `json:"url"`       // the XSUAA tenant, e.g. https://sub.authentication.eu10.hana.ondemand.com
	ClientID  string `json:"clientid"`  // the binding's OAuth client
	XSAppName string `json:"xsappname"` // the application name; scopes are <xsappname>.<name>
	UAADomain string `json:"uaadomain"` // e.g. authentication.eu10.hana.ondemand.com
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
		for name, dst := range map[string]*string{"url": &b.URL, "clientid": &b.ClientID, "xsappname": &b.XSAppName, "uaadomain": &b.UAADomain} {
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
	// Leeway allowed on exp and nbf; default DefaultLeeway.
	Leeway time.Duration
	// RefreshInterval is how often, at most, an unknown kid makes the keys be fetched again;
	// default DefaultRefreshInterval.
	RefreshInterval time.Duration
	Logger          *slog.Logger
}

// XSUAA verifies the JWTs XSUAA issued for one binding: RS256 signature with a key from
// <url>/token_keys (cached; an unknown kid fetches them again, at most once per
// RefreshInterval), exp and nbf with Leeway, aud naming the binding's xsappname or client ID, and
// the required scope. Verification is jwx's; nothing here touches the cryptography.
type XSUAA struct {
	opts    XSUAAOptions
	keysURL string

	fetchMu   sync.Mutex // one fetch at a time; waiting callers use its result
	mu        sync.Mutex
	keys      jwk.Set
	fetchedAt time.Time
}

// NewXSUAA returns a verifier for opts.Binding. No network I/O happens until the first token.
func NewXSUAA(opts XSUAAOptions) *XSUAA {
	opts.Scope = cmp.Or(opts.Scope, opts.Binding.XSAppName+".Read")
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	opts.Leeway = cmp.Or(opts.Leeway, DefaultLeeway)
	opts.RefreshInterval = cmp.Or(opts.RefreshInterval, DefaultRefreshInterval)
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
	tok, err := jwt.Parse([]byte(token), jwt.WithKeyProvider(provider), jwt.WithValidate(true),
		jwt.WithAcceptableSkew(x.opts.Leeway), jwt.WithContext(ctx))
	switch {
	case errors.Is(keysErr, ErrKeysUnavailable):
		return Identity{}, keysErr
	case err != nil:
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
	}
	if _, ok := tok.Expiration(); !ok {
		return Identity{}, fmt.Errorf("%w: it has no expiry (exp)", ErrInvalidToken)
	}
	aud, _ := tok.Audience()
	if !slices.Contains(aud, x.opts.Binding.XSAppName) && !slices.Contains(aud, x.opts.Binding.ClientID) {
		return Identity{}, fmt.Errorf("%w: it is not meant for this server (aud)", ErrInvalidToken)
	}
	var id Identity
	_ = tok.Get("user_name", &id.UserName)
	_ = tok.Get("client_id", &id.ClientID)
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

// reason turns a jwx error into a short reason for the client; never the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "it has expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "it is not valid yet (nbf)"
	case errors.Is(err, jwt.ParseError()), errors.Is(err, jws.VerifyError()):
		return "it is malformed or its signature does not verify"
	}
	return "it does not verify"
}

// key returns the public key kid names, fetching the keys when there are none yet or kid is
// unknown and the last fetch is at least RefreshInterval ago.
func (x *XSUAA) key(ctx context.Context, kid string) (jwk.Key, error) {
	if k, ok := x.lookup(kid); ok {
		return k, nil
	}
	x.fetchMu.Lock()
	defer x.fetchMu.Unlock()
	if k, ok := x.lookup(kid); ok { // another caller fetched meanwhile
		return k, nil
	}
	x.mu.Lock()
	recent := x.keys != nil && time.Since(x.fetchedAt) < x.opts.RefreshInterval
	x.mu.Unlock()
	if recent {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	set, err := jwk.Fetch(ctx, x.keysURL, jwk.WithHTTPClient(x.opts.HTTPClient))
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %w", ErrKeysUnavailable, x.keysURL, err)
	}
	x.mu.Lock()
	x.keys, x.fetchedAt = set, time.Now()
	x.mu.Unlock()
	x.opts.Logger.Info("token keys fetched", "url", x.keysURL, "keys", set.Len())
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

// lookup finds kid among the cached keys.
func (x *XSUAA) lookup(kid string) (jwk.Key, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.keys == nil {
		return nil, false
	}
	return x.keys.LookupKeyID(kid)
}
