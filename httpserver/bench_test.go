package httpserver_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// BenchmarkXSUAAVerify is the cost of checking one JWT once the keys are cached: what every
// request pays.
func BenchmarkXSUAAVerify(b *testing.B) {
	id, err := simulator.NewIdentity(simulator.IdentityOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer id.Close()
	var binding httpserver.XSUAABinding
	if err := json.Unmarshal(id.ServiceKeyJSON(), &binding); err != nil {
		b.Fatal(err)
	}
	x := httpserver.NewXSUAA(httpserver.XSUAAOptions{Binding: &binding})
	token, err := id.Token(id.DefaultClaims())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := x.Verify(b.Context(), token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Verify(b.Context(), token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStaticTokenMatch is the cost of checking the static token, read from a file (a stat
// per request to notice rotation) or given directly.
func BenchmarkStaticTokenMatch(b *testing.B) {
	path := filepath.Join(b.TempDir(), "token")
	if err := os.WriteFile(path, []byte(staticToken), 0o600); err != nil {
		b.Fatal(err)
	}
	fromFile, err := httpserver.StaticTokenFile(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	fixed, err := httpserver.NewStaticToken(staticToken)
	if err != nil {
		b.Fatal(err)
	}
	for name, st := range map[string]*httpserver.StaticToken{"file": fromFile, "env": fixed} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !st.Match(staticToken) {
					b.Fatal("no match")
				}
			}
		})
	}
}
