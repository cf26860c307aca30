package toolsnaps

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// echo is a complete tool definition, as tools.New makes them.
func echo() mcp.Tool {
	return mcp.Tool{
		Name:            "echo",
		Title:           "Echo",
		Description:     "Echoes its arguments.",
		RawInputSchema:  json.RawMessage(`{"type":"object","properties":{"host":{"type":"string"}},"required":["host"],"additionalProperties":false}`),
		RawOutputSchema: json.RawMessage(`{"type":"object","properties":{"host":{"type":"string"}},"additionalProperties":false}`),
		Annotations: mcp.ToolAnnotation{
			Title: "Echo", ReadOnlyHint: new(true), DestructiveHint: new(false), IdempotentHint: new(true), OpenWorldHint: new(true),
		},
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tool := echo()
	path := filepath.Join(dir, "echo.snap")

	if _, err := check(dir, tool, false); err == nil || !strings.Contains(err.Error(), "UPDATE_TOOLSNAPS=true") {
		t.Errorf("missing snapshot: %v, want an error telling how to create it", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("a missing snapshot was created without UPDATE_TOOLSNAPS")
	}
	if wrote, err := check(dir, tool, true); err != nil || !wrote {
		t.Fatalf("update: wrote=%v err=%v", wrote, err)
	}
	if wrote, err := check(dir, tool, false); err != nil || wrote {
		t.Errorf("unchanged tool: wrote=%v err=%v", wrote, err)
	}
	if wrote, err := check(dir, tool, true); err != nil || wrote {
		t.Errorf("unchanged tool with update: wrote=%v err=%v, want no write", wrote, err)
	}

	changed := tool
	changed.Description = "Echoes its arguments back."
	_, err := check(dir, changed, false)
	if err == nil {
		t.Fatal("changed description passed")
	}
	for _, want := range []string{
		`tool echo differs from its snapshot`,
		`(?m)^\s*-.*"description": "Echoes its arguments\.",$`,
		`(?m)^\s*\+.*"description": "Echoes its arguments back\.",$`,
		`UPDATE_TOOLSNAPS=true`,
	} {
		if !regexp.MustCompile(want).MatchString(err.Error()) {
			t.Errorf("diff error lacks %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), `"name": "echo"`) {
		t.Errorf("diff shows unchanged lines far from the change:\n%v", err)
	}
	if wrote, err := check(dir, changed, true); err != nil || !wrote {
		t.Errorf("update after change: wrote=%v err=%v", wrote, err)
	}
	if _, err := check(dir, changed, false); err != nil {
		t.Errorf("after update: %v", err)
	}
}

func TestTestReadsTheEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tool := echo()
	env := map[string]string{}
	getenv := func(key string) string { return env[key] }
	if err := test(dir, tool, getenv); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "echo.snap")) {
		t.Errorf("Test without a snapshot = %v, want an error naming %s", err, filepath.Join(dir, "echo.snap"))
	}
	env["UPDATE_TOOLSNAPS"] = "true"
	if err := test(dir, tool, getenv); err != nil {
		t.Fatalf("Test with UPDATE_TOOLSNAPS=true = %v", err)
	}
	env["UPDATE_TOOLSNAPS"] = ""
	if err := test(dir, tool, getenv); err != nil {
		t.Errorf("Test after the update = %v", err)
	}
}

func TestSnapshotFormat(t *testing.T) {
	t.Parallel()
	snap, err := Snapshot(echo())
	if err != nil {
		t.Fatal(err)
	}
	s := string(snap)
	if !strings.HasPrefix(s, "{\n  \"annotations\": {\n") || !strings.HasSuffix(s, "}\n") {
		t.Errorf("snapshot is not indented JSON with sorted keys:\n%s", s)
	}
	var def struct {
		Name         string          `json:"name"`
		Title        string          `json:"title"`
		Description  string          `json:"description"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema"`
		Annotations  map[string]any  `json:"annotations"`
	}
	if err := json.Unmarshal(snap, &def); err != nil {
		t.Fatal(err)
	}
	if def.Name != "echo" || def.Title != "Echo" || def.Description == "" || def.InputSchema == nil || def.OutputSchema == nil {
		t.Errorf("snapshot misses parts of the definition:\n%s", s)
	}
	wantHints := map[string]any{"title": "Echo", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true}
	if fmt.Sprint(def.Annotations) != fmt.Sprint(wantHints) {
		t.Errorf("annotations = %v, want %v", def.Annotations, wantHints)
	}
	if again, _ := Snapshot(echo()); string(again) != s {
		t.Errorf("snapshot is not stable")
	}
}

func TestCheckAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool mcp.Tool
		want string // "" when accepted
	}{
		{echo(), ""},
		{mcp.NewTool("defaults"), "tool defaults: readOnlyHint is false, destructiveHint is true"},
		{mcp.Tool{Name: "bare"}, "tool bare: readOnlyHint is not set, destructiveHint is not set, idempotentHint is not set, openWorldHint is not set"},
	}
	for _, tt := range tests {
		err := CheckAnnotations(tt.tool)
		if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && got != tt.want {
			t.Errorf("CheckAnnotations(%s) = %v, want %q", tt.tool.Name, err, tt.want)
		}
	}
}
