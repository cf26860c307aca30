package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// Bad input over every tool: each argument of each tool, as its input schema declares it, gets
// wrong types, empty, huge, control-character and invalid-UTF-8 values, and the whole argument
// object gets garbage. Every call must answer: an isError result with a short, readable sentence
// naming the argument, or a success where the input is harmless (a documented clamp, a filter
// matching nothing). None may panic (the adapter would answer "internal error").

// badProp is one property of a tool's input schema.
type badProp struct {
	Type      string `json:"type"`
	Enum      []any  `json:"enum"`
	MaxLength *int   `json:"maxLength"`
	Minimum   *float64
}

// badSchema reads the properties of a tool's input schema.
func badSchema(t *testing.T, raw json.RawMessage) map[string]badProp {
	t.Helper()
	var s struct {
		Properties map[string]struct {
			Type      string   `json:"type"`
			Enum      []any    `json:"enum"`
			MaxLength *int     `json:"maxLength"`
			Minimum   *float64 `json:"minimum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("input schema: %v", err)
	}
	props := map[string]badProp{}
	for name, p := range s.Properties {
		props[name] = badProp{Type: p.Type, Enum: p.Enum, MaxLength: p.MaxLength, Minimum: p.Minimum}
	}
	return props
}

// badCase is one call with raw JSON arguments and what must come of it.
type badCase struct {
	name string
	args string // raw JSON, as a client sends it (may hold invalid UTF-8)
	// wantError: the result must be isError and contain every fragment.
	wantError []string
	// mayPass: a success is fine too (the value is harmless); an isError must then contain
	// every fragment of wantError.
	mayPass bool
	// mustPass: the input is valid and the call must succeed.
	mustPass bool
}

func badJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// badCasesFor derives the cases of one tool from its input schema.
func badCasesFor(t *testing.T, props map[string]badProp) []badCase {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	arg := func(name string) string { return fmt.Sprintf("argument %q", name) }
	one := func(name, rawValue string) string { return "{" + badJSON(name) + ":" + rawValue + "}" }

	mega := strings.Repeat("x", 1<<20)
	control := "\x00\x01\x07\x08\x1b[31mred\x1b[0m\r\n\t\x7f\u200b\u202e"
	invalidUTF8 := "\xff\xfe\xc3\x28\xed\xa0\x80ok"

	var cases []badCase
	for _, name := range names {
		p := props[name]
		switch p.Type {
		case "string":
			for label, v := range map[string]string{"true": `true`, "object": `{"a":1}`, "array of objects": `[{}]`, "nested array": `[[1]]`} {
				cases = append(cases, badCase{name: name + " is " + label, args: one(name, v), wantError: []string{arg(name), "must be a string"}})
			}
			cases = append(cases, badCase{name: name + " of 1 MB", args: one(name, badJSON(mega)), wantError: []string{arg(name)}})
			if len(p.Enum) > 0 {
				for label, v := range map[string]string{"empty": "", "control characters": control, "invalid UTF-8": invalidUTF8, "unknown value": "extreme_risk"} {
					cases = append(cases, badCase{name: name + " " + label, args: one(name, `"`+jsonEscapeKeepInvalid(v)+`"`), wantError: []string{arg(name), "must be one of"}})
				}
				continue
			}
			if p.MaxLength == nil {
				t.Errorf("string argument %q has no maxLength: a 1 MB value would be accepted", name)
			}
			// Free text: harmless values match nothing or are refused with a sentence naming
			// the argument (client_id answers which connectors exist).
			for label, v := range map[string]string{"empty": "", "control characters": control, "invalid UTF-8": invalidUTF8, "just spaces": "   "} {
				cases = append(cases, badCase{name: name + " " + label, args: one(name, `"`+jsonEscapeKeepInvalid(v)+`"`), mayPass: true, wantError: []string{name}})
			}
		case "integer", "number":
			for label, v := range map[string]string{"a word": `"many"`, "true": `true`, "object": `{}`, "array": `[]`, "a fraction": `2.5`, "NaN text": `"NaN"`, "too large for JSON floats": `1e400`} {
				cases = append(cases, badCase{name: name + " is " + label, args: one(name, v), wantError: []string{arg(name), "must be"}})
			}
			cases = append(cases, badCase{name: name + " beyond int64", args: one(name, "9223372036854775808"), mayPass: true, wantError: []string{arg(name)}})
			if p.Minimum != nil {
				for _, v := range []string{"0", "-1", `"-1"`, "-9223372036854775808"} {
					cases = append(cases, badCase{name: name + " " + v, args: one(name, v), wantError: []string{arg(name), "must be at least"}})
				}
			}
		case "boolean":
			for label, v := range map[string]string{"a word": `"maybe"`, "a number": `1`, "object": `{}`, "array": `[]`} {
				cases = append(cases, badCase{name: name + " is " + label, args: one(name, v), wantError: []string{arg(name), "must be a boolean"}})
			}
		default:
			t.Errorf("argument %q has type %q, which this test does not cover", name, p.Type)
		}
	}

	// The argument object as a whole.
	unknownMany := map[string]int{}
	for i := range 500 {
		unknownMany[fmt.Sprintf("bogus_%03d", i)] = i
	}
	typo := names[0][1:2] + names[0][:1] + names[0][2:] // two letters swapped
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	cases = append(cases,
		badCase{name: "unknown argument", args: `{"bogus":1}`, wantError: []string{`unknown argument "bogus"`, "valid arguments: " + strings.Join(names, ", ")}},
		badCase{name: "misspelt argument", args: one(typo, "1"), wantError: []string{fmt.Sprintf("unknown argument %q (did you mean %q?)", typo, names[0])}},
		badCase{name: "500 unknown arguments", args: badJSON(unknownMany), wantError: []string{"unknown argument", "more unknown arguments"}},
		badCase{name: "unknown argument with a 1 MB name", args: one(mega, "1"), wantError: []string{"unknown argument"}},
		badCase{name: "unknown argument with a control-character name", args: one("\x1b[2J\x00", "1"), wantError: []string{"unknown argument"}},
		badCase{name: "arguments an array", args: `[1,2]`, wantError: []string{"the arguments must be a JSON object, got array"}},
		badCase{name: "arguments a string", args: `"list everything"`, wantError: []string{"the arguments must be a JSON object, got string"}},
		badCase{name: "arguments a number", args: `42`, wantError: []string{"the arguments must be a JSON object, got number"}},
		badCase{name: "arguments invalid JSON", args: `{"limit":`, wantError: []string{"the arguments are not valid JSON"}},
		badCase{name: "arguments nested 100000 deep", args: deep, wantError: []string{"the arguments"}},
		badCase{name: "argument nested 100000 deep", args: one(names[0], deep), wantError: []string{"the arguments are not valid JSON"}},
		badCase{name: "arguments null", args: `null`, mustPass: true},
		badCase{name: "arguments empty object", args: `{}`, mustPass: true},
		badCase{name: "arguments as JSON text", args: `"{}"`, mustPass: true},
	)
	return cases
}

// jsonEscapeKeepInvalid escapes s for a JSON string literal like encoding/json, except that
// invalid UTF-8 bytes are kept as they are (encoding/json would replace them), as a careless
// client might send them.
func jsonEscapeKeepInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte(s[i])
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// badCheckText asserts what every isError text must be: short, valid UTF-8, free of control
// characters (they are quoted, never echoed raw), and never a panic's internal error.
func badCheckText(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, "internal error") {
		t.Errorf("internal error (a panic?): %s", relShort(text))
	}
	if len(text) > 2000 {
		t.Errorf("error of %d bytes, want a short sentence: %s", len(text), relShort(text))
	}
	if !utf8.ValidString(text) {
		t.Errorf("error is not valid UTF-8: %q", relShort(text))
	}
	if i := strings.IndexFunc(text, func(r rune) bool { return unicode.IsControl(r) }); i >= 0 {
		t.Errorf("error holds a raw control character at %d: %q", i, relShort(text))
	}
}

func TestBadInputEveryTool(t *testing.T) {
	t.Parallel()
	e := relStart(t, relSetup{ttl: time.Hour, callTimeout: 10 * time.Second})
	t.Cleanup(func() { // after the parallel subtests
		if n := e.sim.Counts(); n.APIRequests > 1 {
			t.Errorf("%d API requests: bad input must not cause extra reads", n.APIRequests)
		}
	})
	for _, tool := range All(e.cfg) {
		t.Run(tool.Tool.Name, func(t *testing.T) {
			t.Parallel()
			props := badSchema(t, tool.Tool.RawInputSchema)
			for _, tc := range badCasesFor(t, props) {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					req := mcp.CallToolRequest{}
					req.Params.Name = tool.Tool.Name
					req.Params.RawArguments = json.RawMessage(tc.args)
					res, err := tool.Handler(context.Background(), req)
					if err != nil || res == nil || len(res.Content) == 0 {
						t.Fatalf("handler returned (%v, %v); want a result", res, err)
					}
					text := ""
					if tc, ok := res.Content[0].(mcp.TextContent); ok {
						text = tc.Text
					}
					t.Logf("isError=%v %s", res.IsError, relShort(text))
					if tc.mustPass && res.IsError {
						t.Fatalf("isError %s; want success", relShort(text))
					}
					if !res.IsError {
						if !tc.mayPass && !tc.mustPass {
							t.Fatalf("success %s; want isError containing %q", relShort(text), tc.wantError)
						}
						if !json.Valid([]byte(text)) {
							t.Errorf("success text is not JSON: %s", relShort(text))
						}
						return
					}
					badCheckText(t, text)
					for _, w := range tc.wantError {
						if !strings.Contains(text, w) {
							t.Errorf("error %q does not contain %q", relShort(text), w)
						}
					}
				})
			}
		})
	}
}

// TestBadInputLimitIsClamped: a limit above 500 is the documented clamp, not an error, on a
// landscape larger than that.
func TestBadInputLimitIsClamped(t *testing.T) {
	t.Parallel()
	e := relStart(t, relSetup{sim: simulator.Options{Landscape: simulator.LargeLandscape(schemas.MaxLimit+50, 2)},
		ttl: time.Hour, callTimeout: 30 * time.Second})
	for _, tool := range All(e.cfg) {
		if _, ok := badSchema(t, tool.Tool.RawInputSchema)["limit"]; !ok {
			continue
		}
		for _, limit := range []string{"1000000000", `"1000000000"`, "501", "1e9"} {
			req := mcp.CallToolRequest{}
			req.Params.Name = tool.Tool.Name
			req.Params.RawArguments = json.RawMessage(`{"limit":` + limit + `}`)
			res, err := tool.Handler(context.Background(), req)
			if err != nil || res == nil || len(res.Content) == 0 {
				t.Fatalf("%s limit %s: handler returned (%v, %v)", tool.Tool.Name, limit, res, err)
			}
			text := res.Content[0].(mcp.TextContent).Text
			if res.IsError {
				t.Errorf("%s limit %s: isError %s; want the clamp to %d", tool.Tool.Name, limit, relShort(text), schemas.MaxLimit)
				continue
			}
			var page schemas.Page
			if err := json.Unmarshal([]byte(text), &page); err != nil {
				t.Fatal(err)
			}
			if page.Total > schemas.MaxLimit && (page.Returned != schemas.MaxLimit || !page.Truncated) {
				t.Errorf("%s limit %s: page %+v, want %d returned and truncated", tool.Tool.Name, limit, page, schemas.MaxLimit)
			}
			if page.Returned > schemas.MaxLimit {
				t.Errorf("%s limit %s: %d returned, over the %d clamp", tool.Tool.Name, limit, page.Returned, schemas.MaxLimit)
			}
		}
	}
}
