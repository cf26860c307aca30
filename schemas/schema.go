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
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
)

// reflected caches the schema of each type, keyed by reflect.Type.
var reflected sync.Map

// Reflect returns the JSON schema of T, which must be a struct type (or a pointer to one).
// The schema has "type": "object" at its root, is expanded inline (no $ref or $defs), and
// carries neither "$schema" nor "$id", which some clients reject in tool schemas. Objects
// reflected from structs have "additionalProperties": false.
//
// Results are cached per type; Reflect is safe for concurrent use and returns a fresh copy
// that the caller may modify. It panics if T is not a struct, which is a programming error.
func Reflect[T any]() json.RawMessage {
	t := reflect.TypeFor[T]()
	cached, ok := reflected.Load(t)
	if !ok {
		cached, _ = reflected.LoadOrStore(t, reflectType(t))
	}
	return bytes.Clone(cached.(json.RawMessage))
}

// ReflectOutput returns the schema of an output type T: Reflect's, without
// "additionalProperties": false, since a client must accept members a later version adds (and
// the keyword costs a model's context in every tools/list).
func ReflectOutput[T any]() json.RawMessage {
	var v any
	if err := json.Unmarshal(Reflect[T](), &v); err != nil {
		panic(fmt.Sprintf("schemas.ReflectOutput: %v", err))
	}
	var open func(any)
	open = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["additionalProperties"] == false {
				delete(v, "additionalProperties")
			}
			for _, child := range v {
				open(child)
			}
		case []any:
			for _, child := range v {
				open(child)
			}
		}
	}
	open(v)
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("schemas.ReflectOutput: %v", err))
	}
	return data
}

func reflectType(t reflect.Type) json.RawMessage {
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Kind() != reflect.Struct {
		panic(fmt.Sprintf("schemas.Reflect: %v is not a struct type", t))
	}
	checkTags(base, map[reflect.Type]bool{})
	r := jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true, Anonymous: true}
	s := r.ReflectFromType(base)
	if s.Type != "object" { // time.Time, url.URL and types with their own JSONSchema method
		panic(fmt.Sprintf("schemas.Reflect: %v does not reflect to a JSON object but to %q", t, s.Type))
	}
	s.Version = ""
	s.ID = ""
	s.Definitions = nil
	data, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("schemas.Reflect: marshal schema of %v: %v", t, err))
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
		var segment string
		for part := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
			if strings.HasSuffix(segment, `\`) { // an escaped comma continues the segment
				segment = segment[:len(segment)-1] + "," + part
				continue
			}
			checkSegment(t, f, segment)
			segment = part
		}
		checkSegment(t, f, segment)
		checkTags(f.Type, seen)
	}
}

func checkSegment(t reflect.Type, f reflect.StructField, segment string) {
	switch {
	case segment == "", segment == "-", segment == "required", segment == "nullable", strings.Contains(segment, "="):
		return
	}
	panic(fmt.Sprintf("schemas.Reflect: field %v.%s: jsonschema tag segment %q is not key=value; "+
		"write a comma in a description as \\\\, or use a jsonschema_description tag", t, f.Name, segment))
}

// compiled caches compiled schemas, keyed by the schema text.
var compiled sync.Map

// Validate reports whether value conforms to schema, with the validator mcp-go uses
// (santhosh-tekuri/jsonschema). A value of type json.RawMessage is taken as JSON text; any
// other value is first marshalled with encoding/json, so Validate checks exactly what a client
// would receive. Compiled schemas are cached; Validate is safe for concurrent use. The error
// names the offending location, for example "at '/items': got null, want array".
func Validate(schema json.RawMessage, value any) error {
	sch, err := compile(schema)
	if err != nil {
		return err
	}
	data, ok := value.(json.RawMessage)
	if !ok {
		if data, err = json.Marshal(value); err != nil {
			return fmt.Errorf("marshal value: %w", err)
		}
	}
	instance, err := validator.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	return sch.Validate(instance)
}

func compile(schema json.RawMessage) (*validator.Schema, error) {
	key := string(schema)
	if sch, ok := compiled.Load(key); ok {
		return sch.(*validator.Schema), nil
	}
	doc, err := validator.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	c := validator.NewCompiler()
	c.AssertFormat() // date-time fields must hold RFC 3339 times
	if err := c.AddResource("mem:///schema.json", doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	sch, err := c.Compile("mem:///schema.json")
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	compiled.Store(key, sch)
	return sch, nil
}
