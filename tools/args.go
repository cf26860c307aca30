package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// argDecoder turns the arguments of a tool call into the tool's input type, guided by the
// input schema reflected from that type. It forgives what models commonly get wrong ("42"
// for 42, "true" for true, "x" for ["x"], null for an absent optional argument, "https"
// for the enum value "HTTPS"), fills in declared defaults, and otherwise answers with
// sentences that name the argument and what it must be.
type argDecoder struct {
	raw    json.RawMessage    // the input schema, for the final check
	schema *jsonschema.Schema // the same, parsed
}

func newArgDecoder(raw json.RawMessage) (*argDecoder, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &argDecoder{raw: raw, schema: &s}, nil
}

// decode fills *in, a pointer to the tool's input type, from the request's arguments.
// The error text is meant for the model.
func (d *argDecoder) decode(req mcp.CallToolRequest, in any) error {
	data := []byte(req.Params.RawArguments)
	if len(data) == 0 && req.Params.Arguments != nil {
		var err error
		if data, err = json.Marshal(req.Params.Arguments); err != nil {
			return errors.New("the arguments are not valid JSON")
		}
	}
	var args any = map[string]any{}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return errors.New("the arguments are not valid JSON")
		}
		if args == nil {
			args = map[string]any{}
		}
	}
	obj, ok := args.(map[string]any)
	if !ok {
		obj, ok = parseJSON(args).(map[string]any) // arguments sent as JSON text
	}
	if !ok {
		return fmt.Errorf("the arguments must be a JSON object, got %s", describe(args))
	}

	var c coercer
	coerced := c.object(d.schema, "", obj)
	if n := len(c.problems); n > maxProblems {
		c.problems = append(c.problems[:maxProblems], fmt.Sprintf("and %d more problems", n-maxProblems))
	}
	if len(c.problems) > 0 {
		return errors.New(strings.Join(c.problems, "; "))
	}
	data, err := json.Marshal(coerced)
	if err != nil {
		return fmt.Errorf("invalid arguments: %v", err)
	}
	// The coercer checks the keywords our schemas use; this catches the rest.
	if err := schemas.Validate(d.raw, json.RawMessage(data)); err != nil {
		return fmt.Errorf("invalid arguments: %v", err)
	}
	if err := json.Unmarshal(data, in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("argument %q is out of range, got %s", typeErr.Field, typeErr.Value)
		}
		return fmt.Errorf("invalid arguments: %v", err)
	}
	return nil
}

// maxProblems bounds the problems one error names, and so its length.
const maxProblems = 10

// coercer rewrites decoded JSON (numbers as json.Number) to fit a schema, collecting one
// problem sentence per argument it cannot make fit.
type coercer struct {
	problems []string
}

func (c *coercer) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// object coerces the members of an object. Absent and null members get the property's
// default, if it declares one; a required member without either is a problem.
func (c *coercer) object(s *jsonschema.Schema, path string, m map[string]any) map[string]any {
	keys := slices.Sorted(maps.Keys(m))
	if isFalse(s.AdditionalProperties) {
		var unknown []string
		for _, k := range keys {
			if _, known := s.Properties[k]; !known {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			c.unknown(s, path, unknown) // first: a misspelt name explains other problems
		}
	}
	out := make(map[string]any, len(m))
	for _, k := range keys {
		ps, known := s.Properties[k]
		switch {
		case !known && !isFalse(s.AdditionalProperties):
			out[k] = c.value(s.AdditionalProperties, join(path, k), m[k])
		case known && m[k] != nil:
			out[k] = c.value(ps, join(path, k), m[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		if _, ok := out[k]; ok || s.Properties[k].Default == nil {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(s.Properties[k].Default))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil && v != nil {
			out[k] = c.value(s.Properties[k], join(path, k), v)
		}
	}
	for _, k := range s.Required {
		if _, ok := out[k]; !ok {
			c.problem("missing required argument %q", join(path, k))
		}
	}
	return out
}

func (c *coercer) unknown(s *jsonschema.Schema, path string, unknown []string) {
	valid := slices.Sorted(maps.Keys(s.Properties))
	var b strings.Builder
	for i, k := range unknown {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == maxProblems {
			fmt.Fprintf(&b, "and %d more unknown arguments", len(unknown)-i)
			break
		}
		fmt.Fprintf(&b, "unknown argument %q", join(path, truncate(k, 64)))
		if guess := closest(k, valid); guess != "" {
			fmt.Fprintf(&b, " (did you mean %q?)", join(path, guess))
		}
	}
	switch {
	case len(valid) == 0 && path == "":
		b.WriteString("; this tool takes no arguments")
	case len(valid) == 0:
		fmt.Fprintf(&b, "; %q takes no members", path)
	default:
		b.WriteString("; valid arguments")
		if path != "" {
			fmt.Fprintf(&b, " in %q", path)
		}
		b.WriteString(": " + strings.Join(valid, ", "))
	}
	c.problem("%s", b.String())
}

// value coerces one value to schema s; on a problem it returns v unchanged.
func (c *coercer) value(s *jsonschema.Schema, path string, v any) any {
	if s == nil {
		return v
	}
	switch s.Type {
	case "string":
		return c.string(s, path, v)
	case "integer", "number":
		return c.number(s, path, v)
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true
			case "false":
				return false
			}
		}
		c.problem("argument %q must be a boolean (true or false), got %s", path, describe(v))
	case "array":
		items, ok := v.([]any)
		if !ok {
			items, ok = parseJSON(v).([]any) // a list sent as JSON text
		}
		if !ok {
			items = []any{v} // a single value where a list is expected
		}
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = c.value(s.Items, fmt.Sprintf("%s[%d]", path, i), item)
		}
		return out
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			m, ok = parseJSON(v).(map[string]any) // an object sent as JSON text
		}
		if ok {
			return c.object(s, path, m)
		}
		c.problem("argument %q must be an object, got %s", path, describe(v))
	}
	return v
}

func (c *coercer) string(s *jsonschema.Schema, path string, v any) any {
	var str string
	switch x := v.(type) {
	case string:
		str = x
	case json.Number: // an identifier given as a number
		str = x.String()
	default:
		c.problem("argument %q must be a string, got %s", path, describe(v))
		return v
	}
	if len(s.Enum) > 0 {
		match := ""
		for _, e := range s.Enum {
			if e, ok := e.(string); ok && (e == str || match == "" && strings.EqualFold(e, str)) {
				match = e
			}
		}
		if match == "" {
			c.problem("argument %q must be one of %s, got %s", path, enumList(s.Enum), describe(v))
			return v
		}
		str = match
	}
	if n := utf8.RuneCountInString(str); s.MinLength != nil && n < *s.MinLength {
		c.problem("argument %q must be at least %d characters long, got %d", path, *s.MinLength, n)
	} else if s.MaxLength != nil && n > *s.MaxLength {
		c.problem("argument %q must be at most %d characters long, got %d", path, *s.MaxLength, n)
	}
	if s.Format == "date-time" {
		if _, err := time.Parse(time.RFC3339, str); err != nil {
			c.problem("argument %q must be a date-time like \"2006-01-02T15:04:05Z\", got %s", path, describe(v))
		}
	}
	return str
}

func (c *coercer) number(s *jsonschema.Schema, path string, v any) any {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = strings.TrimSpace(x)
	}
	f, err := strconv.ParseFloat(text, 64)
	valid := text != "" && err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && json.Valid([]byte(text))
	if s.Type == "integer" {
		if !valid || f != math.Trunc(f) {
			c.problem("argument %q must be an integer, got %s", path, describe(v))
			return v
		}
		if _, err := strconv.ParseInt(text, 10, 64); err != nil && math.Abs(f) < 1<<53 {
			text = strconv.FormatInt(int64(f), 10) // 42.0 or 4.2e1
		}
	} else if !valid {
		c.problem("argument %q must be a number, got %s", path, describe(v))
		return v
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { n, ok := e.(float64); return ok && n == f }) {
		c.problem("argument %q must be one of %s, got %s", path, enumList(s.Enum), text)
	}
	if s.Minimum != nil && f < *s.Minimum {
		c.problem("argument %q must be at least %s, got %s", path, formatFloat(*s.Minimum), text)
	}
	if s.Maximum != nil && f > *s.Maximum {
		c.problem("argument %q must be at most %s, got %s", path, formatFloat(*s.Maximum), text)
	}
	return json.Number(text)
}

// isFalse reports whether s is the schema false, which admits nothing.
func isFalse(s *jsonschema.Schema) bool {
	return s != nil && s.Not != nil && reflect.ValueOf(*s.Not).IsZero()
}

// parseJSON decodes v when it is a string holding a JSON array or object; otherwise, or
// when the string is not valid JSON, it returns nil.
func parseJSON(v any) any {
	str, ok := v.(string)
	if str = strings.TrimSpace(str); !ok || str == "" || str[0] != '[' && str[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(str))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil || dec.More() {
		return nil
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func enumList(enum []any) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		b, _ := json.Marshal(e)
		parts[i] = string(b)
	}
	return strings.Join(parts, ", ")
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// describe names the JSON type of v and shows short values, for problem sentences.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case json.Number:
		return "number " + truncate(x.String(), 32)
	case string:
		if n := utf8.RuneCountInString(x); n > 64 {
			return fmt.Sprintf("string %q… (%d characters)", truncate(x, 64), n)
		}
		return fmt.Sprintf("string %q", x)
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// closest returns the candidate nearest to name when it is near enough to be a typo.
func closest(name string, candidates []string) string {
	if len(name) > 64 {
		return ""
	}
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := distance(strings.ToLower(name), strings.ToLower(c)); d < bestDist && d <= max(1, len(c)/3) {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the edit distance between a and b, counting insertions, deletions,
// substitutions and swaps of adjacent bytes (optimal string alignment).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
