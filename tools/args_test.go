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
		{"integer not in enum", map[string]any{"level": 3}, richIn{}, `argument "level" must be one of 1, 2, got 3`},
		{"out of range for the Go type", map[string]any{"small": 300}, richIn{}, `argument "small" is out of range, got number 300`},
		{"list item below minimum", map[string]any{"ports": []any{1, 0}}, richIn{}, `argument "ports[1]" must be at least 1, got 0`},
		{"bad list item", map[string]any{"scores": []any{1, "x"}}, richIn{}, `argument "scores[1]" must be a number, got string "x"`},
		{"object for a list", map[string]any{"flags": map[string]any{}}, richIn{}, `argument "flags[0]" must be a boolean (true or false), got object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRich(t, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
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
	args := map[string]any{"ports": make([]any, 1000)}
	for i := range 1000 {
		args[fmt.Sprintf("unknown%04d", i)] = i
	}
	_, err := decodeRich(t, args)
	if err == nil || len(err.Error()) > 2000 ||
		!strings.Contains(err.Error(), "and 990 more unknown arguments") || !strings.HasSuffix(err.Error(), "and 991 more problems") {
		t.Errorf("decode = %.3000v, want at most 10 problems of each kind", err)
	}
}

// TestNewArgsRefusesWhatItCannotCheck: an input type the layer cannot fully check, or whose
// default breaks its own constraints, is refused when the tool is built.
func TestNewArgsRefusesWhatItCannotCheck(t *testing.T) {
	type nested struct {
		Filter struct {
			Port int `json:"port"`
		} `json:"filter"`
	}
	type pattern struct {
		Name string `json:"name" jsonschema:"pattern=^[a-z]+$"`
	}
	type dateTime struct {
		Since time.Time `json:"since"`
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
	tests := []struct {
		name   string
		schema json.RawMessage
		want   string
	}{
		{"nested object", schemas.Reflect[nested](), `unknown field "properties"`},
		{"unchecked keyword", schemas.Reflect[pattern](), `unknown field "pattern"`},
		{"format", schemas.Reflect[dateTime](), `unknown field "format"`},
		{"non-string slice default", schemas.Reflect[badDefault](), `argument "ports" has the default ["80"], not of type array`},
		{"default outside enum", schemas.Reflect[badEnumDefault](), `argument "protocol" must be one of "HTTP", got string "FTP"`},
		{"default below minimum", schemas.Reflect[outOfRangeDefault](), `argument "limit" must be at least 1, got 0`},
		{"open object", json.RawMessage(`{"type":"object","properties":{}}`), `"additionalProperties": false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newArgs(tt.schema); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("newArgs = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{true, "boolean true"},
		{json.Number("4.5"), "number 4.5"},
		{"a\"b", `string "a\"b"`},
		{long, `string "` + long[:64] + `"… (100 characters)`},
		{[]any{}, "array"},
		{map[string]any{}, "object"},
	}
	for _, tt := range tests {
		if got := describe(tt.v); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
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
		if got := closest(tt.name, valid); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseJSON(t *testing.T) {
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
	}
	for _, tt := range tests {
		if got := parseJSON(tt.v); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseJSON(%#v) = %#v, want %#v", tt.v, got, tt.want)
		}
	}
}
