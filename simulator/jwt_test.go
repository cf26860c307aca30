package simulator

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// jwks fetches the Identity's published keys, by kid.
func jwks(t *testing.T, id *Identity) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(id.URL() + IdentityKeysPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["kid"] == "" {
			t.Errorf("key %v: want kty RSA, alg RS256, use sig and a kid", k)
		}
		n, errN := base64.RawURLEncoding.DecodeString(k["n"])
		e, errE := base64.RawURLEncoding.DecodeString(k["e"])
		if errN != nil || errE != nil {
			t.Fatalf("key %s: n or e not base64url", k["kid"])
		}
		keys[k["kid"]] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

// verify checks token's RS256 signature against keys and returns its header and claims.
func verify(t *testing.T, token string, keys map[string]*rsa.PublicKey) (header, claims map[string]any, ok bool) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, v := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, v) != nil {
			t.Fatalf("part %d is not base64url JSON", i)
		}
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	key := keys[header["kid"].(string)]
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return header, claims, key != nil && rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) == nil
}

func TestIdentityTokens(t *testing.T) {
	t.Parallel()
	id, err := NewIdentity(IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Close)
	valid, err := id.Token(id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := id.ForgedToken(id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	keys := jwks(t, id)
	if len(keys) != 1 {
		t.Fatalf("published %d keys, want 1", len(keys))
	}
	newKid, err := id.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := id.Token(id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		token   string
		keys    map[string]*rsa.PublicKey
		wantOK  bool
		wantKid string
	}{
		{"valid", valid, keys, true, ""},
		{"forged", forged, keys, false, ""},
		{"after rotation, old keys", rotated, keys, false, newKid},
		{"after rotation, new keys", rotated, jwks(t, id), true, newKid},
		{"before rotation, new keys", valid, jwks(t, id), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			header, claims, ok := verify(t, tc.token, tc.keys)
			if ok != tc.wantOK {
				t.Errorf("signature verifies: %v, want %v", ok, tc.wantOK)
			}
			if header["alg"] != "RS256" || (tc.wantKid != "" && header["kid"] != tc.wantKid) {
				t.Errorf("header %v: want alg RS256, kid %q", header, tc.wantKid)
			}
			if claims["user_name"] != "alice@example.com" || claims["client_id"] != id.ClientID() || claims["exp"] == nil || claims["nbf"] == nil {
				t.Errorf("claims %v: want user_name, client_id, exp, nbf", claims)
			}
			if scopes, _ := claims["scope"].([]any); len(scopes) != 2 || scopes[1] != id.ReadScope() {
				t.Errorf("scope %v, want [openid %s]", claims["scope"], id.ReadScope())
			}
		})
	}
	if n := id.KeyFetches(); n != 3 {
		t.Errorf("KeyFetches = %d, want 3", n)
	}
}

func TestIdentityClientCredentials(t *testing.T) {
	t.Parallel()
	id, err := NewIdentity(IdentityOptions{ClientSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	for _, tc := range []struct {
		name, secret string
		want         int
	}{
		{"right secret", "s3cret", http.StatusOK},
		{"wrong secret", "guess", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id.ClientID()}, "client_secret": {tc.secret}}
			resp, err := http.PostForm(id.URL()+TokenPath, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.want, body)
			}
			if tc.want == http.StatusOK {
				_, claims, ok := verify(t, body["access_token"].(string), jwks(t, id))
				if !ok || claims["user_name"] != nil || claims["client_id"] != id.ClientID() {
					t.Errorf("token verifies %v, claims %v: want a client token", ok, claims)
				}
			}
		})
	}
	key := id.ServiceKey()
	for _, f := range []string{"url", "clientid", "clientsecret", "xsappname", "uaadomain"} {
		if s, _ := key[f].(string); s == "" {
			t.Errorf("service key lacks %s", f)
		}
	}
	vcap, err := id.WithVCAP(`{"connectivity":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(vcap), &doc); err != nil || len(doc["xsuaa"]) != 1 || doc["xsuaa"][0]["label"] != "xsuaa" || doc["connectivity"] == nil {
		t.Errorf("WithVCAP = %s (%v): want the connectivity list kept and one xsuaa entry", vcap, err)
	}
}

func TestIdentityKeyFaults(t *testing.T) {
	t.Parallel()
	id, err := NewIdentity(IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	first := id.KeyIDs()[0]
	second, err := id.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	if id.RemoveKey(second) {
		t.Error("the signing key was removed")
	}
	if !id.RemoveKey(first) {
		t.Error("the old key was not removed")
	}
	if keys := jwks(t, id); len(keys) != 1 || keys[second] == nil {
		t.Errorf("published %v, want only %s", keys, second)
	}
	id.FailKeys(http.StatusServiceUnavailable)
	resp, err := http.Get(id.URL() + IdentityKeysPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("failing keys: %d, want 503", resp.StatusCode)
	}
	id.FailKeys(0)
	if keys := jwks(t, id); len(keys) != 1 || id.KeyFetches() != 3 {
		t.Errorf("after the fault: %d keys, %d fetches", len(keys), id.KeyFetches())
	}
	// Header parameters reach the token's protected header.
	c := id.DefaultClaims()
	c.Header = map[string]any{"kid": "made-up", "crit": []string{"x"}}
	token, err := id.Token(c)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := strings.Cut(token, ".")
	data, _ := base64.RawURLEncoding.DecodeString(h)
	var hdr map[string]any
	if err := json.Unmarshal(data, &hdr); err != nil || hdr["kid"] != "made-up" || hdr["crit"] == nil || hdr["alg"] != "RS256" {
		t.Errorf("header %s", data)
	}
}
