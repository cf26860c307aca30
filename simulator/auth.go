package simulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenState is what the simulator remembers of an issued access token.
type tokenState struct {
	tenant  *Tenant
	expires time.Time
	revoked bool
}

const tokenScope = "uaa.resource"

// randomSecret returns a secret shaped like XSUAA's: a GUID, "$", and base64url with padding.
func randomSecret() string {
	return derivedGUID(rand.Text(), "secret") + "$" + base64.URLEncoding.EncodeToString([]byte(rand.Text()+rand.Text()))
}

// newJWT returns a random access token shaped like an XSUAA JWT, and its jti. Nothing verifies the
// signature: the simulator looks tokens up by value.
func (t *Tenant) newJWT(now, exp time.Time) (token, jti string) {
	jti = hex.EncodeToString([]byte(rand.Text())[:16])
	enc := base64.RawURLEncoding
	header := encodeJSON(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "default-jwt-key-simulator", "jku": t.srv.url + "/token_keys"})
	claims := encodeJSON(map[string]any{
		"jti": jti, "sub": t.clientID, "client_id": t.clientID, "cid": t.clientID, "azp": t.clientID,
		"grant_type": "client_credentials", "authorities": []string{tokenScope}, "scope": []string{tokenScope},
		"iat": now.Unix(), "exp": exp.Unix(), "iss": t.srv.url + TokenPath, "zid": t.zoneID,
		"aud":      []string{"uaa", t.xsappname()},
		"ext_attr": map[string]string{"enhancer": "XSUAA", "subaccountid": t.subaccountID, "zdn": t.subdomain},
	})
	signature := make([]byte, 256)
	_, _ = rand.Read(signature)
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(signature), jti
}

// tokenReply answers a token request naming tenant t; formErr is the outcome of parsing its form.
func (s *Server) tokenReply(r *http.Request, t *Tenant, formErr error) reply {
	if r.Method != http.MethodPost {
		return errorReply(http.StatusMethodNotAllowed, "method_not_allowed", "Request method '"+r.Method+"' is not supported", "Allow", "POST")
	}
	if formErr != nil {
		return errorReply(http.StatusBadRequest, "invalid_request", "Malformed form body")
	}
	if !t.authenticate(r) {
		return errorReply(http.StatusUnauthorized, "invalid_client", "Bad credentials",
			"WWW-Authenticate", `Basic realm="UAA/client", error="invalid_client", error_description="Bad credentials"`)
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
	token, jti := t.newJWT(now, exp)
	s.mu.Lock()
	if len(s.tokens) >= 4096 {
		for k, st := range s.tokens { // keep long demo runs bounded
			if now.After(st.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[token] = &tokenState{tenant: t, expires: exp}
	s.mu.Unlock()
	t.mu.Lock()
	t.issued = append(t.issued, token)
	t.mu.Unlock()

	body := encodeJSON(map[string]any{"access_token": token, "token_type": "bearer",
		"expires_in": int64(s.opts.TokenLifetime / time.Second), "scope": tokenScope, "jti": jti})
	return reply{status: http.StatusOK, body: body, header: http.Header{
		"Content-Type": {"application/json;charset=UTF-8"}, "Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}}
}

// clientIDOf returns the client ID a token request names: the HTTP Basic user (decoded if
// form-encoded) or the form's client_id.
func clientIDOf(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if decoded, err := url.QueryUnescape(id); err == nil {
			return decoded
		}
		return id
	}
	return r.PostForm.Get("client_id")
}

// authenticate checks a token request's client credentials against the tenant: HTTP Basic (raw
// or form-encoded, RFC 6749 §2.3.1) or form client_id and client_secret, or, without a secret,
// client_id and the tenant's current X.509 client certificate as the TLS peer.
func (t *Tenant) authenticate(r *http.Request) bool {
	t.mu.Lock()
	secret := t.secret
	t.mu.Unlock()
	t.certMu.Lock()
	current := t.client
	t.certMu.Unlock()
	id, pass, basic := r.BasicAuth()
	if !basic {
		id, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case !matches(id, t.clientID, basic):
		return false
	case pass != "":
		return matches(pass, secret, basic)
	}
	return r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && current != nil &&
		subtle.ConstantTimeCompare(r.TLS.PeerCertificates[0].Raw, current.leaf.Raw) == 1
}

// matches compares in constant time; an encoded (HTTP Basic) value may also be form-encoded.
func matches(got, want string, encoded bool) bool {
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	decoded, err := url.QueryUnescape(got)
	return encoded && err == nil && subtle.ConstantTimeCompare([]byte(decoded), []byte(want)) == 1
}

func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// token returns a copy of what the simulator knows of an issued token, or nil.
func (s *Server) token(token string) *tokenState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.tokens[token]; ok {
		c := *st
		return &c
	}
	return nil
}

// checkBearer validates the request's bearer token, whose state is tok (nil if unknown); on
// failure it returns the 401 to send.
func checkBearer(r *http.Request, tok *tokenState) (reply, bool) {
	var desc string
	switch {
	case bearerToken(r) == "":
		return errorReply(http.StatusUnauthorized, "unauthorized", "Full authentication is required to access this resource",
			"WWW-Authenticate", `Bearer realm="connectivity"`), false
	case tok == nil:
		desc = "Invalid access token"
	case tok.revoked:
		desc = "Access token has been revoked"
	case !time.Now().Before(tok.expires):
		desc = "Access token expired"
	default:
		return reply{}, true
	}
	return errorReply(http.StatusUnauthorized, "invalid_token", desc,
		"WWW-Authenticate", `Bearer realm="connectivity", error="invalid_token", error_description="`+desc+`"`), false
}
