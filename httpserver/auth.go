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
	"strconv"
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
// The client ID and zone of a JWT are logged beside it (see Attrs).
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

// attrs are the audit attributes naming the caller: who, and for a JWT its client_id and zone.
func (i Identity) attrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("who", i.Who())}
	if i.ClientID != "" {
		attrs = append(attrs, slog.String("client_id", i.ClientID))
	}
	if i.Zone != "" {
		attrs = append(attrs, slog.String("zone", i.Zone))
	}
	return attrs
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

// MinStaticTokenLength is the shortest static bearer token accepted, in characters.
const MinStaticTokenLength = 32

// checkStaticToken says what is wrong with a static token value (already trimmed), or nil.
func checkStaticToken(value, source string) error {
	switch n := len(value); {
	case n == 0:
		return fmt.Errorf("%s is empty: write a long random token into it, for example with `openssl rand -hex 32`", source)
	case n < MinStaticTokenLength:
		return fmt.Errorf("%s is shorter than %d characters: use a long random token, for example from `openssl rand -hex 32`", source, MinStaticTokenLength)
	}
	return nil
}

// StaticToken is a shared bearer token, from MCP_AUTH_TOKEN or a file that is read again when it
// changes (so it can rotate without a restart). Tokens are compared in constant time.
//
// A token file that becomes unreadable, is deleted, emptied or holds a token too short fails
// closed: no token matches until the file holds a valid token again. Each change of the file's
// state is logged once (never the token).
type StaticToken struct {
	path   string // "" for a fixed token
	logger *slog.Logger

	mu      sync.Mutex
	digest  [sha256.Size]byte
	valid   bool   // the file holds a valid token (always true for a fixed one)
	problem string // what is wrong with the file, as last logged; "" when valid
	modTime time.Time
	size    int64
}

// NewStaticToken accepts the bearer token value (MCP_AUTH_TOKEN). It refuses one shorter than
// MinStaticTokenLength, saying how to make a good one.
func NewStaticToken(value string) (*StaticToken, error) {
	value = strings.TrimSpace(value)
	if err := checkStaticToken(value, "MCP_AUTH_TOKEN"); err != nil {
		return nil, err
	}
	return &StaticToken{digest: sha256.Sum256([]byte(value)), valid: true}, nil
}

// StaticTokenFile reads the bearer token from path (surrounding white space ignored) and reads it
// again whenever the file's size or modification time changes. The file must hold a valid token
// at start.
func StaticTokenFile(path string, logger *slog.Logger) (*StaticToken, error) {
	s := &StaticToken{path: path, logger: cmp.Or(logger, slog.New(slog.DiscardHandler))}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the file if it changed; callers hold mu or own s exclusively. An error leaves s
// refusing every token.
func (s *StaticToken) reload() error {
	info, err := os.Stat(s.path)
	if err != nil {
		s.invalidate()
		return fmt.Errorf("--auth-token-file: %w", err)
	}
	if s.valid && info.ModTime().Equal(s.modTime) && info.Size() == s.size {
		return nil
	}
	if !s.valid && s.problem != "" && info.ModTime().Equal(s.modTime) && info.Size() == s.size {
		return errors.New(s.problem) // unchanged since it was found wanting
	}
	s.modTime, s.size = info.ModTime(), info.Size()
	data, err := os.ReadFile(s.path)
	if err != nil {
		s.valid = false
		return fmt.Errorf("--auth-token-file: %w", err)
	}
	value := strings.TrimSpace(string(data))
	if err := checkStaticToken(value, "--auth-token-file "+s.path); err != nil {
		s.valid = false
		return err
	}
	s.digest, s.valid = sha256.Sum256([]byte(value)), true
	return nil
}

// invalidate forgets the file's state, so that it is read again once it is back.
func (s *StaticToken) invalidate() {
	s.valid, s.modTime, s.size = false, time.Time{}, 0
}

// Match reports whether token is the static token, in time independent of where they differ
// (both are hashed first, so not even the length leaks). While the token file is unusable,
// nothing matches.
func (s *StaticToken) Match(token string) bool {
	s.mu.Lock()
	if s.path != "" {
		err := s.reload()
		problem := ""
		if err != nil {
			problem = err.Error()
		}
		if problem != s.problem {
			if problem != "" {
				s.logger.Error("the static token file is unusable: every static token is refused until it holds a valid token again", "error", problem)
			} else {
				s.logger.Info("static token file read", "path", s.path)
			}
			s.problem = problem
		}
	}
	want, valid := s.digest, s.valid
	s.mu.Unlock()
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && valid
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
// spec: 401 (with the resource metadata URL when XSUAA is configured), 403 for a missing scope.
// Every refusal is logged once, with its reason and never the token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, sent := bearer(r)
		if token == "" {
			reason := "no bearer token"
			if sent {
				reason = "an Authorization header that is not a bearer token"
			}
			s.challenge(w, r, sent, "", reason)
			return
		}
		if st := s.cfg.StaticToken; st != nil && st.Match(token) {
			next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), Identity{Static: true})))
			return
		}
		if s.cfg.XSUAA == nil {
			s.challenge(w, r, true, "", "not the static token")
			return
		}
		id, err := s.cfg.XSUAA.Verify(r.Context(), token)
		var scopeErr *ScopeError
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
		case errors.As(err, &scopeErr):
			s.refused(r, http.StatusForbidden, err.Error(), id.attrs()...)
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer resource_metadata=%q, error="insufficient_scope", scope=%q`, s.metadataURL(r), scopeErr.Scope))
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": err.Error()})
		case errors.Is(err, ErrKeysUnavailable):
			s.refused(r, http.StatusServiceUnavailable, err.Error())
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(s.cfg.XSUAA.opts.FailureTTL.Round(time.Second).Seconds()))))
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable",
				"error_description": "the token cannot be verified now: the token keys of the authorization server cannot be fetched; retry later"})
		default:
			s.challenge(w, r, true, err.Error(), err.Error())
		}
	})
}

// challenge answers 401 and logs the refusal. With XSUAA, WWW-Authenticate points to the
// resource metadata (clients start OAuth); with only a static token it names no metadata, so
// that clients ask for a header instead of starting an OAuth flow that cannot succeed.
// error="invalid_token" when a token was sent. The connection is closed after the answer, so a
// body still arriving is never waited for.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, sent bool, description, reason string) {
	s.refused(r, http.StatusUnauthorized, reason)
	h := `Bearer realm="btp-connectivity-mcp"`
	if s.cfg.XSUAA != nil {
		h = fmt.Sprintf(`Bearer resource_metadata=%q`, s.metadataURL(r))
	}
	body := map[string]string{"error": "unauthorized", "error_description": "send an access token: Authorization: Bearer <token>"}
	if sent {
		h += `, error="invalid_token"`
		body = map[string]string{"error": "invalid_token", "error_description": cmp.Or(description, "the token is not valid for this server")}
	}
	w.Header().Set("WWW-Authenticate", h)
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusUnauthorized, body)
}
