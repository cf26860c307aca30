package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Limits of what the audit log copies from a request: every string is cut to a prefix, every
// list and object to its first elements, nesting to a depth.
const (
	auditStringLimit = 64 // characters
	auditListLimit   = 16 // elements of a list, keys of an object
	auditDepthLimit  = 6
)

// ToolObserver returns the MCP server option that writes one audit record per tool call to
// logger (who, tool, arguments cut short and without secrets, outcome, duration) and records it
// in metrics (nil: none). It wraps every tool handler, so the duration is the handler's own and
// no request IDs need matching (they repeat across stateless HTTP requests). Calls of tools that
// do not exist never reach a handler: hooks (the MCP server's, tools.Config.Hooks) get an error
// hook that audits them with the outcome unknown_tool. Add the option to the MCP server's
// options (tools.Config.ServerOptions).
func ToolObserver(logger *slog.Logger, metrics *Metrics, hooks *server.Hooks) server.ServerOption {
	if hooks != nil {
		hooks.AddOnError(func(ctx context.Context, _ any, method mcp.MCPMethod, message any, err error) {
			req, ok := message.(*mcp.CallToolRequest)
			if method != mcp.MethodToolsCall || !ok || !errors.Is(err, server.ErrToolNotFound) {
				return
			}
			if metrics != nil {
				metrics.ToolCall("unknown", "unknown_tool", 0)
			}
			audit(ctx, logger, req, "unknown_tool", 0, nil)
		})
	}
	return server.WithToolHandlerMiddleware(func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := time.Now()
			res, err := next(ctx, req)
			d := time.Since(start)
			outcome := "ok"
			switch {
			case err != nil:
				outcome = "error"
			case res != nil && res.IsError:
				outcome = "tool_error"
			}
			if metrics != nil {
				metrics.ToolCall(req.Params.Name, outcome, d)
			}
			audit(ctx, logger, &req, outcome, d, err)
			return res, err
		}
	})
}

// audit writes the record of one tool call.
func audit(ctx context.Context, logger *slog.Logger, req *mcp.CallToolRequest, outcome string, d time.Duration, err error) {
	attrs := []slog.Attr{slog.Bool("audit", true)}
	if id, ok := IdentityFrom(ctx); ok {
		attrs = append(attrs, id.attrs()...)
	} else {
		attrs = append(attrs, slog.String("who", "stdio"))
	}
	attrs = append(attrs, slog.String("tool", cut(req.Params.Name)), slog.Any("arguments", redact(req.GetArguments(), 0)),
		slog.String("outcome", outcome), slog.Int64("duration_ms", d.Milliseconds()))
	if err != nil {
		attrs = append(attrs, slog.String("error", cut(err.Error())))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "tool call", attrs...)
}

// isSecretName reports whether an argument name suggests a secret, whose value is never logged.
func isSecretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"secret", "token", "password", "passwd", "key", "credential", "authorization", "cookie"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// credentialLike matches values that look like credentials whatever their name: an HTTP
// Authorization value, a JWT, a PEM block.
var credentialLike = regexp.MustCompile(`(?i)\b(bearer|basic)\s+\S|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.|-----BEGIN `)

// opaqueToken matches a long unbroken run of token characters, such as a random bearer token.
var opaqueToken = regexp.MustCompile(`^[A-Za-z0-9_~+/=-]{32,}$`)

// uuid matches a UUID (subaccount and connector IDs), which is not a secret.
var uuid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// looksLikeCredential reports whether a value should be redacted whatever its name.
func looksLikeCredential(s string) bool {
	if credentialLike.MatchString(s) {
		return true
	}
	return opaqueToken.MatchString(s) && !uuid.MatchString(s) &&
		strings.ContainsFunc(s, unicode.IsDigit) && strings.ContainsFunc(s, unicode.IsLetter)
}

// redact returns a copy of v fit for the audit log: values of secret-looking names and
// credential-looking strings replaced, in nested objects and lists too; strings cut to a
// prefix, lists and objects to their first elements, nesting to a depth.
func redact(v any, depth int) any {
	if depth >= auditDepthLimit {
		return "[…]"
	}
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		out := make(map[string]any, min(len(keys), auditListLimit+1))
		for i, k := range keys {
			if i == auditListLimit {
				out["…"] = fmt.Sprintf("%d more", len(keys)-auditListLimit)
				break
			}
			if isSecretName(k) {
				out[cut(k)] = "[redacted]"
			} else {
				out[cut(k)] = redact(v[k], depth+1)
			}
		}
		return out
	case []any:
		out := make([]any, 0, min(len(v), auditListLimit+1))
		for i, e := range v {
			if i == auditListLimit {
				out = append(out, fmt.Sprintf("… %d more", len(v)-auditListLimit))
				break
			}
			out = append(out, redact(e, depth+1))
		}
		return out
	case string:
		if looksLikeCredential(v) {
			return "[redacted]"
		}
		return cut(v)
	}
	return v
}

// cut returns s, or its first auditStringLimit characters and a note of the length.
func cut(s string) string { return cutTo(s, auditStringLimit) }

// cutTo returns s, or its first n characters and a note of the length.
func cutTo(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", string([]rune(s)[:n]), len(s))
}

// Rate limit of the log of refused requests: at most refusalBurst records per refusalWindow;
// the records left out are counted and reported by the next record (and at shutdown).
const (
	refusalBurst  = 20
	refusalWindow = 10 * time.Second
)

// refusalLog writes one record per refused request, rate-limited, to the audit log.
type refusalLog struct {
	logger *slog.Logger

	mu         sync.Mutex
	start      time.Time // of the current window
	n          int       // records written in it
	suppressed int       // records left out since the last one written
}

// log records one refused request: its status and reason (never a credential), method, path
// and remote address, and the caller when known.
func (l *refusalLog) log(r *http.Request, status int, reason string, who ...slog.Attr) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.start) >= refusalWindow {
		l.start, l.n = now, 0
	}
	if l.n >= refusalBurst {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.n++
	suppressed := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	attrs := append([]slog.Attr{slog.Bool("audit", true), slog.Int("status", status), slog.String("reason", cutTo(reason, 4*auditStringLimit)),
		slog.String("method", cut(r.Method)), slog.String("path", cut(r.URL.Path)), slog.String("remote", r.RemoteAddr)}, who...)
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed_before", suppressed))
	}
	l.logger.LogAttrs(r.Context(), slog.LevelWarn, "request refused", attrs...)
}

// flush reports the records left out since the last one written.
func (l *refusalLog) flush(ctx context.Context) {
	l.mu.Lock()
	suppressed := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	if suppressed > 0 {
		l.logger.LogAttrs(ctx, slog.LevelWarn, "refused requests not logged (rate limit)", slog.Bool("audit", true), slog.Int("suppressed_before", suppressed))
	}
}
