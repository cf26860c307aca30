package assess

import (
	"maps"
	"slices"
)

// Evidence is what a finding rests on: named values, in the order the rule gives them. It is a
// short list rather than a map because an assessment keeps tens of thousands of findings (a
// two-entry map costs five times the memory); rules share one Evidence between findings, so
// treat it as read-only.
type Evidence []Field

// Field is one named value of a finding's evidence.
type Field struct {
	Name, Value string
}

// Get returns the value named name, and whether there is one.
func (e Evidence) Get(name string) (string, bool) {
	for _, f := range e {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Value returns the value named name, empty when there is none.
func (e Evidence) Value(name string) string {
	v, _ := e.Get(name)
	return v
}

// Map returns the evidence as a new map, for answers; a name given twice keeps its last value.
func (e Evidence) Map() map[string]string {
	m := make(map[string]string, len(e))
	for _, f := range e {
		m[f.Name] = f.Value
	}
	return m
}

// With returns a copy of e with name set to value (replaced when e has it, else appended); e is
// not changed.
func (e Evidence) With(name, value string) Evidence {
	out := make(Evidence, 0, len(e)+1)
	for _, f := range e {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return append(out, Field{name, value})
}

// evidenceMemo shares one Evidence between the findings of an assessment that have the same
// single field, e.g. the security-check findings (one Evidence per check and rating).
type evidenceMemo map[[2]string]Evidence

// one returns the shared Evidence of the one field name = value.
func (m evidenceMemo) one(name, value string) Evidence {
	if e, ok := m[[2]string{name, value}]; ok {
		return e
	}
	e := Evidence{{name, value}}
	m[[2]string{name, value}] = e
	return e
}

// evidenceOf returns the fields of m in name order.
func evidenceOf(m map[string]string) Evidence {
	e := make(Evidence, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		e = append(e, Field{name, m[name]})
	}
	return e
}
