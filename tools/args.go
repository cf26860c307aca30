package tools

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// The argument layer forgives what models commonly get wrong, guided by the input schema: "42"
// for 42, "true" for true, "x" for ["x"], null for an absent argument, "https" for the enum
// value "HTTPS", a limit above its maximum for the maximum. It fills declared defaults, refuses
// unknown arguments with the valid names, then checks the arguments with schemas.Validate (the
// one validator in the binary) and turns each violation into a sentence naming the argument. mcp-go's input validation
// (server.WithInputSchemaValidation) would refuse the slips, so the server does not enable it.

// argProp is what normalising needs of one property of an input schema.
type argProp struct {
	Type    string   `json:"type"`
	Enum    []any    `json:"enum"`
	Default any      `json:"default"`
	Maximum *float64 `json:"maximum"`
	Items   *argProp `json:"items"`
}

// pageLimit names the argument that bounds a list: above its maximum it lists the maximum (a
// limit of 1000 answers 500 items, truncated), where any other number above its maximum is refused.
const pageLimit = "limit"

// args decodes the arguments of one tool.
type args struct {
	schema *schemas.Validator
	props  map[string]*argProp
	names  []string // the valid argument names, sorted
}

// newArgs reads the properties of an input schema.
func newArgs(schema json.RawMessage) (*args, error) {
	var root struct{ Properties map[string]*argProp }
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("reading the input schema: %w", err)
	}
	v, err := schemas.Compile(schema)
	if err != nil {
		return nil, err
	}
	return &args{schema: v, props: root.Properties, names: slices.Sorted(maps.Keys(root.Properties))}, nil
}

// decode fills *in, a pointer to the tool's input type, from the request's arguments.
// The error text is meant for the model.
func (a *args) decode(req mcp.CallToolRequest, in any) error {
	data, err := json.Marshal(req.GetRawArguments()) // checks raw JSON
	if err != nil {
		return errors.New("the arguments are not valid JSON")
	}
	sent := parseJSON(data)
	if s, ok := sent.(string); ok {
		sent = cmp.Or(parseJSON([]byte(s)), sent) // arguments sent as JSON text
	}
	obj, ok := sent.(map[string]any)
	if sent == nil {
		obj, ok = map[string]any{}, true
	}
	if !ok {
		return fmt.Errorf("the arguments must be a JSON object, got %s", describe(sent))
	}
	for name, p := range a.props {
		if v := cmp.Or(obj[name], p.Default); v != nil {
			obj[name] = p.normalise(v)
			if n, ok := obj[name].(json.Number); ok && name == pageLimit && p.Maximum != nil {
				if f, err := n.Float64(); err == nil && f > *p.Maximum {
					obj[name] = json.Number(strconv.FormatFloat(*p.Maximum, 'f', -1, 64))
				}
			}
		} else {
			delete(obj, name) // null means absent
		}
	}
	if data, err = a.validate(obj); err == nil {
		err = json.Unmarshal(data, in)
	}
	if typeErr := (*json.UnmarshalTypeError)(nil); errors.As(err, &typeErr) {
		return fmt.Errorf("argument %q must be %s, got %s", typeErr.Field, rangeOf(typeErr.Type), truncate(typeErr.Value, 40))
	}
	return err
}

// normalise forgives the slips in v, a value for p; what it cannot fix, the validator reports.
func (p *argProp) normalise(v any) any {
	s, isString := v.(string)
	switch trimmed := strings.TrimSpace(s); p.Type {
	case "array":
		items, ok := v.([]any)
		if !ok && isString {
			items, ok = parseJSON([]byte(s)).([]any) // a list sent as JSON text
		}
		if !ok {
			items = []any{v} // a single value where a list is expected
		}
		items = slices.Clone(items) // a default is shared by all calls
		for i := range items {
			if items[i] != nil && p.Items != nil {
				items[i] = p.Items.normalise(items[i])
			}
		}
		return items
	case "boolean":
		if l := strings.ToLower(trimmed); isString && (l == "true" || l == "false") {
			return l == "true"
		}
	case "integer", "number":
		if _, err := strconv.ParseFloat(trimmed, 64); isString && err == nil && json.Valid([]byte(trimmed)) {
			v = json.Number(trimmed)
		}
		if n, ok := v.(json.Number); ok && p.Type == "integer" {
			if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return json.Number(strconv.FormatInt(int64(f), 10)) // 42.0 or 4.2e1
			}
		}
	case "string":
		if n, ok := v.(json.Number); ok {
			return n.String() // an identifier sent as a number
		}
		match := func(e any) bool { e2, _ := e.(string); return strings.EqualFold(e2, s) }
		if i := slices.IndexFunc(p.Enum, match); isString && i >= 0 && !slices.Contains(p.Enum, v) {
			return p.Enum[i] // the enum value in its canonical case
		}
	}
	return v
}

// maxProblems bounds the problems one error names, and so its length.
const maxProblems = 10

// validate checks obj against the schema and returns it as JSON. Each violation becomes a
// sentence that names the argument and says what is valid.
func (a *args) validate(obj map[string]any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err == nil {
		err = a.schema.Validate(json.RawMessage(data))
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return data, err
	}
	var p []string
	unknown := "" // first: a misspelt name explains other problems
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		for _, c := range e.Causes {
			walk(c)
		}
		if _, ok := e.ErrorKind.(*kind.AdditionalProperties); ok {
			unknown = a.problem(e, obj)
		} else if len(e.Causes) == 0 {
			p = append(p, a.problem(e, obj))
		}
	}
	walk(verr)
	slices.Sort(p)
	if p = capped(slices.Compact(p), "problems"); unknown != "" {
		p = append([]string{unknown}, p...)
	}
	return nil, errors.New(strings.Join(p, "; "))
}

// capped keeps the first maxProblems of p and counts the others as more of what.
func capped(p []string, what string) []string {
	if len(p) > maxProblems {
		return append(p[:maxProblems], fmt.Sprintf("and %d more %s", len(p)-maxProblems, what))
	}
	return p
}

// problem is the sentence for one violation of the input schema by obj.
func (a *args) problem(e *jsonschema.ValidationError, obj map[string]any) string {
	name, v := "", any(obj)
	for _, loc := range e.InstanceLocation { // a property, then item indexes
		if items, ok := v.([]any); ok {
			i, _ := strconv.Atoi(loc)
			name, v = name+"["+loc+"]", items[i]
		} else {
			name, v = loc, obj[loc]
		}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		var p []string
		for _, u := range slices.Sorted(slices.Values(k.Properties)) {
			p = append(p, fmt.Sprintf("unknown argument %q", truncate(u, 64))+didYouMean(u, a.names))
		}
		valid := "valid arguments: " + strings.Join(a.names, ", ")
		if len(a.names) == 0 {
			valid = "this tool takes no arguments"
		}
		return strings.Join(append(capped(p, "unknown arguments"), valid), "; ")
	case *kind.Required:
		return fmt.Sprintf("missing required argument %q", strings.Join(k.Missing, `", "`))
	case *kind.Type:
		want := map[string]string{"integer": "an integer", "number": "a number", "string": "a string",
			"boolean": "a boolean (true or false)", "array": "a list", "object": "an object"}[k.Want[0]]
		return fmt.Sprintf("argument %q must be %s, got %s", name, want, describe(v))
	case *kind.Enum:
		list, _ := json.Marshal(k.Want)
		return fmt.Sprintf("argument %q must be one of %s, got %s", name, strings.ReplaceAll(strings.Trim(string(list), "[]"), ",", ", "), describe(v))
	case *kind.Minimum:
		return fmt.Sprintf("argument %q must be at least %s, got %s", name, k.Want.RatString(), truncate(fmt.Sprint(v), 40))
	case *kind.Maximum:
		return fmt.Sprintf("argument %q must be at most %s, got %s", name, k.Want.RatString(), truncate(fmt.Sprint(v), 40))
	case *kind.MinLength:
		return fmt.Sprintf("argument %q must be at least %d characters long, got %d", name, k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("argument %q must be at most %d characters long, got %d", name, k.Want, k.Got)
	}
	return fmt.Sprintf("argument %q is invalid: %s", name, e.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
}

// rangeOf says what a Go number type holds, for a value that does not fit it.
func rangeOf(t reflect.Type) string {
	if k := t.Kind(); k >= reflect.Int && k <= reflect.Int64 {
		most := int64(math.MaxInt64 >> (64 - t.Bits()))
		return fmt.Sprintf("between %d and %d", -most-1, most)
	}
	return "a smaller number"
}

// parseJSON decodes one JSON value, numbers as json.Number; it returns nil for anything else.
func parseJSON(data []byte) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if !json.Valid(data) || dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// describe names the JSON type of v and shows short values, for problem sentences.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case string:
		return fmt.Sprintf("string %q", truncate(x, 64))
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number " + truncate(fmt.Sprint(v), 32)
}

// truncate cuts s to at most n runes, marking a cut with "…".
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// didYouMean suggests the candidate nearest to name when it is near enough to be a typo.
func didYouMean(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := distance(strings.ToLower(name), strings.ToLower(c)); d < bestDist && d <= max(1, len(c)/3) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the edit distance between a and b, counting insertions, deletions, substitutions
// and swaps of adjacent bytes (optimal string alignment); it gives up beyond 64 bytes.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
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
