package simulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// An Identity is a second fake XSUAA, for the MCP server's own clients rather than for the
// Connectivity service: the xsuaa instance an app on SAP BTP is bound to so that only users and
// clients holding its scope may call it. It signs RS256 JWTs with RSA keys it generates, serves
// their public halves at /token_keys (JWKS, as XSUAA does), rotates keys on demand, issues
// tokens with any claims (valid, expired, of another audience, …) and hands out the service key
// and VCAP_SERVICES entry of the binding.
//
// Signing here is the simulator playing SAP; the server verifies with a maintained JWT library.
type Identity struct {
	opts IdentityOptions
	url  string
	srv  *http.Server

	mu         sync.Mutex
	keys       []signingKey // published at /token_keys; the last one signs
	stray      signingKey   // never published: signs tokens whose signature cannot verify
	keyFetches int
	keysStatus int // non-zero: /token_keys answers this status instead of the keys
}

// IdentityOptions configure an Identity. The zero value is ready to use.
type IdentityOptions struct {
	// XSAppName is the application name of the xsuaa instance, as XSUAA reports it (with the
	// "!t" suffix); scopes are prefixed with it. Default "btp-connectivity-mcp!t1234".
	XSAppName string
	// ClientID and ClientSecret are the binding's OAuth client; default ClientID
	// "sb-" + XSAppName and a random secret.
	ClientID, ClientSecret string
}

// IdentityKeysPath is where an Identity serves its public keys (JWKS), below its URL.
const IdentityKeysPath = "/token_keys"

// signingKey is an RSA key and its key ID.
type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// newSigningKey generates a 2048-bit RSA key with a fresh key ID.
func newSigningKey() (signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKey{}, fmt.Errorf("simulator: generating an RSA key: %w", err)
	}
	return signingKey{kid: "key-" + strings.ToLower(rand.Text()[:12]), key: key}, nil
}

// NewIdentity starts an Identity on 127.0.0.1, on a random port, with one signing key. Call
// Close when done.
func NewIdentity(opts IdentityOptions) (*Identity, error) {
	if opts.XSAppName == "" {
		opts.XSAppName = "btp-connectivity-mcp!t1234"
	}
	if opts.ClientID == "" {
		opts.ClientID = "sb-" + opts.XSAppName
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = randomSecret()
	}
	first, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	stray, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	id := &Identity{opts: opts, keys: []signingKey{first}, stray: stray}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+IdentityKeysPath, id.serveKeys)
	mux.HandleFunc("POST "+TokenPath, id.serveToken)
	id.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulator: listen: %w", err)
	}
	id.url = "http://" + ln.Addr().String()
	go func() { _ = id.srv.Serve(ln) }()
	return id, nil
}

// URL is the Identity's base URL: the url field of its service key.
func (id *Identity) URL() string { return id.url }

// Close stops the Identity.
func (id *Identity) Close() { _ = id.srv.Close() }

// XSAppName is the xsuaa instance's application name.
func (id *Identity) XSAppName() string { return id.opts.XSAppName }

// ClientID is the binding's OAuth client ID.
func (id *Identity) ClientID() string { return id.opts.ClientID }

// ReadScope is the scope the MCP server requires by default: "<xsappname>.Read".
func (id *Identity) ReadScope() string { return id.opts.XSAppName + ".Read" }

// RotateKey adds a new signing key (a new kid) that signs every token from now on; the previous
// keys stay published, as XSUAA keeps them while tokens they signed are valid. It returns the
// new key ID.
func (id *Identity) RotateKey() (string, error) {
	k, err := newSigningKey()
	if err != nil {
		return "", err
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	id.keys = append(id.keys, k)
	return k.kid, nil
}

// RemoveKey stops publishing the key kid at /token_keys (as XSUAA does once its tokens have
// expired, or after a compromise); tokens it signed can no longer verify. The signing key, the
// last one, cannot be removed. It reports whether kid was published.
func (id *Identity) RemoveKey(kid string) bool {
	id.mu.Lock()
	defer id.mu.Unlock()
	for i, k := range id.keys[:len(id.keys)-1] {
		if k.kid == kid {
			id.keys = append(id.keys[:i], id.keys[i+1:]...)
			return true
		}
	}
	return false
}

// KeyIDs are the key IDs published at /token_keys, the signing key's last.
func (id *Identity) KeyIDs() []string {
	id.mu.Lock()
	defer id.mu.Unlock()
	kids := make([]string, 0, len(id.keys))
	for _, k := range id.keys {
		kids = append(kids, k.kid)
	}
	return kids
}

// FailKeys makes /token_keys answer status (e.g. 503) from now on; 0 serves the keys again.
func (id *Identity) FailKeys(status int) {
	id.mu.Lock()
	defer id.mu.Unlock()
	id.keysStatus = status
}

// KeyFetches counts the requests for /token_keys so far.
func (id *Identity) KeyFetches() int {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.keyFetches
}

// Claims are the claims of a token an Identity issues. Zero times and nil slices are left out
// of the token (so a test can issue a token without exp); DefaultClaims fills in a valid set.
type Claims struct {
	UserName  string   // user_name; empty for a client-credentials token
	ClientID  string   // client_id, cid and azp
	Audience  []string // aud
	Scopes    []string // scope
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	Extra     map[string]any // more claims, overriding the ones above
	// Header holds more parameters of the token's protected header (e.g. "crit"), overriding
	// alg, typ, kid and jku.
	Header map[string]any
}

// DefaultClaims are the claims of a valid user token: user_name "alice@example.com", the
// binding's client ID, its xsappname as audience, the Read scope, valid for an hour from now.
func (id *Identity) DefaultClaims() Claims {
	now := time.Now()
	return Claims{
		UserName: "alice@example.com", ClientID: id.opts.ClientID,
		Audience: []string{id.opts.XSAppName}, Scopes: []string{"openid", id.ReadScope()},
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(time.Hour),
	}
}

// Token returns a JWT with claims c, signed with the current key (RS256, its kid in the header).
func (id *Identity) Token(c Claims) (string, error) {
	id.mu.Lock()
	k := id.keys[len(id.keys)-1]
	id.mu.Unlock()
	return id.sign(k, c)
}

// ForgedToken returns a JWT with claims c whose header names the current key but which another,
// never published key signed: its signature does not verify.
func (id *Identity) ForgedToken(c Claims) (string, error) {
	id.mu.Lock()
	k := signingKey{kid: id.keys[len(id.keys)-1].kid, key: id.stray.key}
	id.mu.Unlock()
	return id.sign(k, c)
}

// sign encodes c and signs it with k.
func (id *Identity) sign(k signingKey, c Claims) (string, error) {
	claims := map[string]any{
		"jti": strings.ToLower(rand.Text()), "iss": id.url + TokenPath, "zid": "sim-zone",
		"grant_type": "client_credentials",
	}
	if c.UserName != "" {
		claims["user_name"], claims["grant_type"] = c.UserName, "urn:ietf:params:oauth:grant-type:jwt-bearer"
		claims["sub"] = c.UserName
	}
	if c.ClientID != "" {
		claims["client_id"], claims["cid"], claims["azp"] = c.ClientID, c.ClientID, c.ClientID
		if c.UserName == "" {
			claims["sub"] = c.ClientID
		}
	}
	if c.Audience != nil {
		claims["aud"] = c.Audience
	}
	if c.Scopes != nil {
		claims["scope"] = c.Scopes
	}
	for name, t := range map[string]time.Time{"iat": c.IssuedAt, "nbf": c.NotBefore, "exp": c.ExpiresAt} {
		if !t.IsZero() {
			claims[name] = t.Unix()
		}
	}
	for name, v := range c.Extra {
		claims[name] = v
	}
	enc := base64.RawURLEncoding
	hdr := map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.kid, "jku": id.url + IdentityKeysPath}
	for name, v := range c.Header {
		hdr[name] = v
	}
	header := encodeJSON(hdr)
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(encodeJSON(claims))
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("simulator: signing a token: %w", err)
	}
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// serveKeys answers GET /token_keys with the published public keys, as XSUAA does.
func (id *Identity) serveKeys(w http.ResponseWriter, _ *http.Request) {
	id.mu.Lock()
	id.keyFetches++
	if status := id.keysStatus; status != 0 {
		id.mu.Unlock()
		http.Error(w, "token keys unavailable", status)
		return
	}
	keys := make([]map[string]string, 0, len(id.keys))
	for _, k := range id.keys {
		enc := base64.RawURLEncoding
		keys = append(keys, map[string]string{
			"kty": "RSA", "kid": k.kid, "alg": "RS256", "use": "sig",
			"n": enc.EncodeToString(k.key.N.Bytes()),
			"e": enc.EncodeToString(big.NewInt(int64(k.key.E)).Bytes()),
		})
	}
	id.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(encodeJSON(map[string]any{"keys": keys}))
}

// serveToken answers POST /oauth/token for the binding's own client (client credentials, in the
// form or HTTP Basic) with a token that carries the Read scope and no user.
func (id *Identity) serveToken(w http.ResponseWriter, r *http.Request) {
	user, pass, basic := r.BasicAuth()
	if !basic {
		user, pass = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	ok := subtle.ConstantTimeCompare([]byte(user), []byte(id.opts.ClientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(id.opts.ClientSecret)) == 1
	w.Header().Set("Content-Type", "application/json")
	if !ok || r.PostFormValue("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(encodeJSON(map[string]string{"error": "invalid_client", "error_description": "Bad credentials"}))
		return
	}
	c := id.DefaultClaims()
	c.UserName = ""
	token, err := id.Token(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(encodeJSON(map[string]any{"access_token": token, "token_type": "bearer", "expires_in": 3599, "scope": strings.Join(c.Scopes, " ")}))
}

// ServiceKey returns the credentials of the xsuaa binding (plan application), as in a service
// key or the credentials of its VCAP_SERVICES entry.
func (id *Identity) ServiceKey() map[string]any {
	host := strings.TrimPrefix(id.url, "http://")
	return map[string]any{
		"tenantmode": "dedicated", "sburl": id.url, "subaccountid": "sim-subaccount",
		"clientid": id.opts.ClientID, "clientsecret": id.opts.ClientSecret, "xsappname": id.opts.XSAppName,
		"url": id.url, "uaadomain": host, "verificationkey": "", "apiurl": id.url, "identityzone": "sim",
		"identityzoneid": "sim-zone", "tenantid": "sim-zone", "zoneid": "sim-zone", "credential-type": "binding-secret",
	}
}

// ServiceKeyJSON is ServiceKey as a JSON document (a `cf service-key` file).
func (id *Identity) ServiceKeyJSON() []byte { return encodeJSON(id.ServiceKey()) }

// VCAPEntry is the binding's entry in VCAP_SERVICES["xsuaa"].
func (id *Identity) VCAPEntry() map[string]any {
	return map[string]any{
		"label": "xsuaa", "provider": nil, "plan": "application", "name": "btp-connectivity-mcp-xsuaa",
		"tags": []string{"xsuaa"}, "instance_name": "btp-connectivity-mcp-xsuaa",
		"binding_guid": derivedGUID(id.opts.XSAppName, "binding"), "instance_guid": derivedGUID(id.opts.XSAppName, "instance"),
		"credentials": id.ServiceKey(), "syslog_drain_url": nil, "volume_mounts": []any{},
	}
}

// WithVCAP adds the binding's entry to a VCAP_SERVICES document (for example one from
// Server.VCAPServices) and returns the result; an empty document starts a new one.
func (id *Identity) WithVCAP(vcap string) (string, error) {
	doc := map[string]any{}
	if vcap != "" {
		if err := json.Unmarshal([]byte(vcap), &doc); err != nil {
			return "", fmt.Errorf("simulator: VCAP_SERVICES is not a JSON object: %w", err)
		}
	}
	entries, _ := doc["xsuaa"].([]any)
	doc["xsuaa"] = append(entries, id.VCAPEntry())
	return string(encodeJSON(doc)), nil
}
