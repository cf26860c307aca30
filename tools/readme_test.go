package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mark3labs/mcp-go/mcp"
)

// The README's tool reference is generated from the registered tools, so it cannot drift from
// them: TestReadmeToolTable fails when the table between the markers differs from what the
// code says, and rewrites it when run with UPDATE_README=true.
const (
	readmeStart = "<!-- tools:start -->"
	readmeEnd   = "<!-- tools:end -->"
)

func TestReadmeToolTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	var defs []mcp.Tool
	for _, st := range All(Config{}) {
		defs = append(defs, st.Tool)
	}
	table, err := renderToolTable(defs)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := replaceBetweenMarkers(string(data), table)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if updated == string(data) {
		return
	}
	if os.Getenv("UPDATE_README") == "true" {
		if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the tool table of %s", path)
		return
	}
	t.Fatalf("the tool table in %s is out of date (- README, + code); "+
		"regenerate it with UPDATE_README=true go test ./tools/ -run TestReadmeToolTable\n%s",
		path, cmp.Diff(string(data), updated))
}

// replaceBetweenMarkers returns doc with the text between readmeStart and readmeEnd replaced by
// body, the markers each on a line of their own.
func replaceBetweenMarkers(doc, body string) (string, error) {
	start := strings.Index(doc, readmeStart)
	end := strings.Index(doc, readmeEnd)
	switch {
	case start < 0 || end < 0:
		return "", fmt.Errorf("the markers %s and %s are missing", readmeStart, readmeEnd)
	case end < start:
		return "", fmt.Errorf("%s comes before %s", readmeEnd, readmeStart)
	case strings.Count(doc, readmeStart) > 1 || strings.Count(doc, readmeEnd) > 1:
		return "", fmt.Errorf("the markers %s and %s must appear once each", readmeStart, readmeEnd)
	}
	return doc[:start+len(readmeStart)] + "\n" + body + doc[end:], nil
}

// inputProperty is the part of an input property's schema the table shows.
type inputProperty struct {
	Name        string
	Description string `json:"description"`
	Enum        []any  `json:"enum"`
	Default     any    `json:"default"`
	Minimum     *int   `json:"minimum"`
	Maximum     *int   `json:"maximum"`
	Required    bool
}

// renderToolTable renders the Markdown table of tools, in the order they are listed to clients.
func renderToolTable(tools []mcp.Tool) (string, error) {
	var b strings.Builder
	b.WriteString("| Tool | Title | What it returns | Arguments (all optional unless marked required) | Read-only |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, tool := range tools {
		props, err := inputProperties(tool)
		if err != nil {
			return "", fmt.Errorf("tool %s: %w", tool.Name, err)
		}
		var args []string
		for _, p := range props {
			arg := "`" + p.Name + "`"
			if p.Required {
				arg += " (required)"
			}
			if p.Description != "" {
				arg += ": " + p.Description
			}
			if len(p.Enum) > 0 {
				vals := make([]string, len(p.Enum))
				for i, v := range p.Enum {
					vals[i] = "`" + fmt.Sprint(v) + "`"
				}
				arg += " One of " + strings.Join(vals, ", ") + "."
			}
			if p.Minimum != nil && p.Maximum != nil {
				arg += fmt.Sprintf(" %d to %d.", *p.Minimum, *p.Maximum)
			}
			if p.Default != nil {
				arg += fmt.Sprintf(" Default `%v`.", p.Default)
			}
			args = append(args, cell(arg))
		}
		if len(args) == 0 {
			args = []string{"none"}
		}
		readOnly := "no"
		if a := tool.Annotations.ReadOnlyHint; a != nil && *a {
			readOnly = "yes"
		}
		title := tool.Title
		if title == "" {
			title = tool.Annotations.Title
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n",
			tool.Name, cell(title), cell(firstLine(tool.Description)), strings.Join(args, "<br>"), readOnly)
	}
	return b.String(), nil
}

// inputProperties returns the properties of tool's input schema in schema order.
func inputProperties(tool mcp.Tool) ([]inputProperty, error) {
	raw := tool.RawInputSchema
	if len(raw) == 0 {
		var err error
		if raw, err = json.Marshal(tool.InputSchema); err != nil {
			return nil, err
		}
	}
	var schema struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	if len(schema.Properties) == 0 || string(schema.Properties) == "null" {
		return nil, nil
	}
	required := map[string]bool{}
	for _, r := range schema.Required {
		required[r] = true
	}
	// Decode token by token: a map would lose the order the properties are declared in.
	dec := json.NewDecoder(bytes.NewReader(schema.Properties))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("input schema: properties is not an object")
	}
	var props []inputProperty
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("input schema: %w", err)
		}
		p := inputProperty{Name: tok.(string), Required: required[tok.(string)]}
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("input schema: property %s: %w", p.Name, err)
		}
		props = append(props, p)
	}
	return props, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// cell makes text safe for one cell of a Markdown table.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func TestRenderToolTable(t *testing.T) {
	t.Parallel()
	schema := json.RawMessage(`{"type":"object","properties":{"zeta":{"type":"string","description":"Last | first.","enum":["a","b"]},` +
		`"alpha":{"type":"integer","default":5}},"required":["zeta"]}`)
	tools := []mcp.Tool{
		{Name: "with_args", Title: "With args", Description: "Answers things.\nMore detail.", RawInputSchema: schema,
			Annotations: mcp.ToolAnnotation{ReadOnlyHint: new(true)}},
		{Name: "no_args", Description: "Nothing to ask.", RawInputSchema: json.RawMessage(`{"type":"object"}`),
			Annotations: mcp.ToolAnnotation{Title: "No args"}},
	}
	got, err := renderToolTable(tools)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `with_args` | With args | Answers things. | `zeta` (required): Last \\| first. One of `a`, `b`.<br>`alpha` Default `5`. | yes |\n",
		"| `no_args` | No args | Nothing to ask. | none | no |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks\n%s\ngot\n%s", want, got)
		}
	}
}

func TestReplaceBetweenMarkers(t *testing.T) {
	t.Parallel()
	doc := "# T\n" + readmeStart + "\nold\n" + readmeEnd + "\nrest\n"
	got, err := replaceBetweenMarkers(doc, "new\n")
	if want := "# T\n" + readmeStart + "\nnew\n" + readmeEnd + "\nrest\n"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"no markers", readmeEnd + readmeStart, readmeStart + readmeEnd + readmeEnd} {
		if _, err := replaceBetweenMarkers(bad, "x"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
