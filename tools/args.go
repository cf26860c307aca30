package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

// The argument layer forgives what models commonly get wrong before the arguments are decoded
// into a tool's input type: "42" for 42, "true" for true, "x" for ["x"], null for an absent
// optional argument, "https" for the enum value "HTTPS". It fills declared defaults and answers
// everything else with sentences that name the argument and what it must be. mcp-go's own input
// validation (server.WithInputSchemaValidation) runs before any handler and would refuse these
// slips, so the server does not enable it.

// argSchema is the part of a reflected input schema the argument layer understands. Reading a
// schema with any other keyword fails (see newArgs), so no constraint goes unchecked.
type argSchema struct {
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Enum        []any      `json:"enum"`
	Default     any        `json:"default"`
	Minimum     *float64   `json:"minimum"`
	Maximum     *float64   `json:"maximum"`
	MinLength   *int       `json:"minLength"`
	MaxLength   *int       `json:"maxLength"`
	Items       *argSchema `json:"items"`
}

// args decodes the arguments of one tool.
type args struct {
	props    map[string]*argSchema
	required []string
	names    []string // the valid argument names, sorted
}

// newArgs reads an input schema: an object of scalar and list-of-scalar properties without
// additional properties, as schemas.Reflect makes of a flat struct. It checks that every
// declared default satisfies its own constraints.
func newArgs(schema json.RawMessage) (*args, error) {
	var root struct {
		Type                 string                `json:"type"`
		Properties           map[string]*argSchema `json:"properties"`
		Required             []string              `json:"required"`
		AdditionalProperties *bool                 `json:"additionalProperties"`
	}
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("the argument layer reads only flat input types with the keywords it checks: %w", err)
	}
	if root.Type != "object" || root.AdditionalProperties == nil || *root.AdditionalProperties {
		return nil, errors.New(`the input schema must be an object with "additionalProperties": false`)
	}
	a := &args{props: root.Properties, required: root.Required, names: slices.Sorted(maps.Keys(root.Properties))}
	var p problems
	for _, name := range a.names {
		s := a.props[name]
		if s.Type == "array" && s.Items != nil {
			s = s.Items
		}
		if !slices.Contains([]string{"string", "integer", "number", "boolean"}, s.Type) || s.Items != nil {
			return nil, fmt.Errorf("argument %q has type %q; the argument layer takes scalars and lists of scalars", name, s.Type)
		}
		if d := a.props[name].Default; d != nil {
			// A default must fit exactly: no slip is forgiven in our own schemas.
			want, _ := json.Marshal(d)
			if got, _ := json.Marshal(p.coerce(a.props[name], name, d)); len(p) == 0 && !bytes.Equal(got, want) {
				p.add("argument %q has the default %s, not of type %s", name, want, a.props[name].Type)
			}
		}
	}
	if len(p) > 0 {
		return nil, fmt.Errorf("a declared default is invalid: %s", strings.Join(p, "; "))
	}
	return a, nil
}

// decode fills *in, a pointer to the tool's input type, from the request's arguments.
// The error text is meant for the model.
func (a *args) decode(req mcp.CallToolRequest, in any) error {
	data := []byte(req.Params.RawArguments)
	if len(data) == 0 && req.Params.Arguments != nil {
		var err error
		if data, err = json.Marshal(req.Params.Arguments); err != nil {
			return errors.New("the arguments are not valid JSON")
		}
	}
	var sent any
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&sent); err != nil {
			return errors.New("the arguments are not valid JSON")
		}
	}
	if s, ok := sent.(string); ok && parseJSON(s) != nil {
		sent = parseJSON(s) // arguments sent as JSON text
	}
	obj, ok := sent.(map[string]any)
	if !ok && sent != nil {
		return fmt.Errorf("the arguments must be a JSON object, got %s", describe(sent))
	}

	var p problems
	p.unknown(obj, a.props, a.names) // first: a misspelt name explains other problems
	out := make(map[string]any, len(a.props))
	for _, name := range a.names {
		v := obj[name]
		if v == nil {
			v = a.props[name].Default
		}
		if v != nil {
			out[name] = p.coerce(a.props[name], name, v)
		} else if slices.Contains(a.required, name) {
			p.add("missing required argument %q", name)
		}
	}
	if len(p) > maxProblems {
		p = append(p[:maxProblems], fmt.Sprintf("and %d more problems", len(p)-maxProblems))
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	data, err := json.Marshal(out)
	if err == nil {
		err = json.Unmarshal(data, in)
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return fmt.Errorf("argument %q is out of range, got %s", typeErr.Field, typeErr.Value)
	}
	if err != nil {
		return fmt.Errorf("invalid arguments: %w", err)
	}
	return nil
}

// maxProblems bounds the problems one error names, and so its length.
const maxProblems = 10

// problems collects one sentence per argument that cannot be made to fit its schema.
type problems []string

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// unknown adds one problem naming the keys of obj that are not arguments, each with the nearest
// valid name when it looks like a typo, and the valid names.
func (p *problems) unknown(obj map[string]any, props map[string]*argSchema, valid []string) {
	var unknown []string
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if _, ok := props[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return
	}
	var b strings.Builder
	for i, k := range unknown {
		if i == maxProblems {
			fmt.Fprintf(&b, "; and %d more unknown arguments", len(unknown)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "unknown argument %q", truncate(k, 64))
		if guess := closest(k, valid); guess != "" {
			fmt.Fprintf(&b, " (did you mean %q?)", guess)
		}
	}
	if len(valid) == 0 {
		b.WriteString("; this tool takes no arguments")
	} else {
		b.WriteString("; valid arguments: " + strings.Join(valid, ", "))
	}
	*p = append(*p, b.String())
}

// coerce makes v fit schema s; on a problem it returns v unchanged.
func (p *problems) coerce(s *argSchema, name string, v any) any {
	switch s.Type {
	case "array":
		items, ok := v.([]any)
		if str, isStr := v.(string); !ok && isStr {
			items, ok = parseJSON(str).([]any) // a list sent as JSON text
		}
		if !ok {
			items = []any{v} // a single value where a list is expected
		}
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = p.coerce(s.Items, fmt.Sprintf("%s[%d]", name, i), item)
		}
		return out
	case "boolean":
		if str, ok := v.(string); ok {
			switch strings.ToLower(strings.TrimSpace(str)) {
			case "true":
				return true
			case "false":
				return false
			}
		}
		if _, ok := v.(bool); !ok {
			p.add("argument %q must be a boolean (true or false), got %s", name, describe(v))
		}
		return v
	case "integer", "number":
		return p.number(s, name, v)
	}
	return p.string(s, name, v)
}

func (p *problems) string(s *argSchema, name string, v any) any {
	var str string
	switch x := v.(type) {
	case string:
		str = x
	case json.Number: // an identifier given as a number
		str = x.String()
	default:
		p.add("argument %q must be a string, got %s", name, describe(v))
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
			p.add("argument %q must be one of %s, got %s", name, enumList(s.Enum), describe(v))
			return v
		}
		str = match
	}
	if n := utf8.RuneCountInString(str); s.MinLength != nil && n < *s.MinLength {
		p.add("argument %q must be at least %d characters long, got %d", name, *s.MinLength, n)
	} else if s.MaxLength != nil && n > *s.MaxLength {
		p.add("argument %q must be at most %d characters long, got %d", name, *s.MaxLength, n)
	}
	return str
}

func (p *problems) number(s *argSchema, name string, v any) any {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case float64: // a default, decoded by encoding/json
		text = strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		text = strings.TrimSpace(x)
	}
	f, err := strconv.ParseFloat(text, 64)
	valid := text != "" && err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && json.Valid([]byte(text))
	if s.Type == "integer" {
		if !valid || f != math.Trunc(f) {
			p.add("argument %q must be an integer, got %s", name, describe(v))
			return v
		}
		if _, err := strconv.ParseInt(text, 10, 64); err != nil && math.Abs(f) < 1<<53 {
			text = strconv.FormatInt(int64(f), 10) // 42.0 or 4.2e1
		}
	} else if !valid {
		p.add("argument %q must be a number, got %s", name, describe(v))
		return v
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { n, ok := e.(float64); return ok && n == f }) {
		p.add("argument %q must be one of %s, got %s", name, enumList(s.Enum), text)
	}
	if s.Minimum != nil && f < *s.Minimum {
		p.add("argument %q must be at least %s, got %s", name, strconv.FormatFloat(*s.Minimum, 'f', -1, 64), text)
	}
	if s.Maximum != nil && f > *s.Maximum {
		p.add("argument %q must be at most %s, got %s", name, strconv.FormatFloat(*s.Maximum, 'f', -1, 64), text)
	}
	return json.Number(text)
}

// parseJSON decodes s when it holds a JSON array or object; otherwise it returns nil.
func parseJSON(s string) any {
	if s = strings.TrimSpace(s); s == "" || s[0] != '[' && s[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil || dec.More() {
		return nil
	}
	return out
}

func enumList(enum []any) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		b, _ := json.Marshal(e)
		parts[i] = string(b)
	}
	return strings.Join(parts, ", ")
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
