package tools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"sync"
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

// New turns a typed handler into a registrable read-only tool.
//
// The input and output schemas are reflected from In and Out (see package schemas); both
// must be struct types. The tool is annotated read-only, non-destructive, idempotent and
// open-world, each hint set explicitly.
//
// On a call, the arguments are decoded into In: unknown keys are rejected, common slips are
// forgiven ("42" for 42, "x" for ["x"], null for an absent optional argument), declared
// defaults fill absent arguments and enum and range constraints are enforced. If In (or
// *In) has a method Validate() error, it runs next. Then handler runs.
//
// Every failure reaches the model as an isError result, never as a protocol error: a
// decoding or Validate error, or the handler's error, is the result's text, so these
// errors should be sentences a user can act on. A panic in the handler, or a result that
// does not match the output schema, is logged and answered with a generic internal error.
// On success the result carries out as structured content and the same JSON, compact, as
// its only text content, for clients that read only text.
//
// New panics if def is incomplete or In or Out cannot be reflected: programming errors
// that show at startup.
func New[In, Out any](def Definition, handler func(ctx context.Context, in In) (Out, error)) server.ServerTool {
	if !toolName.MatchString(def.Name) || def.Title == "" || def.Description == "" {
		panic(fmt.Sprintf("tools.New: definition %+v needs a lower snake_case name, a title and a description", def))
	}
	inSchema := schemas.Reflect[In]()
	outSchema := schemas.Reflect[Out]()
	// The argument decoder parses the input schema on the first call rather than here: the
	// server builds every tool before it can answer initialize. Reflect has already parsed and
	// checked the schema, so this cannot fail in practice.
	args := sync.OnceValue(func() *argDecoder {
		d, err := newArgDecoder(inSchema)
		if err != nil {
			panic(fmt.Sprintf("tools.New: tool %s: input schema: %v", def.Name, err))
		}
		return d
	})
	tool := mcp.Tool{
		Name:            def.Name,
		Title:           def.Title,
		Description:     def.Description,
		RawInputSchema:  inSchema,
		RawOutputSchema: outSchema,
		Annotations: mcp.ToolAnnotation{
			Title:           def.Title,
			ReadOnlyHint:    new(true),
			DestructiveHint: new(false),
			IdempotentHint:  new(true),
			OpenWorldHint:   new(true),
		},
	}
	checked := &checkedResults{schema: outSchema}
	call := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return run(ctx, def.Name, args, checked, handler, req), nil
	}
	return server.ServerTool{Tool: tool, Handler: call}
}

// run answers one call. It never returns nil.
func run[In, Out any](ctx context.Context, name string, args func() *argDecoder, checked *checkedResults,
	handler func(context.Context, In) (Out, error), req mcp.CallToolRequest,
) (res *mcp.CallToolResult) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "tool panicked", "tool", name, "panic", p, "stack", string(debug.Stack()))
			res = internalError(name)
		}
		slog.DebugContext(ctx, "tool call", "tool", name, "duration", time.Since(start), "is_error", res.IsError)
	}()

	var in In
	if err := args().decode(req, &in); err != nil {
		return toolError(name, err)
	}
	if v, ok := any(&in).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return toolError(name, err)
		}
	}
	out, err := handler(ctx, in)
	if err != nil {
		return toolError(name, err)
	}

	var text bytes.Buffer
	enc := json.NewEncoder(&text)
	enc.SetEscapeHTML(false) // keep <, > and & readable in the text content
	if err := enc.Encode(out); err != nil {
		slog.ErrorContext(ctx, "tool result cannot be marshalled", "tool", name, "error", err)
		return internalError(name)
	}
	data := bytes.TrimSuffix(text.Bytes(), []byte("\n"))
	if err := checked.check(data); err != nil {
		slog.ErrorContext(ctx, "tool result does not match its output schema", "tool", name, "error", err)
		return internalError(name)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.NewTextContent(string(data))},
		StructuredContent: out,
		// The wire form of out, already encoded: mcp-go writes it instead of encoding out again.
		RawStructuredContent: data,
	}
}

// checkedResults checks results against a tool's output schema and remembers, by SHA-256, the
// ones that passed: a repeated answer (the same question on the same snapshot) is not checked
// again. Checking costs far more than the rest of a call (about half a millisecond for
// get_security_status on the demo landscape); hashing costs microseconds.
type checkedResults struct {
	schema json.RawMessage

	mu     sync.Mutex
	passed map[[sha256.Size]byte]struct{}
}

// maxCheckedResults bounds the memory of one tool's checkedResults (32 bytes per result).
const maxCheckedResults = 4096

// check reports whether the JSON text data conforms to the schema.
func (c *checkedResults) check(data []byte) error {
	sum := sha256.Sum256(data)
	c.mu.Lock()
	_, ok := c.passed[sum]
	c.mu.Unlock()
	if ok {
		return nil
	}
	if err := schemas.Validate(c.schema, json.RawMessage(data)); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.passed == nil || len(c.passed) >= maxCheckedResults {
		c.passed = make(map[[sha256.Size]byte]struct{})
	}
	c.passed[sum] = struct{}{}
	return nil
}

func toolError(name string, err error) *mcp.CallToolResult {
	msg := err.Error()
	if msg == "" {
		msg = "tool " + name + " failed"
	}
	return mcp.NewToolResultError(msg)
}

func internalError(name string) *mcp.CallToolResult {
	return mcp.NewToolResultError("internal error in tool " + name + ": please report this")
}
