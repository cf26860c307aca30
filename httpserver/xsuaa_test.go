package httpserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestXSUAABindingSources(t *testing.T) {
	t.Parallel()
	id, err := simulator.NewIdentity(simulator.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Close)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := string(id.ServiceKeyJSON())
	folder := filepath.Join(dir, "kyma")
	for name, v := range map[string]string{"url": id.URL() + "\n", "clientid": id.ClientID(), "xsappname": id.XSAppName(), "clientsecret": "x"} {
		write(filepath.Join("kyma", name), v)
	}
	vcap, err := id.WithVCAP(`{"connectivity":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		load    func() (*httpserver.XSUAABinding, error)
		wantNil bool
		wantErr string
	}{
		{"service key file", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(write("key.json", key)) }, false, ""},
		{"wrapped in credentials", func() (*httpserver.XSUAABinding, error) {
			return httpserver.XSUAAFromFile(write("wrapped.json", `{"credentials":`+key+`}`))
		}, false, ""},
		{"Kyma binding folder", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(folder) }, false, ""},
		{"VCAP_SERVICES", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromVCAP(vcap) }, false, ""},
		{"VCAP_SERVICES without xsuaa", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromVCAP(`{"connectivity":[]}`) }, true, ""},
		{"no VCAP_SERVICES", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromVCAP("") }, true, ""},
		{"key without xsappname", func() (*httpserver.XSUAABinding, error) {
			return httpserver.XSUAAFromFile(write("partial.json", `{"url":"https://x","clientid":"c"}`))
		}, false, "lack xsappname"},
		{"not JSON", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(write("bad.json", "url: x")) }, false, "not a JSON service key"},
		{"missing file", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(filepath.Join(dir, "none")) }, false, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := tc.load()
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tc.wantNil:
				if b != nil {
					t.Errorf("found %+v, want none", b)
				}
			case b == nil || b.URL != id.URL() || b.ClientID != id.ClientID() || b.XSAppName != id.XSAppName():
				t.Errorf("binding %+v, want url %s, clientid %s, xsappname %s", b, id.URL(), id.ClientID(), id.XSAppName())
			}
		})
	}
}
