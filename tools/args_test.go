package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

type richIn struct {
	Name   string    `json:"name,omitempty" jsonschema:"minLength=2,maxLength=5"`
	Ratio  float64   `json:"ratio,omitempty" jsonschema:"maximum=1"`
	Level  int       `json:"level,omitempty" jsonschema:"enum=1,enum=2"`
	Small  int8      `json:"small,omitempty"`
	Ports  []int     `json:"ports,omitempty" jsonschema:"minimum=1"`
	Scheme string    `json:"scheme,omitempty" jsonschema:"enum=HTTP,enum=RFC,default=HTTP"`
	Flags  []bool    `json:"flags,omitempty"`
	Scores []float64 `json:"scores,omitempty"`
	Code   string    `json:"code,omitempty" jsonschema:"pattern=^[a-z]+$"`
	Since  time.Time `json:"since,omitzero"`
}

func decodeRich(t *testing.T, sent any) (richIn, error) {
	t.Helper()
	a, err := newArgs(schemas.Reflect[richIn]())
	if err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Arguments = sent
	var in richIn
	err = a.decode(req, &in)
	return in, err
}

// TestDecodeArguments covers what TestNewCalls (through the adapter) does not.
func TestDecodeArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    map[string]any
		want    richIn
		wantErr string
	}{
		{"number as string", map[string]any{"ratio": "0.5"}, richIn{Ratio: 0.5, Scheme: "HTTP"}, ""},
		{"integer enum as string", map[string]any{"level": "2"}, richIn{Level: 2, Scheme: "HTTP"}, ""},
		{"exponent for an integer", map[string]any{"level": "2e0"}, richIn{Level: 2, Scheme: "HTTP"}, ""},
		{"list items coerced", map[string]any{"ports": []any{"80", 443}}, richIn{Ports: []int{80, 443}, Scheme: "HTTP"}, ""},
		{"single string for a list of integers", map[string]any{"ports": "443"}, richIn{Ports: []int{443}, Scheme: "HTTP"}, ""},
		{"list of booleans as JSON text", map[string]any{"flags": `[true,"false"]`}, richIn{Flags: []bool{true, false}, Scheme: "HTTP"}, ""},
		{"enum default replaced", map[string]any{"scheme": "rfc"}, richIn{Scheme: "RFC"}, ""},

		{"string too short", map[string]any{"name": "a"}, richIn{}, `argument "name" must be at least 2 characters long, got 1`},
		{"string too long", map[string]any{"name": "abcdéf"}, richIn{}, `argument "name" must be at most 5 characters long, got 6`},
		{"number above maximum", map[string]any{"ratio": 1.5}, richIn{}, `argument "ratio" must be at most 1, got 1.5`},
		{"number not numeric", map[string]any{"ratio": "NaN"}, richIn{}, `argument "ratio" must be a number, got string "NaN"`},
		{"hex is not a number", map[string]any{"ratio": "0x10"}, richIn{}, `argument "ratio" must be a number, got string "0x10"`},
		{"integer not in enum", map[string]any{"level": 3}, richIn{}, `argument "level" must be one of 1, 2, got number 3`},
		{"out of range for the Go type", map[string]any{"small": 300}, richIn{}, `argument "small" must be between -128 and 127, got number 300`},
		{"pattern", map[string]any{"code": "AB"}, richIn{}, `argument "code" is invalid: 'AB' does not match pattern '^[a-z]+$'`},
		{"date-time", map[string]any{"since": "yesterday"}, richIn{}, `argument "since" is invalid: 'yesterday' is not valid date-time: `},
		{"list item below minimum", map[string]any{"ports": []any{1, 0}}, richIn{}, `argument "ports[1]" must be at least 1, got 0`},
		{"bad list item", map[string]any{"scores": []any{1, "x"}}, richIn{}, `argument "scores[1]" must be a number, got string "x"`},
		{"object for a list", map[string]any{"flags": map[string]any{}}, richIn{}, `argument "flags[0]" must be a boolean (true or false), got object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeRich(t, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("decode = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeBoundsProblems(t *testing.T) {
	t.Parallel()
	args := map[string]any{"ports": make([]any, 1000)}
	for i := range 1000 {
		args[fmt.Sprintf("unknown%04d", i)] = i
	}
	_, err := decodeRich(t, args)
	if err == nil || len(err.Error()) > 2000 ||
		!strings.Contains(err.Error(), "and 990 more unknown arguments") || !strings.HasSuffix(err.Error(), "and 990 more problems") {
		t.Errorf("decode = %.3000v, want at most 10 problems of each kind", err)
	}
}

// defaultsFit checks the defaults an input schema declares against the schema, exactly (the
// argument layer would forgive slips in them).
func defaultsFit(schema json.RawMessage) error {
	var root struct {
		Properties map[string]struct {
			Default any `json:"default"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema, &root); err != nil {
		return err
	}
	defaults := map[string]any{}
	for name, p := range root.Properties {
		if p.Default != nil {
			defaults[name] = p.Default
		}
	}
	return schemas.Validate(schema, defaults)
}

// TestDefaultsFit: a declared default that breaks its own schema would turn every call without
// that argument into an error; every tool's defaults fit, and the check catches those that do not.
func TestDefaultsFit(t *testing.T) {
	t.Parallel()
	for _, tool := range All(Config{}) {
		if err := defaultsFit(tool.Tool.RawInputSchema); err != nil {
			t.Errorf("%s: %v", tool.Tool.Name, err)
		}
	}
	type badDefault struct {
		Ports []int `json:"ports,omitempty" jsonschema:"default=80"`
	}
	type badEnumDefault struct {
		Protocol string `json:"protocol,omitempty" jsonschema:"enum=HTTP,default=FTP"`
	}
	type outOfRangeDefault struct {
		Limit int `json:"limit,omitempty" jsonschema:"minimum=1,default=0"`
	}
	for _, schema := range []json.RawMessage{schemas.Reflect[badDefault](), schemas.Reflect[badEnumDefault](), schemas.Reflect[outOfRangeDefault]()} {
		if defaultsFit(schema) == nil {
			t.Errorf("defaults of %s pass, want an error", schema)
		}
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{true, "boolean true"},
		{json.Number("4.5"), "number 4.5"},
		{"a\"b", `string "a\"b"`},
		{long, `string "` + long[:64] + `…"`},
		{[]any{}, "array"},
		{map[string]any{}, "object"},
	}
	for _, tt := range tests {
		if got := describe(tt.v); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	valid := []string{"client_id", "host", "limit", "protocol"}
	tests := []struct{ name, want string }{
		{"protcol", "protocol"},
		{"Host", "host"},
		{"hots", "host"},
		{"clientid", "client_id"},
		{"limits", "limit"},
		{"region", ""},
		{"x", ""},
		{strings.Repeat("a", 1000), ""},
	}
	for _, tt := range tests {
		want := ""
		if tt.want != "" {
			want = fmt.Sprintf(" (did you mean %q?)", tt.want)
		}
		if got := didYouMean(tt.name, valid); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", tt.name, got, want)
		}
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    string
		want any
	}{
		{` ["a", 1] `, []any{"a", json.Number("1")}},
		{`{"a":true}`, map[string]any{"a": true}},
		{`[1] [2]`, nil},
		{`[1`, nil},
		{`abc`, nil},
		{``, nil},
		{` 4.50 `, json.Number("4.50")},
		{`null`, nil},
	}
	for _, tt := range tests {
		if got := parseJSON([]byte(tt.v)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseJSON(%#v) = %#v, want %#v", tt.v, got, tt.want)
		}
	}
}

// TestDecodeListDefaultConcurrently: a list default is shared by every call; normalising it must
// not write to it (the race detector would see concurrent calls do so).
func TestDecodeListDefaultConcurrently(t *testing.T) {
	t.Parallel()
	type tagsIn struct {
		Tags []string `json:"tags,omitempty" jsonschema:"default=a"`
	}
	a, err := newArgs(schemas.Reflect[tagsIn]())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var in tagsIn
			err := a.decode(mcp.CallToolRequest{}, &in)
			if err == nil && !reflect.DeepEqual(in.Tags, []string{"a"}) {
				err = fmt.Errorf("tags = %q, want the default [a]", in.Tags)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkArgsDecode measures the argument layer alone, on find_exposed_system's input.
func BenchmarkArgsDecode(b *testing.B) {
	a, err := newArgs(schemas.Reflect[schemas.FindExposedSystemInput]())
	if err != nil {
		b.Fatal(err)
	}
	for name, raw := range map[string]string{"empty": `{}`, "three": `{"query":"s4h","protocol":"https","limit":"20"}`} {
		b.Run(name, func(b *testing.B) {
			req := mcp.CallToolRequest{}
			req.Params.RawArguments = json.RawMessage(raw)
			b.ReportAllocs()
			for b.Loop() {
				var in schemas.FindExposedSystemInput
				if err := a.decode(req, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
