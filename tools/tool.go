package tools

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// Definition is what a tool says about itself to clients and to the model.
type Definition struct {
	// Name identifies the tool in calls: lower snake_case, at most 64 characters,
	// for example "list_cloud_connectors".
	Name string
	// Title is the short human-readable name clients display, for example
	// "List Cloud Connectors".
	Title string
	// Description tells the model what the tool answers and when to use it.
	Description string
}

var toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// New turns a typed handler into a registrable read-only tool (every hint set explicitly), with
// input and output schemas reflected from the struct types In and Out (package schemas). A call's
// arguments go through the argument layer (args.go) into In, then handler runs. Every failure (an
// argument problem, the handler's error, a panic, which is logged with its stack) reaches the
// model as an isError result with a sentence, never as a protocol error: mcp-go's
// server.WithRecovery would not cover the check command, which calls handlers directly. A success
// carries out as structured content and the same compact JSON as text (not checked against the
// output schema at run time: the tests do that). It logs one debug line per call to logger (nil
// discards), without argument values. It panics on an incomplete def or types that cannot be
// reflected: programming errors that show at startup.
func New[In, Out any](logger *slog.Logger, def Definition, handler func(ctx context.Context, in In) (Out, error)) server.ServerTool {
	if !toolName.MatchString(def.Name) || def.Title == "" || def.Description == "" {
		panic(fmt.Sprintf("tools.New: definition %+v needs a lower snake_case name, a title and a description", def))
	}
	logger = cmp.Or(logger, slog.New(slog.DiscardHandler))
	inSchema := schemas.Reflect[In]()
	args, err := newArgs(inSchema)
	if err != nil {
		panic(fmt.Sprintf("tools.New: tool %s: input schema: %v", def.Name, err))
	}
	tool := mcp.Tool{
		Name:            def.Name,
		Title:           def.Title,
		Description:     def.Description,
		RawInputSchema:  inSchema,
		RawOutputSchema: schemas.ReflectOutput[Out](),
		Annotations: mcp.ToolAnnotation{
			Title:           def.Title,
			ReadOnlyHint:    new(true),
			DestructiveHint: new(false),
			IdempotentHint:  new(true),
			OpenWorldHint:   new(true),
		},
	}
	call := func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, _ error) {
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				logger.ErrorContext(ctx, "tool panicked", "tool", def.Name, "panic", p, "stack", string(debug.Stack()))
				res = mcp.NewToolResultError("internal error in tool " + def.Name + ": please report this")
			}
			logger.DebugContext(ctx, "tool call", "tool", def.Name, "duration", time.Since(start), "is_error", res.IsError)
		}()
		if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
			ctx = context.WithValue(ctx, progressKey{}, req.Params.Meta.ProgressToken)
		}
		var in In
		var out Out
		var data []byte
		err := args.decode(req, &in)
		if err == nil {
			out, err = handler(ctx, in)
		}
		if err == nil {
			data, err = compactJSON(out)
		}
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		res = mcp.NewToolResultStructured(out, string(data))
		res.RawStructuredContent = data // the wire form of out: mcp-go writes it instead of encoding out again
		return res, nil
	}
	return server.ServerTool{Tool: tool, Handler: call}
}

// compactJSON encodes v on one line, keeping <, > and & readable.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("internal error encoding the answer: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// progressKey holds the progress token of the call in its context.
type progressKey struct{}

// progressOf returns a function that sends notifications/progress for the call of ctx, or nil when
// the client sent no progress token.
func progressOf(ctx context.Context) func(done, total int) {
	token := ctx.Value(progressKey{})
	srv := server.ServerFromContext(ctx)
	if token == nil || srv == nil {
		return nil
	}
	return func(done, total int) {
		_ = srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
			"progressToken": token, "progress": done, "total": total,
			"message": fmt.Sprintf("%d of %d subaccounts read", done, total),
		})
	}
}
