package main

import (
	"strings"
	"testing"
)

// TestFlagMistakes: a mistake on the command line prints itself and one line pointing at --help,
// not the whole usage under which it would scroll away; --help still prints the usage.
func TestFlagMistakes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--nosuch"}, "btp-connectivity-mcp: flag provided but not defined: -nosuch"},
		{[]string{"check", "--fail-on"}, "btp-connectivity-mcp: flag needs an argument: -fail-on"},
		{[]string{"--demo", "--timeout", "soon"}, `btp-connectivity-mcp: invalid value "soon" for flag -timeout`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := assessRun(tt.args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 2 || stdout != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], tt.want) ||
				lines[1] != "Run btp-connectivity-mcp --help for the usage and every flag." {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2, %q and one line pointing at --help", code, stdout, stderr, tt.want)
			}
		})
	}
	code, _, stderr := assessRun("--help")
	if code != 0 || !strings.Contains(stderr, "Usage:") || !strings.Contains(stderr, "-binding [NAME=]PATH") {
		t.Errorf("--help: exit %d\n%s", code, stderr)
	}
}

// TestNewOnlyWithoutHistory: check --new-only cannot know what it reported without a history
// store; it says so and how to give one, and exits 3 (the check could not run).
func TestNewOnlyWithoutHistory(t *testing.T) {
	t.Parallel()
	code, _, stderr := assessRun("--demo", "--history", "off", "check", "--new-only")
	if code != 3 || !strings.Contains(stderr, "history is off") || !strings.Contains(stderr, "pass --history FILE") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 3 saying history is off and to pass --history FILE", code, stderr)
	}
}
