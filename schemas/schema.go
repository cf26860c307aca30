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
//     declared default to an absent argument and enforces the constraints, so a handler sees
//     arguments that already satisfy the schema. Reflect panics on a default that its own
//     constraints reject.
//   - time.Time becomes a string with format date-time; nested structs, slices and maps are
//     expanded inline (no $ref), so types must not be recursive.
//   - Output types: nil slices, maps and pointers marshal to null, which the reflected schema
//     does not allow. Give such fields `omitempty`, or never leave them nil. Check with
//     Validate in tests; the tools adapter also checks every result and reports a mismatch as
//     an internal error.
package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	gschema "github.com/google/jsonschema-go/jsonschema"
	"github.com/invopop/jsonschema"
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

func reflectType(t reflect.Type) json.RawMessage {
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Kind() != reflect.Struct {
		panic(fmt.Sprintf("schemas.Reflect: %v is not a struct type", t))
	}
	hasDefault := checkTags(base, map[reflect.Type]bool{})
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
	// A default that its own schema rejects (out of range, not in the enum, or the strings
	// invopop produces for `default=` on a non-string slice) would be handed to handlers.
	// The check costs most of the reflection (about a millisecond for an output type), and the
	// server reflects every tool type before it answers initialize: types without a default,
	// such as outputs, skip it.
	if !hasDefault {
		return data
	}
	var check gschema.Schema
	if err := json.Unmarshal(data, &check); err != nil {
		panic(fmt.Sprintf("schemas.Reflect: decode schema of %v: %v", t, err))
	}
	if _, err := check.Resolve(&gschema.ResolveOptions{ValidateDefaults: true}); err != nil {
		panic(fmt.Sprintf("schemas.Reflect: schema of %v is invalid (check its default= tags): %v", t, err))
	}
	return data
}

// checkTags panics on a `jsonschema` tag with a segment that is neither key=value nor one
// of invopop's flags: almost always a description cut short by an unescaped comma, which
// invopop would silently drop. It reports whether any field declares a default.
func checkTags(t reflect.Type, seen map[reflect.Type]bool) (hasDefault bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
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
		if strings.Contains(f.Tag.Get("jsonschema"), "default=") {
			hasDefault = true
		}
		if checkTags(f.Type, seen) {
			hasDefault = true
		}
	}
	return hasDefault
}

func checkSegment(t reflect.Type, f reflect.StructField, segment string) {
	switch {
	case segment == "", segment == "-", segment == "required", segment == "nullable", strings.Contains(segment, "="):
		return
	}
	panic(fmt.Sprintf("schemas.Reflect: field %v.%s: jsonschema tag segment %q is not key=value; "+
		"write a comma in a description as \\\\, or use a jsonschema_description tag", t, f.Name, segment))
}

// resolved caches compiled schemas, keyed by the schema text.
var resolved sync.Map

// Validate reports whether value conforms to schema. A value of type json.RawMessage is
// taken as JSON text; any other value is first marshalled with encoding/json, so Validate
// checks exactly what a client would receive. Compiled schemas are cached; Validate is safe
// for concurrent use. The error names the offending location, for example
// "validating /properties/items: type: <nil> has type \"null\", want \"array\"".
func Validate(schema json.RawMessage, value any) error {
	rs, err := compile(schema)
	if err != nil {
		return err
	}
	data, ok := value.(json.RawMessage)
	if !ok {
		if data, err = json.Marshal(value); err != nil {
			return fmt.Errorf("marshal value: %w", err)
		}
	}
	var instance any
	if err := json.Unmarshal(data, &instance); err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	if err := rs.Validate(instance); err != nil {
		return err
	}
	return nil
}

func compile(schema json.RawMessage) (*gschema.Resolved, error) {
	key := string(schema)
	if rs, ok := resolved.Load(key); ok {
		return rs.(*gschema.Resolved), nil
	}
	var s gschema.Schema
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("resolve schema: %w", err)
	}
	resolved.Store(key, rs)
	return rs, nil
}
