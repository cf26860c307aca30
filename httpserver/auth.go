package httpserver

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Identity is who made a request, as its token says. It never holds the token.
type Identity struct {
	UserName string // the token's user_name (a user token)
	ClientID string // the token's client_id
	Zone     string // the token's identity zone (zid)
	Static   bool   // authenticated with the static bearer token
}

// Who names the caller for the audit log: the user, else the OAuth client, else "static token".
func (i Identity) Who() string {
	switch {
	case i.UserName != "":
		return i.UserName
	case i.ClientID != "":
		return i.ClientID
	case i.Static:
		return "static token"
	}
	return "anonymous"
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity the authentication middleware put in ctx.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Errors of token verification; each becomes the matching WWW-Authenticate answer.
var (
	// ErrInvalidToken: the token is malformed, expired, not yet valid, for another audience, or
	// its signature does not verify (401, error="invalid_token").
	ErrInvalidToken = errors.New("invalid token")
	// ErrKeysUnavailable: the verification keys could not be fetched (503).
	ErrKeysUnavailable = errors.New("the token verification keys cannot be fetched")
)

// ScopeError reports a valid token that lacks the required scope (403, error="insufficient_scope").
type ScopeError struct{ Scope string }

func (e *ScopeError) Error() string { return "the token lacks the scope " + e.Scope }

// StaticToken is a shared bearer token, from MCP_AUTH_TOKEN or a file that is read again when it
// changes (so it can rotate without a restart). Tokens are compared in constant time.
type StaticToken struct {
	path   string // "" for a fixed token
	logger *slog.Logger

	mu      sync.Mutex
	digest  [sha256.Size]byte
	modTime time.Time
	size    int64
}

// NewStaticToken accepts the bearer token value. It refuses an empty or blank one.
func NewStaticToken(value string) (*StaticToken, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, errors.New("the static bearer token is empty: set MCP_AUTH_TOKEN to a long random value, for example from `openssl rand -hex 32`")
	}
	return &StaticToken{digest: sha256.Sum256([]byte(value))}, nil
}

// StaticTokenFile reads the bearer token from path (surrounding white space ignored) and reads it
// again whenever the file's size or modification time changes. A file that cannot be read later
// keeps the last token in force (and is logged).
func StaticTokenFile(path string, logger *slog.Logger) (*StaticToken, error) {
	s := &StaticToken{path: path, logger: logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the file if it changed; callers hold mu or own s exclusively.
func (s *StaticToken) reload() error {
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("--auth-token-file: %w", err)
	}
	if info.ModTime().Equal(s.modTime) && info.Size() == s.size {
		return nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("--auth-token-file: %w", err)
	}
	value := strings.TrimSpace(string(data))
	if value == "" {
		return fmt.Errorf("--auth-token-file %s is empty: write a long random token into it, for example with `openssl rand -hex 32`", s.path)
	}
	s.digest, s.modTime, s.size = sha256.Sum256([]byte(value)), info.ModTime(), info.Size()
	return nil
}

// Match reports whether token is the static token, in time independent of where they differ
// (both are hashed first, so not even the length leaks).
func (s *StaticToken) Match(token string) bool {
	s.mu.Lock()
	if s.path != "" {
		if err := s.reload(); err != nil {
			s.logger.Warn("static token file unreadable: the previous token stays in force", "error", err)
		}
	}
	want := s.digest
	s.mu.Unlock()
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// bearer returns the bearer token of r, and whether an Authorization header was sent at all.
func bearer(r *http.Request) (token string, sent bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// authenticate is the middleware that lets through only requests with a valid token, putting the
// caller's Identity in the request context. Answers follow RFC 6750 and the MCP authorization
// spec: 401 with the resource metadata URL, 403 for a missing scope.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, sent := bearer(r)
		if token == "" {
			s.challenge(w, r, sent, "")
			return
		}
		if st := s.cfg.StaticToken; st != nil && st.Match(token) {
			next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), Identity{Static: true})))
			return
		}
		if s.cfg.XSUAA == nil {
			s.challenge(w, r, true, "")
			return
		}
		id, err := s.cfg.XSUAA.Verify(r.Context(), token)
		var scopeErr *ScopeError
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
		case errors.As(err, &scopeErr):
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer resource_metadata=%q, error="insufficient_scope", scope=%q`, s.metadataURL(r), scopeErr.Scope))
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": err.Error()})
		case errors.Is(err, ErrKeysUnavailable):
			s.logger.Warn("cannot verify a token", "error", err)
			w.Header().Set("Retry-After", "10")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": err.Error()})
		default:
			s.logger.Debug("token refused", "reason", err)
			s.challenge(w, r, true, err.Error())
		}
	})
}

// challenge answers 401 with the WWW-Authenticate header that points to the resource metadata;
// error="invalid_token" when a token was sent.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, sent bool, reason string) {
	h := fmt.Sprintf(`Bearer resource_metadata=%q`, s.metadataURL(r))
	body := map[string]string{"error": "unauthorized", "error_description": "send an access token: Authorization: Bearer <token>"}
	if sent {
		h += `, error="invalid_token"`
		body = map[string]string{"error": "invalid_token", "error_description": cmp.Or(reason, "the token is not valid for this server")}
	}
	w.Header().Set("WWW-Authenticate", h)
	writeJSON(w, http.StatusUnauthorized, body)
}
