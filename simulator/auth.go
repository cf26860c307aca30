package simulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenState is what the simulator remembers of an issued access token.
type tokenState struct {
	expires time.Time
	revoked bool
}

// The simulated subaccount. Fixed so that bindings are stable across runs (only the URL, the
// secret and the certificate change).
const (
	subdomain        = "acme-prod"
	tenantID         = "3c6a5e8f-2b1d-4f7a-9e0c-1d2b3a4c5e6f"
	subaccountID     = "d41f2c7b-8e90-4a35-b6c1-57e2a9f03d88"
	apiInstanceGUID  = "9b2e4c61-3f8a-4d07-a5e9-c18f6b2d7e40"
	apiBindingGUID   = "e7c3a915-6d42-4b8f-9a01-2f5d8c6b3e77"
	liteInstanceGUID = "1a8f5d2c-7b39-4e64-8c0d-93e6f1b4a725"
	liteBindingGUID  = "5c0e9b47-2a1d-4f86-b3e2-7d4a8c61f09b"
	apiInstanceName  = "conn-api"
	liteInstanceName = "conn-proxy"
	tokenScope       = "uaa.resource"
)

// randomSecret returns a secret shaped like XSUAA's: a GUID, "$", and base64url with padding.
func randomSecret() string {
	return randomGUID() + "$" + base64.URLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

func randomGUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// xsappname derives the binding's xsappname from the client ID, as XSUAA does ("sb-" + xsappname).
func (s *Server) xsappname() string {
	return strings.TrimPrefix(s.opts.ClientID, "sb-")
}

// newJWT returns a random access token that looks like an XSUAA JWT (header, claims, signature),
// and its jti. Nothing verifies the signature: the simulator looks tokens up by value.
func (s *Server) newJWT(now, exp time.Time) (token, jti string) {
	jti = hex.EncodeToString(randomBytes(16))
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{
		"alg": "RS256", "typ": "JWT", "kid": "default-jwt-key-simulator",
		"jku": s.url + "/token_keys",
	})
	claims, _ := json.Marshal(map[string]any{
		"jti":         jti,
		"sub":         s.opts.ClientID,
		"client_id":   s.opts.ClientID,
		"cid":         s.opts.ClientID,
		"azp":         s.opts.ClientID,
		"grant_type":  "client_credentials",
		"authorities": []string{tokenScope},
		"scope":       []string{tokenScope},
		"iat":         now.Unix(),
		"exp":         exp.Unix(),
		"iss":         s.url + TokenPath,
		"zid":         tenantID,
		"aud":         []string{"uaa", s.xsappname()},
		"ext_attr":    map[string]string{"enhancer": "XSUAA", "subaccountid": subaccountID, "zdn": subdomain},
	})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(randomBytes(256)), jti
}

// tokenReply answers POST /oauth/token.
func (s *Server) tokenReply(r *http.Request) reply {
	if r.Method != http.MethodPost {
		rep := errorReply(http.StatusMethodNotAllowed, "method_not_allowed", "Request method '"+r.Method+"' is not supported")
		rep.header.Set("Allow", "POST")
		return rep
	}
	if err := r.ParseForm(); err != nil {
		return errorReply(http.StatusBadRequest, "invalid_request", "Malformed form body")
	}
	if !s.authenticateClient(r) {
		rep := errorReply(http.StatusUnauthorized, "invalid_client", "Bad credentials")
		rep.header.Set("WWW-Authenticate", `Basic realm="UAA/client", error="invalid_client", error_description="Bad credentials"`)
		return rep
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return errorReply(http.StatusBadRequest, "invalid_request", "Missing grant type")
	default:
		return errorReply(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+gt)
	}

	now := time.Now()
	exp := now.Add(s.opts.TokenLifetime)
	token, jti := s.newJWT(now, exp)
	s.mu.Lock()
	if len(s.tokens) >= 4096 {
		for t, st := range s.tokens { // keep long demo runs bounded
			if now.After(st.expires) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[token] = &tokenState{expires: exp}
	s.issued = append(s.issued, token)
	s.mu.Unlock()

	rep := jsonReply(http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
		JTI         string `json:"jti"`
	}{token, "bearer", int64(s.opts.TokenLifetime / time.Second), tokenScope, jti})
	rep.header.Set("Content-Type", "application/json;charset=UTF-8")
	rep.header.Set("Cache-Control", "no-store")
	rep.header.Set("Pragma", "no-cache")
	return rep
}

// authenticateClient checks the client credentials: HTTP Basic or form client_id/client_secret,
// or, without a secret, form client_id plus the current X.509 client certificate as the TLS peer.
// Basic credentials are accepted both raw and form-encoded (RFC 6749 §2.3.1).
func (s *Server) authenticateClient(r *http.Request) bool {
	s.mu.Lock()
	secret, current := s.secret, s.client
	s.mu.Unlock()

	id, pass, basic := r.BasicAuth()
	if basic {
		if !matchesEncoded(id, s.opts.ClientID) {
			return false
		}
		if pass != "" {
			return matchesEncoded(pass, secret)
		}
	} else {
		if r.PostForm.Get("client_id") != s.opts.ClientID {
			return false
		}
		if pass = r.PostForm.Get("client_secret"); pass != "" {
			return equal(pass, secret)
		}
	}
	// No secret: X.509.
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || current == nil {
		return false
	}
	return subtle.ConstantTimeCompare(r.TLS.PeerCertificates[0].Raw, current.leaf.Raw) == 1
}

func equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func matchesEncoded(got, want string) bool {
	if equal(got, want) {
		return true
	}
	decoded, err := url.QueryUnescape(got)
	return err == nil && equal(decoded, want)
}

// checkBearer validates the request's bearer token; on failure it returns the 401 to send.
func (s *Server) checkBearer(r *http.Request) (reply, bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		rep := errorReply(http.StatusUnauthorized, "unauthorized", "Full authentication is required to access this resource")
		rep.header.Set("WWW-Authenticate", `Bearer realm="connectivity"`)
		return rep, false
	}
	s.mu.Lock()
	st, found := s.tokens[token]
	var revoked, expired bool
	if found {
		revoked, expired = st.revoked, !time.Now().Before(st.expires)
	}
	s.mu.Unlock()
	var desc string
	switch {
	case !found:
		desc = "Invalid access token"
	case revoked:
		desc = "Access token has been revoked"
	case expired:
		desc = "Access token expired"
	default:
		return reply{}, true
	}
	rep := errorReply(http.StatusUnauthorized, "invalid_token", desc)
	rep.header.Set("WWW-Authenticate", `Bearer realm="connectivity", error="invalid_token", error_description="`+desc+`"`)
	return rep, false
}

// IssuedTokens returns every access token handed out so far, oldest first, so tests can check
// that none of them leaks into logs or tool output.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// RevokeTokens makes every token issued so far invalid: the API answers 401 invalid_token to
// them. Tokens issued afterwards are valid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.tokens {
		st.revoked = true
	}
}

// RotateSecret replaces the client secret: from now on the old one gets 401 invalid_client and
// Credentials, ServiceKeyJSON, VCAPServices and WriteKymaBinding carry the new one. Tokens
// already issued stay valid, as with XSUAA. An empty newSecret means a random one.
func (s *Server) RotateSecret(newSecret string) {
	if newSecret == "" {
		newSecret = randomSecret()
	}
	s.mu.Lock()
	s.secret = newSecret
	s.mu.Unlock()
}

// RotateCertificate issues a new X.509 client certificate and key (PEM) and makes them the
// binding's: the previous certificate is refused by the token endpoint from now on. Tokens
// already issued stay valid. It fails without TLS.
func (s *Server) RotateCertificate() (certPEM, keyPEM string, err error) {
	if s.pki == nil {
		return "", "", errors.New("simulator: X.509 credentials need Options.TLS")
	}
	s.certMu.Lock()
	defer s.certMu.Unlock()
	c, err := s.pki.issueClient(subaccountID)
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
	return c.certPEM, c.keyPEM, nil
}

// clientCertificate returns the current X.509 client credential, issuing the first on demand.
func (s *Server) clientCertificate() (*clientCert, error) {
	if s.pki == nil {
		return nil, errors.New("simulator: X.509 credentials need Options.TLS")
	}
	s.certMu.Lock()
	defer s.certMu.Unlock()
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := s.pki.issueClient(subaccountID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
	return c, nil
}
