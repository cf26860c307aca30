// Package toolsnaps keeps tool definitions from changing by accident: each tool's definition,
// exactly as tools/list shows it, is kept in __toolsnaps__/<name>.snap in the directory of the
// test that checks it, and Test fails when the live definition differs, until the change is
// accepted with UPDATE_TOOLSNAPS=true. It also checks the annotations clients rely on. Only
// tests import it.
package toolsnaps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/mark3labs/mcp-go/mcp"
)

// Dir is where the snapshots live, relative to the package directory a test runs in.
const Dir = "__toolsnaps__"

// Test compares tool's definition with Dir/<name>.snap and returns an error with a diff when
// they differ. With UPDATE_TOOLSNAPS=true in the environment it writes the snapshot instead,
// which is also the only way a missing snapshot is created.
func Test(tool mcp.Tool) error {
	return test(Dir, tool, os.Getenv)
}

// test is Test with the snapshot folder and the environment given.
func test(dir string, tool mcp.Tool, getenv func(string) string) error {
	_, err := check(dir, tool, getenv("UPDATE_TOOLSNAPS") == "true")
	return err
}

// Snapshot returns tool's definition as tools/list shows it, indented by two spaces, with
// object keys sorted and a final newline.
func Snapshot(tool mcp.Tool) ([]byte, error) {
	data, err := json.Marshal(tool)
	var v any
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		err = dec.Decode(&v)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err == nil {
		err = enc.Encode(v) // maps are encoded with sorted keys
	}
	return out.Bytes(), err
}

// check compares tool with dir/<name>.snap, or writes that file when update is set. It
// reports whether it wrote the file.
func check(dir string, tool mcp.Tool, update bool) (bool, error) {
	got, err := Snapshot(tool)
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
		return false, fmt.Errorf("tool %s has no snapshot %s; create it with UPDATE_TOOLSNAPS=true go test", tool.Name, path)
	case err != nil:
		return false, err
	}
	return false, fmt.Errorf("tool %s differs from its snapshot %s (- snapshot, + now); "+
		"if the change is intended, accept it with UPDATE_TOOLSNAPS=true go test\n%s",
		tool.Name, path, cmp.Diff(string(want), string(got)))
}

// CheckAnnotations reports an error unless all four hints of tool are set, readOnlyHint to
// true and destructiveHint to false. A client asks a human to approve every call of a tool
// whose hints are unset, and mcp-go's defaults declare a tool destructive.
func CheckAnnotations(tool mcp.Tool) error {
	a := tool.Annotations
	var problems []string
	for i, hint := range []*bool{a.ReadOnlyHint, a.DestructiveHint, a.IdempotentHint, a.OpenWorldHint} {
		if hint == nil {
			problems = append(problems, []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}[i]+" is not set")
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
