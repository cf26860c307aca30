package sccadmin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// startSCC runs a simulated connector for the duration of the test.
func startSCC(t testing.TB, o simulator.SCCOptions) *simulator.SCC {
	t.Helper()
	s, err := simulator.StartSCC(o)
	if err != nil {
		t.Fatalf("StartSCC: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// direct is a config entry for a simulated connector, its password in a file.
func direct(t testing.TB, name string, s *simulator.SCC, password string) string {
	t.Helper()
	pw := writeFile(t, t.TempDir(), "password", password+"\n")
	return fmt.Sprintf("  - name: %s\n    url: %s\n    user: %s\n    password_file: %s\n", name, s.URL(), s.User(), pw)
}

// configOf parses config entries and returns the config.
func configOf(t testing.TB, entries ...string) *sccadmin.Config {
	t.Helper()
	cfg, err := sccadmin.ParseConfig("test.yaml", []byte("connectors:\n"+strings.Join(entries, "")), os.Getenv)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

// readOne reads the one connector name with a fresh reader.
func readOne(t testing.TB, cfg *sccadmin.Config, opts sccadmin.Options, name string) *sccadmin.Health {
	t.Helper()
	h, err := sccadmin.NewReader(cfg, opts).Read(context.Background(), name, false)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return h
}

// paths returns the logged request paths and fails the test on any method but GET.
func paths(t testing.TB, s *simulator.SCC) []string {
	t.Helper()
	var out []string
	for _, r := range s.Requests() {
		if r.Method != "GET" {
			t.Errorf("request %s %s: only GET may ever be sent", r.Method, r.Path)
		}
		out = append(out, r.Path)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
