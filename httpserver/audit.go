package httpserver

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ToolObserver returns the MCP server option that writes one audit record per tool call to
// logger (who, tool, arguments without secrets, outcome, duration) and records it in metrics
// (nil: none). It wraps every tool handler, so the duration is the handler's own and no request
// IDs need matching (they repeat across stateless HTTP requests). Add it to the MCP server's
// options (tools.Config.ServerOptions).
func ToolObserver(logger *slog.Logger, metrics *Metrics) server.ServerOption {
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
			who := "stdio"
			if id, ok := IdentityFrom(ctx); ok {
				who = id.Who()
			}
			attrs := []slog.Attr{slog.Bool("audit", true), slog.String("who", who), slog.String("tool", req.Params.Name),
				slog.Any("arguments", redact(req.GetArguments())), slog.String("outcome", outcome), slog.Int64("duration_ms", d.Milliseconds())}
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			logger.LogAttrs(ctx, slog.LevelInfo, "tool call", attrs...)
			return res, err
		}
	})
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

// redact returns args with the values of secret-looking names replaced, in nested objects too.
func redact(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		switch m, nested := v.(map[string]any); {
		case isSecretName(k):
			out[k] = "[redacted]"
		case nested:
			out[k] = redact(m)
		default:
			out[k] = v
		}
	}
	return out
}
