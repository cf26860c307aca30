package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/toolsnaps"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

type echoIn struct {
	Host     string   `json:"host" jsonschema_description:"Virtual host to look up."`
	Protocol string   `json:"protocol,omitempty" jsonschema:"enum=HTTP,enum=HTTPS,default=HTTP"`
	Limit    int      `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50"`
	Tags     []string `json:"tags,omitempty"`
	Verbose  bool     `json:"verbose,omitempty"`
}

type echoOut struct {
	Host     string    `json:"host"`
	Protocol string    `json:"protocol"`
	Limit    int       `json:"limit"`
	Tags     []string  `json:"tags"`
	Verbose  bool      `json:"verbose"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

var echoDef = Definition{Name: "echo", Title: "Echo", Description: "Echoes its arguments."}

func echo(_ context.Context, in echoIn) (echoOut, error) {
	out := echoOut{Host: in.Host, Protocol: in.Protocol, Limit: in.Limit, Tags: append([]string{}, in.Tags...),
		Verbose: in.Verbose, At: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	switch in.Host {
	case "fail":
		return echoOut{}, errors.New("no Cloud Connector exposes host fail")
	case "panic":
		panic("secret detail")
	case "html":
		out.Note = "<a & b>"
	}
	return out, nil
}

// call runs tool's handler as mcp-go would, with args as the decoded arguments.
func call(t *testing.T, tool server.ServerTool, args any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool.Tool.Name
	req.Params.Arguments = args
	return callRequest(t, tool, req)
}

func callRequest(t *testing.T, tool server.ServerTool, req mcp.CallToolRequest) *mcp.CallToolResult {
	t.Helper()
	res, err := tool.Handler(context.Background(), req)
	if err != nil {
		t.Fatalf("handler returned a Go error %v; want errors inside the result", err)
	}
	if res == nil || len(res.Content) != 1 {
		t.Fatalf("result = %#v, want one content block", res)
	}
	return res
}

func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	tc, ok := res.Content[0].(mcp.TextContent)
	if !ok {
		t.Fatalf("content = %#v, want text", res.Content[0])
	}
	return tc.Text
}

func TestNewCalls(t *testing.T) {
	t.Parallel()
	tool := New(nil, echoDef, echo)
	defaults := echoOut{Host: "h", Protocol: "HTTP", Limit: 50, Tags: []string{}}
	with := func(f func(*echoOut)) echoOut { o := defaults; f(&o); return o }
	tests := []struct {
		name    string
		args    any
		want    echoOut // compared when wantErr is ""
		wantErr string  // the whole isError text
	}{
		{"defaults fill absent arguments", map[string]any{"host": "h"}, defaults, ""},
		{"null means absent", map[string]any{"host": "h", "limit": nil, "tags": nil, "protocol": nil}, defaults, ""},
		{"all given", map[string]any{"host": "h", "protocol": "HTTPS", "limit": 7, "tags": []any{"a", "b"}, "verbose": true},
			echoOut{Host: "h", Protocol: "HTTPS", Limit: 7, Tags: []string{"a", "b"}, Verbose: true}, ""},
		{"integer as string", map[string]any{"host": "h", "limit": " 42 "}, with(func(o *echoOut) { o.Limit = 42 }), ""},
		{"integral float", map[string]any{"host": "h", "limit": 42.0}, with(func(o *echoOut) { o.Limit = 42 }), ""},
		{"boolean as string", map[string]any{"host": "h", "verbose": "TRUE"}, with(func(o *echoOut) { o.Verbose = true }), ""},
		{"single value for a list", map[string]any{"host": "h", "tags": "x"}, with(func(o *echoOut) { o.Tags = []string{"x"} }), ""},
		{"list as JSON text", map[string]any{"host": "h", "tags": `["x","y"]`}, with(func(o *echoOut) { o.Tags = []string{"x", "y"} }), ""},
		{"number for a string", map[string]any{"host": 42}, with(func(o *echoOut) { o.Host = "42" }), ""},
		{"enum case forgiven", map[string]any{"host": "h", "protocol": "https"}, with(func(o *echoOut) { o.Protocol = "HTTPS" }), ""},
		{"arguments as JSON text", `{"host":"h"}`, defaults, ""},

		{"no arguments", nil, echoOut{}, `missing required argument "host"`},
		{"empty object", map[string]any{}, echoOut{}, `missing required argument "host"`},
		{"required null", map[string]any{"host": nil}, echoOut{}, `missing required argument "host"`},
		{"unknown argument", map[string]any{"host": "h", "protcol": "HTTP"}, echoOut{},
			`unknown argument "protcol" (did you mean "protocol"?); valid arguments: host, limit, protocol, tags, verbose`},
		{"unknown arguments", map[string]any{"host": "h", "zzz": 1, "Limit": 1}, echoOut{},
			`unknown argument "Limit" (did you mean "limit"?); unknown argument "zzz"; valid arguments: host, limit, protocol, tags, verbose`},
		{"integer as bad string", map[string]any{"host": "h", "limit": "abc"}, echoOut{}, `argument "limit" must be an integer, got string "abc"`},
		{"fraction for integer", map[string]any{"host": "h", "limit": 4.5}, echoOut{}, `argument "limit" must be an integer, got number 4.5`},
		{"boolean for integer", map[string]any{"host": "h", "limit": true}, echoOut{}, `argument "limit" must be an integer, got boolean true`},
		{"limit above its maximum lists the maximum", map[string]any{"host": "h", "limit": 1000}, with(func(o *echoOut) { o.Limit = 500 }), ""},
		{"below minimum", map[string]any{"host": "h", "limit": "0"}, echoOut{}, `argument "limit" must be at least 1, got 0`},
		{"limit too large for int", map[string]any{"host": "h", "limit": json.Number("1e300")}, with(func(o *echoOut) { o.Limit = 500 }), ""},
		{"not in enum", map[string]any{"host": "h", "protocol": "FTP"}, echoOut{}, `argument "protocol" must be one of "HTTP", "HTTPS", got string "FTP"`},
		{"bad boolean", map[string]any{"host": "h", "verbose": "yes"}, echoOut{}, `argument "verbose" must be a boolean (true or false), got string "yes"`},
		{"object for string", map[string]any{"host": map[string]any{}}, echoOut{}, `argument "host" must be a string, got object`},
		{"bad list item", map[string]any{"host": "h", "tags": []any{"a", []any{}}}, echoOut{}, `argument "tags[1]" must be a string, got array`},
		{"several problems", map[string]any{"host": true, "limit": "x"}, echoOut{},
			`argument "host" must be a string, got boolean true; argument "limit" must be an integer, got string "x"`},
		{"arguments not an object", []any{"h"}, echoOut{}, `the arguments must be a JSON object, got array`},
		{"handler error", map[string]any{"host": "fail"}, echoOut{}, "no Cloud Connector exposes host fail"},
		{"handler panic", map[string]any{"host": "panic"}, echoOut{}, "internal error in tool echo: please report this"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := call(t, tool, tt.args)
			got := text(t, res)
			if tt.wantErr != "" {
				if !res.IsError || got != tt.wantErr {
					t.Errorf("result isError=%v %q\nwant isError=true %q", res.IsError, got, tt.wantErr)
				}
				if res.StructuredContent != nil {
					t.Errorf("error result has structured content %v", res.StructuredContent)
				}
				return
			}
			if res.IsError {
				t.Fatalf("unexpected isError result %q", got)
			}
			out, ok := res.StructuredContent.(echoOut)
			if !ok {
				t.Fatalf("structured content is %T, want echoOut", res.StructuredContent)
			}
			tt.want.At = out.At
			if !reflect.DeepEqual(out, tt.want) {
				t.Errorf("structured content = %+v\nwant %+v", out, tt.want)
			}
			assertResultMatches(t, tool, res)
		})
	}
}

// assertResultMatches checks that the structured content conforms to the output schema and
// that the text content is the same JSON.
func assertResultMatches(t *testing.T, tool server.ServerTool, res *mcp.CallToolResult) {
	t.Helper()
	if err := schemas.Validate(tool.Tool.RawOutputSchema, res.StructuredContent); err != nil {
		t.Errorf("structured content does not match the output schema: %v", err)
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var fromText, fromStructured any
	if err := json.Unmarshal([]byte(text(t, res)), &fromText); err != nil {
		t.Fatalf("text content is not JSON: %v", err)
	}
	if err := json.Unmarshal(structured, &fromStructured); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromText, fromStructured) {
		t.Errorf("text content %s differs from structured content %s", text(t, res), structured)
	}
}

func TestNewTextIsCompactAndReadable(t *testing.T) {
	t.Parallel()
	res := call(t, New(nil, echoDef, echo), map[string]any{"host": "html"})
	want := `{"host":"html","protocol":"HTTP","limit":50,"tags":[],"verbose":false,"note":"<a & b>","at":"2024-05-06T07:08:09Z"}`
	if got := text(t, res); got != want {
		t.Errorf("text = %s\nwant %s", got, want)
	}
}

func TestNewRawArguments(t *testing.T) {
	t.Parallel()
	tool := New(nil, echoDef, echo)
	huge := strings.Repeat("é", 1<<20)
	tests := []struct {
		name     string
		raw      string
		wantHost string // "" when an error is expected
		wantErr  string // prefix of the error text
	}{
		{"as sent by a client", `{"host":"h","limit":"42"}`, "h", ""},
		{"null", `null`, "", `missing required argument "host"`},
		{"invalid UTF-8 is replaced", "{\"host\":\"a\xffb\"}", "a\uFFFDb", ""},
		{"huge string", `{"host":"` + huge + `"}`, huge, ""},
		{"huge string in an error", `{"host":"h","limit":"` + huge + `"}`, "", `argument "limit" must be an integer, got string "éééé`},
		{"huge unknown key", `{"host":"h","` + huge + `":1}`, "", `unknown argument "éééé`},
		{"not JSON", `{"host":`, "", "the arguments are not valid JSON"},
		{"a number", `42`, "", "the arguments must be a JSON object, got number 42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := mcp.CallToolRequest{}
			req.Params.Name = "echo"
			req.Params.RawArguments = json.RawMessage(tt.raw)
			res := callRequest(t, tool, req)
			got := text(t, res)
			if tt.wantErr != "" {
				if !res.IsError || !strings.HasPrefix(got, tt.wantErr) || len(got) > 1000 {
					t.Errorf("result isError=%v %.200q, want an error starting %q of at most 1000 bytes", res.IsError, got, tt.wantErr)
				}
				return
			}
			if res.IsError {
				t.Fatalf("unexpected isError result %.200q", got)
			}
			if host := res.StructuredContent.(echoOut).Host; host != tt.wantHost {
				t.Errorf("host = %.40q, want %.40q", host, tt.wantHost)
			}
		})
	}
}

func TestNewToolWithoutArguments(t *testing.T) {
	t.Parallel()
	type out struct {
		Count int `json:"count"`
	}
	tool := New(nil, Definition{Name: "count", Title: "Count", Description: "Counts."},
		func(context.Context, struct{}) (out, error) { return out{Count: 3}, nil })
	if res := call(t, tool, nil); res.IsError || text(t, res) != `{"count":3}` {
		t.Errorf("call without arguments = %v %q", res.IsError, text(t, res))
	}
	res := call(t, tool, map[string]any{"x": 1})
	if want := `unknown argument "x"; this tool takes no arguments`; !res.IsError || text(t, res) != want {
		t.Errorf("call with an argument = %v %q, want %q", res.IsError, text(t, res), want)
	}
}

func TestNewDefinition(t *testing.T) {
	t.Parallel()
	tool := New(nil, echoDef, echo)
	if tool.Tool.Name != "echo" || tool.Tool.Title != "Echo" || tool.Tool.Description != "Echoes its arguments." {
		t.Errorf("tool = %+v", tool.Tool)
	}
	if err := toolsnaps.CheckAnnotations(tool.Tool); err != nil {
		t.Error(err)
	}
	a := tool.Tool.Annotations
	if a.Title != "Echo" || !*a.ReadOnlyHint || *a.DestructiveHint || !*a.IdempotentHint || !*a.OpenWorldHint {
		t.Errorf("annotations = %+v", a)
	}
	if !bytes.Equal(tool.Tool.RawInputSchema, schemas.Reflect[echoIn]()) || !bytes.Equal(tool.Tool.RawOutputSchema, schemas.ReflectOutput[echoOut]()) {
		t.Errorf("schemas are not the reflected ones")
	}
	if tool.Tool.InputSchema.Type != "" || tool.Tool.OutputSchema.Type != "" {
		t.Errorf("structured schemas are set besides the raw ones; mcp-go refuses to marshal that")
	}

	for _, def := range []Definition{
		{Name: "", Title: "T", Description: "D"},
		{Name: "Echo", Title: "T", Description: "D"},
		{Name: "echo tool", Title: "T", Description: "D"},
		{Name: "echo", Title: "", Description: "D"},
		{Name: "echo", Title: "T", Description: ""},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", def)
				}
			}()
			New(nil, def, echo)
		}()
	}
}

// TestNewLogs checks what a call logs: one debug line without argument values, and for a
// panic an error line with the stack that the model never sees.
func TestNewLogs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tool := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), echoDef, echo)
	call(t, tool, map[string]any{"host": "some-secret-host"})
	logged := buf.String()
	if !strings.Contains(logged, "level=DEBUG") || !strings.Contains(logged, "tool=echo") ||
		!strings.Contains(logged, "duration=") || !strings.Contains(logged, "is_error=false") {
		t.Errorf("debug log = %q, want tool, duration and is_error", logged)
	}
	if strings.Contains(logged, "some-secret-host") {
		t.Errorf("debug log shows an argument value: %q", logged)
	}

	buf.Reset()
	res := call(t, tool, map[string]any{"host": "panic"})
	logged = buf.String()
	if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "secret detail") ||
		!strings.Contains(logged, "tools.echo") || !strings.Contains(logged, "is_error=true") {
		t.Errorf("panic log = %q, want an error with the panic value and stack", logged)
	}
	if strings.Contains(text(t, res), "secret detail") {
		t.Errorf("panic detail leaked to the model: %q", text(t, res))
	}
}

// TestNewInProcess drives the tool through a real mcp-go server and client.
func TestNewInProcess(t *testing.T) {
	t.Parallel()
	srv := server.NewMCPServer("test", "0.0.1", server.WithToolCapabilities(false))
	srv.AddTools(New(nil, echoDef, echo))
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}

	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != 1 {
		t.Fatalf("tools = %+v, want one", list.Tools)
	}
	listed := list.Tools[0]
	if err := toolsnaps.CheckAnnotations(listed); err != nil {
		t.Error(err)
	}
	if listed.Title != "Echo" || listed.InputSchema.Type != "object" || listed.OutputSchema.Type != "object" ||
		!reflect.DeepEqual(listed.InputSchema.Required, []string{"host"}) {
		t.Errorf("listed tool = %+v", listed)
	}

	callTool := func(args map[string]any) *mcp.CallToolResult {
		t.Helper()
		req := mcp.CallToolRequest{}
		req.Params.Name = "echo"
		req.Params.Arguments = args
		res, err := c.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("CallTool(%v) = %v, want a result", args, err)
		}
		return res
	}

	res := callTool(map[string]any{"host": "h", "limit": "7", "tags": "x"})
	if res.IsError {
		t.Fatalf("isError result %q", text(t, res))
	}
	want := map[string]any{"host": "h", "protocol": "HTTP", "limit": 7.0, "tags": []any{"x"}, "verbose": false, "at": "2024-05-06T07:08:09Z"}
	if !reflect.DeepEqual(res.StructuredContent, want) {
		t.Errorf("structured content = %#v\nwant %#v", res.StructuredContent, want)
	}
	assertResultMatches(t, New(nil, echoDef, echo), res)

	for args, wantText := range map[string]string{
		"fail":    "no Cloud Connector exposes host fail",
		"panic":   "internal error in tool echo: please report this",
		"protcol": `unknown argument "protcol" (did you mean "protocol"?); valid arguments: host, limit, protocol, tags, verbose`,
	} {
		arguments := map[string]any{"host": args}
		if args == "protcol" {
			arguments = map[string]any{"host": "h", "protcol": "HTTP"}
		}
		res := callTool(arguments)
		if !res.IsError || text(t, res) != wantText || res.StructuredContent != nil {
			t.Errorf("%s: result isError=%v %q structured=%v, want isError %q", args, res.IsError, text(t, res), res.StructuredContent, wantText)
		}
	}

	// Without arguments at all, the call is decoded as an empty object.
	req := mcp.CallToolRequest{}
	req.Params.Name = "echo"
	if res, err := c.CallTool(ctx, req); err != nil || !res.IsError || text(t, res) != `missing required argument "host"` {
		t.Errorf("CallTool without arguments = %v, %v", res, err)
	}
}
