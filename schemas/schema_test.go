package schemas

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

type sampleNested struct {
	Key    string `json:"key"`
	Status string `json:"status,omitempty"`
}

type sampleEmbedded struct {
	Region string `json:"region,omitempty" jsonschema_description:"Region, as in the binding."`
}

type sample struct {
	sampleEmbedded
	Host     string            `json:"host" jsonschema:"description=Virtual host\\, as exposed"`
	Protocol string            `json:"protocol,omitempty" jsonschema:"enum=HTTP,enum=HTTPS,default=HTTPS"`
	Limit    int               `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50"`
	Ratio    float64           `json:"ratio,omitempty"`
	Verbose  bool              `json:"verbose,omitempty"`
	Since    time.Time         `json:"since"`
	Checks   []sampleNested    `json:"checks"`
	Optional *sampleNested     `json:"optional,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Extra    map[string]any    `json:"extra,omitempty"`
	Untagged string            `json:",omitempty"`
	hidden   string
	Skipped  string `json:"-"`
}

// decodeSchema returns the schema of T as generic JSON.
func decodeSchema[T any](t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(Reflect[T](), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// walk calls f for every object in the JSON value v, with its JSON pointer.
func walk(v any, ptr string, f func(ptr string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(ptr, x)
		for k, child := range x {
			walk(child, ptr+"/"+k, f)
		}
	case []any:
		for _, child := range x {
			walk(child, ptr+"/[]", f)
		}
	}
}

func TestReflectShape(t *testing.T) {
	t.Parallel()
	s := decodeSchema[sample](t)
	if s["type"] != "object" {
		t.Errorf("root type = %v, want object", s["type"])
	}
	if s["additionalProperties"] != false {
		t.Errorf("root additionalProperties = %v, want false", s["additionalProperties"])
	}
	walk(s, "", func(ptr string, m map[string]any) {
		if strings.HasSuffix(ptr, "/properties") {
			return // property names, not keywords
		}
		for _, k := range []string{"$ref", "$defs", "definitions", "$schema", "$id"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s has %s", ptr, k)
			}
		}
	})

	props := s["properties"].(map[string]any)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	wantNames := []string{"region", "host", "protocol", "limit", "ratio", "verbose", "since", "checks", "optional", "labels", "extra", "Untagged"}
	if len(names) != len(wantNames) {
		t.Errorf("properties = %v, want %v", names, wantNames)
	}
	for _, k := range wantNames {
		if props[k] == nil {
			t.Errorf("property %s missing", k)
		}
	}
	if got, want := s["required"], []any{"host", "since", "checks"}; !reflect.DeepEqual(got, want) {
		t.Errorf("required = %v, want %v", got, want)
	}

	tests := []struct {
		prop string
		key  string
		want any
	}{
		{"host", "description", "Virtual host, as exposed"},
		{"region", "description", "Region, as in the binding."},
		{"protocol", "enum", []any{"HTTP", "HTTPS"}},
		{"protocol", "default", "HTTPS"},
		{"limit", "type", "integer"},
		{"limit", "minimum", 1.0},
		{"limit", "maximum", 500.0},
		{"limit", "default", 50.0},
		{"ratio", "type", "number"},
		{"verbose", "type", "boolean"},
		{"since", "type", "string"},
		{"since", "format", "date-time"},
		{"checks", "type", "array"},
		{"optional", "type", "object"},
		{"optional", "additionalProperties", false},
		{"labels", "type", "object"},
		{"labels", "additionalProperties", map[string]any{"type": "string"}},
		{"extra", "type", "object"},
	}
	for _, tt := range tests {
		p, _ := props[tt.prop].(map[string]any)
		if got := p[tt.key]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s.%s = %#v, want %#v", tt.prop, tt.key, got, tt.want)
		}
	}
	items := props["checks"].(map[string]any)["items"].(map[string]any)
	if items["type"] != "object" || !reflect.DeepEqual(items["required"], []any{"key"}) {
		t.Errorf("checks items = %v, want an inline object requiring key", items)
	}
}

func TestReflectEmptyStructAndPointer(t *testing.T) {
	t.Parallel()
	if got, want := string(Reflect[struct{}]()), `{"properties":{},"additionalProperties":false,"type":"object"}`; got != want {
		t.Errorf("Reflect[struct{}] = %s, want %s", got, want)
	}
	if got, want := string(Reflect[*sampleNested]()), string(Reflect[sampleNested]()); got != want {
		t.Errorf("Reflect[*T] = %s, want Reflect[T] = %s", got, want)
	}
}

func TestReflectPanicsOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	type unescapedComma struct {
		Summary string `json:"summary" jsonschema:"description=Rating: ok, low_risk or high_risk"`
	}
	type nestedUnescaped struct {
		Items []unescapedComma `json:"items"`
	}
	type flags struct {
		A string `json:"a,omitempty" jsonschema:"required,description=Escaped\\, fine,nullable"`
	}
	if got := Reflect[flags](); !strings.Contains(string(got), `"description":"Escaped, fine"`) {
		t.Errorf("Reflect[flags] = %s", got)
	}
	tests := []struct {
		name    string
		reflect func()
		want    string
	}{
		{"unescaped comma", func() { Reflect[unescapedComma]() }, `segment " low_risk or high_risk" is not key=value`},
		{"nested unescaped comma", func() { Reflect[*nestedUnescaped]() }, "unescapedComma.Summary"},
		{"string", func() { Reflect[string]() }, "not a struct"},
		{"slice", func() { Reflect[[]sample]() }, "not a struct"},
		{"time", func() { Reflect[time.Time]() }, "does not reflect to a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(p.(string), tt.want) {
					t.Errorf("panic = %v, want one mentioning %q", p, tt.want)
				}
			}()
			tt.reflect()
		})
	}
}

func TestReflectCachesAndCopies(t *testing.T) {
	t.Parallel()
	first := Reflect[sample]()
	want := string(first)
	first[0] = 'X'
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := string(Reflect[sample]()); got != want {
				t.Errorf("Reflect changed after the caller modified its copy")
			}
		})
	}
	wg.Wait()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	schema := Reflect[sample]()
	valid := sample{Host: "h", Since: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Checks: []sampleNested{{Key: "k"}}}
	tests := []struct {
		name    string
		value   any
		wantErr string // "" for valid
	}{
		{"struct", valid, ""},
		{"zero time and empty slice", sample{Host: "h", Checks: []sampleNested{}}, ""},
		{"nil slice marshals to null", sample{Host: "h"}, "at '/checks': got null, want array"},
		{"raw JSON", json.RawMessage(`{"host":"h","since":"2024-01-01T00:00:00Z","checks":[]}`), ""},
		{"missing required", json.RawMessage(`{"host":"h","checks":[]}`), "since"},
		{"unknown property", json.RawMessage(`{"host":"h","since":"x","checks":[],"bogus":1}`), "bogus"},
		{"wrong type", map[string]any{"host": 1, "since": "x", "checks": []any{}}, "at '/host': got number, want string"},
		{"outside enum", map[string]any{"host": "h", "since": "x", "checks": []any{}, "protocol": "FTP"}, "value must be one of 'HTTP', 'HTTPS'"},
		{"above maximum", map[string]any{"host": "h", "since": "x", "checks": []any{}, "limit": 501}, "maximum"},
		{"nested unknown", map[string]any{"host": "h", "since": "x", "checks": []any{map[string]any{"key": "k", "x": 1}}}, "x"},
		{"not a date-time", map[string]any{"host": "h", "since": "yesterday", "checks": []any{}}, "is not valid date-time"},
		{"not JSON", json.RawMessage(`{`), "decode value"},
		{"unmarshalable", map[string]any{"c": make(chan int)}, "marshal value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(schema, tt.value)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if err := Validate(json.RawMessage(`{"type":`), valid); err == nil || !strings.Contains(err.Error(), "decode schema") {
		t.Errorf("Validate with a broken schema = %v, want a decode error", err)
	}
}

// TestLimitBounds: every tool's limit says its range in the schema, where a client can check it,
// not only in prose.
func TestLimitBounds(t *testing.T) {
	t.Parallel()
	for name, schema := range map[string]map[string]any{
		"assess_connectors":     decodeSchema[AssessConnectorsInput](t),
		"find_exposed_system":   decodeSchema[FindExposedSystemInput](t),
		"get_security_status":   decodeSchema[GetSecurityStatusInput](t),
		"list_cloud_connectors": decodeSchema[ListCloudConnectorsInput](t),
		"what_changed":          decodeSchema[WhatChangedInput](t),
	} {
		limit, _ := schema["properties"].(map[string]any)["limit"].(map[string]any)
		if limit["minimum"] != float64(1) || limit["maximum"] != float64(MaxLimit) || limit["default"] != float64(DefaultLimit) {
			t.Errorf("%s: limit %v, want minimum 1, maximum %d, default %d", name, limit, MaxLimit, DefaultLimit)
		}
	}
}
