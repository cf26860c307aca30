package tools

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func TestCheckToolSnap(t *testing.T) {
	dir := t.TempDir()
	tool := New(nil, echoDef, echo).Tool
	path := filepath.Join(dir, "echo.snap")

	if _, err := checkToolSnap(dir, tool, false); err == nil || !strings.Contains(err.Error(), "UPDATE_TOOLSNAPS=true") {
		t.Errorf("missing snapshot: %v, want an error telling how to create it", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("a missing snapshot was created without UPDATE_TOOLSNAPS")
	}

	if wrote, err := checkToolSnap(dir, tool, true); err != nil || !wrote {
		t.Fatalf("update: wrote=%v err=%v", wrote, err)
	}
	if wrote, err := checkToolSnap(dir, tool, false); err != nil || wrote {
		t.Errorf("unchanged tool: wrote=%v err=%v", wrote, err)
	}
	if wrote, err := checkToolSnap(dir, tool, true); err != nil || wrote {
		t.Errorf("unchanged tool with update: wrote=%v err=%v, want no write", wrote, err)
	}

	changed := tool
	changed.Description = "Echoes its arguments back."
	_, err := checkToolSnap(dir, changed, false)
	if err == nil {
		t.Fatal("changed description passed")
	}
	for _, want := range []string{
		"tool echo differs from its snapshot",
		`-   "description": "Echoes its arguments.",`,
		`+   "description": "Echoes its arguments back.",`,
		"UPDATE_TOOLSNAPS=true",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("diff error lacks %q:\n%v", want, err)
		}
	}
	if wrote, err := checkToolSnap(dir, changed, true); err != nil || !wrote {
		t.Errorf("update after change: wrote=%v err=%v", wrote, err)
	}
	if _, err := checkToolSnap(dir, changed, false); err != nil {
		t.Errorf("after update: %v", err)
	}
}

func TestToolSnapshotFormat(t *testing.T) {
	snap, err := ToolSnapshot(New(nil, echoDef, echo).Tool)
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
	if again, _ := ToolSnapshot(New(nil, echoDef, echo).Tool); string(again) != s {
		t.Errorf("snapshot is not stable")
	}
}

// fakeTB records what a helper reports.
type fakeTB struct{ fatal, log string }

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Logf(format string, args ...any)   { f.log = fmt.Sprintf(format, args...) }

func TestTestToolSnapMissing(t *testing.T) {
	t.Setenv("UPDATE_TOOLSNAPS", "")
	tool := New(nil, Definition{Name: "no_such_snapshot", Title: "None", Description: "Has no snapshot."}, echo)
	var tb fakeTB
	TestToolSnap(&tb, tool)
	if !strings.Contains(tb.fatal, "has no snapshot") || !strings.Contains(tb.fatal, filepath.Join("tools", "__toolsnaps__", "no_such_snapshot.snap")) {
		t.Errorf("TestToolSnap reported %q, want a missing snapshot under tools/__toolsnaps__", tb.fatal)
	}
}

func TestCheckAnnotations(t *testing.T) {
	if err := CheckAnnotations(New(nil, echoDef, echo).Tool); err != nil {
		t.Errorf("tool from New: %v", err)
	}
	tests := []struct {
		tool mcp.Tool
		want string
	}{
		{mcp.NewTool("defaults"), "tool defaults: readOnlyHint is false, destructiveHint is true"},
		{mcp.Tool{Name: "bare"}, "tool bare: readOnlyHint is not set, destructiveHint is not set, idempotentHint is not set, openWorldHint is not set"},
	}
	for _, tt := range tests {
		if err := CheckAnnotations(tt.tool); err == nil || err.Error() != tt.want {
			t.Errorf("CheckAnnotations(%s) = %v, want %q", tt.tool.Name, err, tt.want)
		}
	}
	var tb fakeTB
	TestToolAnnotations(&tb, server.ServerTool{Tool: mcp.Tool{Name: "bare"}})
	if tb.fatal == "" {
		t.Errorf("TestToolAnnotations accepted a tool without hints")
	}
}

func TestLineDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	b := "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
	want := "  1\n  2\n- 3\n+ three\n  4\n  5\n  …\n  11\n  12\n+ 13\n"
	if got := lineDiff(a, b); got != want {
		t.Errorf("lineDiff =\n%s\nwant\n%s", got, want)
	}
	if got := lineDiff("same\n", "same\n"); got != "  …\n" {
		t.Errorf("lineDiff of equal texts = %q", got)
	}
}
