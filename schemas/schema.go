// Package schemas is the contract between this server and MCP clients: the Go input and
// output types of every tool, and the JSON schemas reflected from them.
//
// Conventions for the types in this package:
//
//   - The `json` tag names a field. A field without `omitempty` (or `omitzero`) is required.
//   - Describe a field with `jsonschema_description:"..."`, which may contain commas, or with
//     `jsonschema:"description=..."`, where a comma must be written `\\,` (otherwise it ends
//     the description; Reflect panics on the leftover).
//   - Go doc comments on fields do not become descriptions; only tags do.
//   - Constraints go in the `jsonschema` tag: `enum=HTTP,enum=HTTPS`, `minimum=1,maximum=500`,
//     `default=50`, `minLength=1`, `maxLength=200`, `format=...`. The tools adapter applies a
//     declared default to an absent argument and checks the arguments with Validate, so a
//     handler sees arguments that already satisfy the schema; a tools test checks that every
//     declared default satisfies its own constraints.
//   - time.Time becomes a string with format date-time; nested structs, slices and maps are
//     expanded inline (no $ref), so types must not be recursive.
//   - Output types: nil slices, maps and pointers marshal to null, which the reflected schema
//     does not allow. Give such fields `omitempty`, or never leave them nil. The tools tests
//     check every tool's results with Validate on every landscape of the simulator.
package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
)

// reflection names a schema: of an input type, or of an output type.
type reflection struct {
	t      reflect.Type
	output bool
}

// Reflect returns the JSON schema of T, which must be a struct type (or a pointer to one).
// The schema has "type": "object" at its root, is expanded inline (no $ref or $defs), and
// carries neither "$schema" nor "$id", which some clients reject in tool schemas. Objects
// reflected from structs have "additionalProperties": false.
//
// Each call reflects anew (callers build their tools once) and returns a schema the caller may
// modify. It panics if T is not a struct, which is a programming error.
func Reflect[T any]() json.RawMessage { return reflectType(reflection{reflect.TypeFor[T](), false}) }

// ReflectOutput returns the schema of an output type T: Reflect's, without
// "additionalProperties": false, since a client must accept members a later version adds (and
// the keyword costs a model's context in every tools/list).
func ReflectOutput[T any]() json.RawMessage {
	return reflectType(reflection{reflect.TypeFor[T](), true})
}

func reflectType(key reflection) json.RawMessage {
	t := key.t
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("schemas.Reflect: %v is not a struct type", key.t))
	}
	checkTags(t, map[reflect.Type]bool{})
	r := jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true, Anonymous: true, AllowAdditionalProperties: key.output,
		RequiredFromJSONSchemaTags: key.output} // outputs: members always present need no "required" in every tools/list
	s := r.ReflectFromType(t)
	if s.Type != "object" { // time.Time, url.URL and types with their own JSONSchema method
		panic(fmt.Sprintf("schemas.Reflect: %v does not reflect to a JSON object but to %q", key.t, s.Type))
	}
	s.Version, s.ID, s.Definitions = "", "", nil
	data, err := json.Marshal(s)
	if key.output && err == nil { // output schemas have always been listed with sorted keys
		var v any
		if err = json.Unmarshal(data, &v); err == nil {
			data, err = json.Marshal(v)
		}
	}
	if err != nil {
		panic(fmt.Sprintf("schemas.Reflect: marshal schema of %v: %v", key.t, err))
	}
	return data
}

// checkTags panics on a `jsonschema` tag with a segment that is neither key=value nor one
// of invopop's flags: almost always a description cut short by an unescaped comma, which
// invopop would silently drop.
func checkTags(t reflect.Type, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		for segment := range strings.SplitSeq(strings.ReplaceAll(f.Tag.Get("jsonschema"), `\,`, ""), ",") {
			if !strings.Contains(segment, "=") && !slices.Contains([]string{"", "-", "required", "nullable"}, segment) {
				panic(fmt.Sprintf("schemas.Reflect: field %v.%s: jsonschema tag segment %q is not key=value; "+
					"write a comma in a description as \\\\, or use a jsonschema_description tag", t, f.Name, segment))
			}
		}
		checkTags(f.Type, seen)
	}
}

// Validator checks values against one compiled schema; it is safe for concurrent use.
type Validator struct{ schema *validator.Schema }

// Compile compiles schema with the validator mcp-go uses (santhosh-tekuri/jsonschema), asserting
// formats (date-time fields must hold RFC 3339 times). Compile once, validate often.
func Compile(schema json.RawMessage) (*Validator, error) {
	doc, err := validator.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	c := validator.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("mem:///schema.json", doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	sch, err := c.Compile("mem:///schema.json")
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return &Validator{sch}, nil
}

// Validate reports whether value conforms to schema: Compile, then Validator.Validate.
func Validate(schema json.RawMessage, value any) error {
	v, err := Compile(schema)
	if err != nil {
		return err
	}
	return v.Validate(value)
}

// Validate reports whether value conforms to the schema. A value of type json.RawMessage is
// taken as JSON text; any other value is first marshalled with encoding/json, so Validate checks
// exactly what a client would receive. The error names the offending location, for example
// "at '/items': got null, want array".
func (v *Validator) Validate(value any) error {
	data, ok := value.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(value); err != nil {
			return fmt.Errorf("marshal value: %w", err)
		}
	}
	instance, err := validator.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	return v.schema.Validate(instance)
}
