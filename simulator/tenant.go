package simulator

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// The default tenant's name (its VCAP_SERVICES entry and Kyma instance name) and subdomain.
const (
	defaultTenantName = "conn-api"
	defaultSubdomain  = "acme-prod"
)

// TenantOptions describe a tenant: one subaccount with its own Connectivity binding. Empty fields
// get defaults: Name "conn-api-N" (N tenants so far), Subdomain Name, ClientID derived from Name, a
// random ClientSecret shaped like XSUAA's (with "$", "-" and "=", which clients must encode).
type TenantOptions struct {
	// Name names the binding and seeds its IDs (equal names give equal bindings); Subdomain is the
	// identityzone; ClientID must be unique on the server.
	Name, Subdomain, ClientID, ClientSecret string
	// Landscape is what the info endpoint returns to the tenant's tokens; nil means
	// SampleLandscape(), a non-nil empty slice an empty array.
	Landscape []Agent
}

// Tenant is one simulated subaccount on a Server. All methods are safe for concurrent use.
type Tenant struct {
	srv                                             *Server
	name, clientID, subdomain, subaccountID, zoneID string

	requests      [2]atomic.Int64 // by Target
	tokenFailures atomic.Int64

	certMu sync.Mutex  // held while issuing (slow: RSA key generation)
	client *clientCert // current X.509 client credential, under certMu; nil until first asked for

	mu        sync.Mutex
	landscape []byte
	script    [][]byte // landscapes served in turn, the last one from then on (SetLandscapes)
	reads     int      // API answers served from script
	secret    string
	issued    []string
	faults    [2][]*Fault // pending, by Target
}

// AddTenant adds a tenant to the server. It fails if the name or client ID is taken.
func (s *Server) AddTenant(o TenantOptions) (*Tenant, error) {
	if o.Landscape == nil {
		o.Landscape = SampleLandscape()
	}
	o.ClientSecret = cmp.Or(o.ClientSecret, randomSecret())
	s.mu.Lock()
	defer s.mu.Unlock()
	o.Name = cmp.Or(o.Name, fmt.Sprintf("%s-%d", defaultTenantName, len(s.tenants)))
	o.Subdomain = cmp.Or(o.Subdomain, o.Name)
	o.ClientID = cmp.Or(o.ClientID, "sb-clone-"+derivedGUID(o.Name, "client")+"!b1234|connectivity!b17")
	for _, t := range s.tenants {
		if t.name == o.Name || t.clientID == o.ClientID {
			return nil, fmt.Errorf("simulator: tenant %q or client ID %q already exists", o.Name, o.ClientID)
		}
	}
	t := &Tenant{
		srv: s, name: o.Name, clientID: o.ClientID, subdomain: o.Subdomain,
		subaccountID: derivedGUID(o.Name, "subaccount"), zoneID: derivedGUID(o.Name, "zone"),
		landscape: encodeJSON(o.Landscape), secret: o.ClientSecret,
	}
	s.tenants = append(s.tenants, t)
	s.byClientID[t.clientID] = t
	return t, nil
}

// derivedGUID returns a GUID-shaped value that depends only on name and what.
func derivedGUID(name, what string) string {
	sum := sha256.Sum256([]byte(name + "\x00" + what))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func (s *Server) tenantByClientID(id string) *Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.byClientID[id]; ok {
		return t
	}
	return s.Tenant
}

// Name returns the tenant's name.
func (t *Tenant) Name() string { return t.name }

// SetLandscapes makes the info endpoint answer each landscape in turn, one per request, and the
// last one from then on: a landscape that changes between reads.
func (t *Tenant) SetLandscapes(steps ...[]Agent) {
	script := make([][]byte, len(steps))
	for i, a := range steps {
		script[i] = encodeJSON(append([]Agent{}, a...))
	}
	t.mu.Lock()
	t.script, t.reads = script, 0
	t.mu.Unlock()
}

// SetLandscape replaces what the info endpoint returns to the tenant; nil serves an empty array.
func (t *Tenant) SetLandscape(a []Agent) {
	body := encodeJSON(append([]Agent{}, a...))
	t.mu.Lock()
	t.landscape, t.script = body, nil
	t.mu.Unlock()
}

// Counts are a tenant's request counters. A token request counts for the tenant whose client ID
// it names, any other for the tenant of its bearer token, and one that names no tenant for the
// default tenant. Requests are counted on arrival, before any fault delays them.
type Counts struct {
	// TokenRequests counts every request to the token endpoint.
	TokenRequests int64
	// TokenFailures counts token requests that did not get a token: refused ones, and those met
	// by any fault but a pure Delay (or whose client left during one).
	TokenFailures int64
	// APIRequests counts every other request, refused or not.
	APIRequests int64
}

// Counts returns the tenant's counters.
func (t *Tenant) Counts() Counts {
	return Counts{t.requests[TargetToken].Load(), t.tokenFailures.Load(), t.requests[TargetAPI].Load()}
}

// ResetCounts sets the tenant's counters to zero.
func (t *Tenant) ResetCounts() {
	for _, c := range []*atomic.Int64{&t.requests[0], &t.requests[1], &t.tokenFailures} {
		c.Store(0)
	}
}

// IssuedTokens returns every access token issued to the tenant, oldest first.
func (t *Tenant) IssuedTokens() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.issued...)
}

// RevokeTokens makes every token issued to the tenant so far invalid (401 invalid_token).
func (t *Tenant) RevokeTokens() {
	t.srv.mu.Lock()
	defer t.srv.mu.Unlock()
	for _, st := range t.srv.tokens {
		if st.tenant == t {
			st.revoked = true
		}
	}
}

// RotateSecret replaces the client secret (empty: a random one); the old one gets 401
// invalid_client from now on, tokens already issued stay valid, as with XSUAA.
func (t *Tenant) RotateSecret(newSecret string) {
	t.mu.Lock()
	t.secret = cmp.Or(newSecret, randomSecret())
	t.mu.Unlock()
}

// RotateCertificate issues a new X.509 client certificate and key (PEM); the previous certificate
// is refused from now on, tokens already issued stay valid. It fails without TLS.
func (t *Tenant) RotateCertificate() (certPEM, keyPEM string, err error) {
	c, err := t.certificate(true)
	if err != nil {
		return "", "", err
	}
	return c.certPEM, c.keyPEM, nil
}

// certificate returns the current X.509 client credential, issuing one if there is none or
// renew is set.
func (t *Tenant) certificate(renew bool) (*clientCert, error) {
	if t.srv.pki == nil {
		return nil, errors.New("simulator: X.509 credentials need Options.TLS")
	}
	t.certMu.Lock()
	defer t.certMu.Unlock()
	if t.client == nil || renew {
		c, err := t.srv.pki.issueClient(t.subaccountID)
		if err != nil {
			return nil, err
		}
		t.client = c
	}
	return t.client, nil
}
