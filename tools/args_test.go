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

type filterArg struct {
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=HTTP,enum=RFC,default=HTTP"`
	Port     int    `json:"port"`
}

type richIn struct {
	Name    string            `json:"name,omitempty" jsonschema:"minLength=2,maxLength=5"`
	Ratio   float64           `json:"ratio,omitempty" jsonschema:"maximum=1"`
	Level   int               `json:"level,omitempty" jsonschema:"enum=1,enum=2"`
	Small   int8              `json:"small,omitempty"`
	Since   time.Time         `json:"since,omitzero"`
	Filter  *filterArg        `json:"filter,omitempty"`
	Filters []filterArg       `json:"filters,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Any     map[string]any    `json:"any,omitempty"`
	Pattern string            `json:"pattern,omitempty" jsonschema:"pattern=^[a-z]+$"`
}

func decodeRich(t *testing.T, args any) (richIn, error) {
	t.Helper()
	d, err := newArgDecoder(schemas.Reflect[richIn]())
	if err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Arguments = args
	var in richIn
	err = d.decode(req, &in)
	return in, err
}

func TestDecodeArguments(t *testing.T) {
	since := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		args    map[string]any
		want    richIn
		wantErr string
	}{
		{"number as string", map[string]any{"ratio": "0.5"}, richIn{Ratio: 0.5}, ""},
		{"integer enum as string", map[string]any{"level": "2"}, richIn{Level: 2}, ""},
		{"date-time", map[string]any{"since": "2024-01-02T03:04:05Z"}, richIn{Since: since}, ""},
		{"nested object with default", map[string]any{"filter": map[string]any{"port": "443"}},
			richIn{Filter: &filterArg{Protocol: "HTTP", Port: 443}}, ""},
		{"nested object as JSON text", map[string]any{"filter": `{"port":1,"protocol":"rfc"}`},
			richIn{Filter: &filterArg{Protocol: "RFC", Port: 1}}, ""},
		{"single object for a list", map[string]any{"filters": map[string]any{"port": 1}},
			richIn{Filters: []filterArg{{Protocol: "HTTP", Port: 1}}}, ""},
		{"map values", map[string]any{"labels": map[string]any{"a": "x", "b": 2}}, richIn{Labels: map[string]string{"a": "x", "b": "2"}}, ""},
		{"open map", map[string]any{"any": map[string]any{"a": nil, "b": []any{true}}},
			richIn{Any: map[string]any{"a": nil, "b": []any{true}}}, ""},

		{"string too short", map[string]any{"name": "a"}, richIn{}, `argument "name" must be at least 2 characters long, got 1`},
		{"string too long", map[string]any{"name": "abcdéf"}, richIn{}, `argument "name" must be at most 5 characters long, got 6`},
		{"number above maximum", map[string]any{"ratio": 1.5}, richIn{}, `argument "ratio" must be at most 1, got 1.5`},
		{"number not numeric", map[string]any{"ratio": "NaN"}, richIn{}, `argument "ratio" must be a number, got string "NaN"`},
		{"hex is not a number", map[string]any{"ratio": "0x10"}, richIn{}, `argument "ratio" must be a number, got string "0x10"`},
		{"integer not in enum", map[string]any{"level": 3}, richIn{}, `argument "level" must be one of 1, 2, got 3`},
		{"out of range for the Go type", map[string]any{"small": 300}, richIn{}, `argument "small" is out of range, got number 300`},
		{"bad date-time", map[string]any{"since": "yesterday"}, richIn{},
			`argument "since" must be a date-time like "2006-01-02T15:04:05Z", got string "yesterday"`},
		{"nested unknown", map[string]any{"filter": map[string]any{"port": 1, "prot": "HTTP"}}, richIn{},
			`unknown argument "filter.prot" (did you mean "filter.port"?); valid arguments in "filter": port, protocol`},
		{"nested required", map[string]any{"filters": []any{map[string]any{}}}, richIn{}, `missing required argument "filters[0].port"`},
		{"nested enum", map[string]any{"filter": map[string]any{"port": 1, "protocol": "FTP"}}, richIn{},
			`argument "filter.protocol" must be one of "HTTP", "RFC", got string "FTP"`},
		{"string for an object", map[string]any{"filter": "port 1"}, richIn{}, `argument "filter" must be an object, got string "port 1"`},
		{"keyword the coercer leaves to the validator", map[string]any{"pattern": "ABC"}, richIn{}, "invalid arguments: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRich(t, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("decode = %v, want an error starting %q", err, tt.wantErr)
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
	args := map[string]any{"filters": make([]any, 1000)}
	for i := range 1000 {
		args[fmt.Sprintf("unknown%04d", i)] = i
	}
	_, err := decodeRich(t, args)
	if err == nil || len(err.Error()) > 2000 ||
		!strings.Contains(err.Error(), "and 990 more unknown arguments") || !strings.HasSuffix(err.Error(), "and 991 more problems") {
		t.Errorf("decode = %.3000v, want at most 10 problems of each kind", err)
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
		v    any
		want any
	}{
		{` ["a", 1] `, []any{"a", json.Number("1")}},
		{`{"a":true}`, map[string]any{"a": true}},
		{`[1] [2]`, nil},
		{`[1`, nil},
		{`abc`, nil},
		{``, nil},
		{42, nil},
	}
	for _, tt := range tests {
		if got := parseJSON(tt.v); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseJSON(%#v) = %#v, want %#v", tt.v, got, tt.want)
		}
	}
}
