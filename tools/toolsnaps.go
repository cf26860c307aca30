package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Tool definitions are an API: a changed description or schema changes what models do. Each
// tool's definition, exactly as tools/list shows it, is kept in __toolsnaps__/<name>.snap
// next to this file, and TestToolSnap fails when the live definition differs, until the
// change is accepted with UPDATE_TOOLSNAPS=true.

// TB is the part of testing.TB the test helpers use (so this file need not import testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// TestToolSnap compares tool's definition with its snapshot and fails with a diff when they
// differ. With UPDATE_TOOLSNAPS=true in the environment it writes the snapshot instead, which
// is also the only way a missing snapshot is created.
func TestToolSnap(t TB, tool server.ServerTool) {
	t.Helper()
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	wrote, err := checkToolSnap(snapshotDir(), tool.Tool, update)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if wrote {
		t.Logf("wrote snapshot of tool %s", tool.Tool.Name)
	}
}

// TestToolAnnotations fails unless CheckAnnotations accepts tool.
func TestToolAnnotations(t TB, tool server.ServerTool) {
	t.Helper()
	if err := CheckAnnotations(tool.Tool); err != nil {
		t.Fatalf("%v", err)
	}
}

// CheckAnnotations reports an error unless all four hints of tool are set, readOnlyHint to
// true and destructiveHint to false. A client asks a human to approve every call of a tool
// whose hints are unset, and mcp-go's defaults declare a tool destructive.
func CheckAnnotations(tool mcp.Tool) error {
	a := tool.Annotations
	var problems []string
	for _, hint := range []struct {
		name string
		v    *bool
	}{
		{"readOnlyHint", a.ReadOnlyHint}, {"destructiveHint", a.DestructiveHint},
		{"idempotentHint", a.IdempotentHint}, {"openWorldHint", a.OpenWorldHint},
	} {
		if hint.v == nil {
			problems = append(problems, hint.name+" is not set")
		}
	}
	if a.ReadOnlyHint != nil && !*a.ReadOnlyHint {
		problems = append(problems, "readOnlyHint is false")
	}
	if a.DestructiveHint != nil && *a.DestructiveHint {
		problems = append(problems, "destructiveHint is true")
	}
	if len(problems) > 0 {
		return fmt.Errorf("tool %s: %s", tool.Name, strings.Join(problems, ", "))
	}
	return nil
}

// ToolSnapshot returns tool's definition as tools/list shows it, indented by two spaces,
// with object keys sorted and a final newline.
func ToolSnapshot(tool mcp.Tool) ([]byte, error) {
	data, err := json.Marshal(tool)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil { // maps are encoded with sorted keys
		return nil, err
	}
	return out.Bytes(), nil
}

// snapshotDir is __toolsnaps__ beside this source file, whichever package's test runs.
func snapshotDir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "__toolsnaps__")
	}
	return "__toolsnaps__"
}

// checkToolSnap compares tool with dir/<name>.snap, or writes that file when update is
// set. It reports whether it wrote the file.
func checkToolSnap(dir string, tool mcp.Tool, update bool) (bool, error) {
	got, err := ToolSnapshot(tool)
	if err != nil {
		return false, fmt.Errorf("tool %s: marshal definition: %w", tool.Name, err)
	}
	path := filepath.Join(dir, tool.Name+".snap")
	want, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(got, want):
		return false, nil
	case update:
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, err
		}
		return true, os.WriteFile(path, got, 0o644)
	case errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("tool %s has no snapshot %s; create it with UPDATE_TOOLSNAPS=true go test ./tools/", tool.Name, path)
	case err != nil:
		return false, err
	}
	return false, fmt.Errorf("tool %s differs from its snapshot %s (- snapshot, + now); "+
		"if the change is intended, accept it with UPDATE_TOOLSNAPS=true go test ./tools/\n%s",
		tool.Name, path, lineDiff(string(want), string(got)))
}

// lineDiff shows the lines that differ between a and b, with two lines of context.
func lineDiff(a, b string) string {
	x := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	y := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte // ' ', '-' or '+'
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', x[i]})
			i++
		default:
			lines = append(lines, line{'+', y[j]})
			j++
		}
	}
	const context = 2
	var out strings.Builder
	skipped := false
	for k, l := range lines {
		near := false
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			near = near || lines[d].op != ' '
		}
		if !near {
			if !skipped {
				out.WriteString("  …\n")
			}
			skipped = true
			continue
		}
		skipped = false
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
	}
	return out.String()
}
