package sccadmin_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "s3cret-pw\n")
	env := func(k string) string {
		return map[string]string{"SCC_PW": "env-s3cret"}[k]
	}
	good := fmt.Sprintf(`connectors:
  - name: fra-prod master
    url: https://scc-fra.corp:8443
    user: monitoring
    password_file: %s
    subaccount: acme-prod
  - name: muc through the tunnel
    virtual_host: scc-muc-admin:8443
    location_id: muc-hr
    via: connectivity-proxy
    user: monitoring
    password_env: SCC_PW
  - name: local
    url: http://127.0.0.1:8443
    user: monitoring
    password_env: SCC_PW
`, pw)
	cfg, err := sccadmin.ParseConfig("scc.yaml", []byte(good), env)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if len(cfg.Connectors) != 3 || cfg.Connectors[1].Line != 7 || !cfg.Connectors[1].ViaProxy() ||
		cfg.Connectors[1].BaseURL() != "http://scc-muc-admin:8443" || cfg.Connectors[0].Subaccount != "acme-prod" {
		t.Fatalf("config %+v %+v", *cfg.Connectors[0], *cfg.Connectors[1])
	}
	if p, err := cfg.Connectors[0].Password(); err != nil || p.Reveal() != "s3cret-pw" {
		t.Errorf("password %v %v", p, err)
	}
	if p, _ := cfg.Connectors[1].Password(); p.Reveal() != "env-s3cret" || fmt.Sprint(p) != "[redacted]" {
		t.Errorf("password_env: %v", p)
	}
	if s := fmt.Sprintf("%+v %#v", cfg.Connectors[0], cfg.Connectors[1]); strings.Contains(s, "s3cret") {
		t.Errorf("a printed entry shows a password: %s", s)
	}

	entry := func(lines ...string) string {
		return "connectors:\n  - name: x\n" + strings.Join(lines, "")
	}
	const userPw = "    user: u\n    password_env: SCC_PW\n"
	for _, tc := range []struct {
		name, file, want string
		line             int
	}{
		{"not yaml", "connectors: [", "not valid YAML", 0},
		{"unknown top key", "connectorz: []\n", `unknown key "connectorz"`, 1},
		{"no list", "connectors: x\n", "must be a list", 1},
		{"empty", "connectors: []\n", "is empty", 0},
		{"inline password", entry("    url: https://h:8443\n    user: u\n    password: hunter2\n"), "inline password is refused", 2},
		{"unknown key", entry("    url: https://h:8443\n", userPw, "    pasword_file: x\n"), "pasword_file", 2},
		{"no name", "connectors:\n  - url: https://h:8443\n" + userPw, "missing name", 2},
		{"no url", entry(userPw), "missing url", 2},
		{"plain http", entry("    url: http://scc.corp:8443\n", userPw), "plain http", 2},
		{"url with path", entry("    url: https://scc.corp:8443/api\n", userPw), "only scheme, host and port", 2},
		{"url and virtual host", entry("    url: https://h:8443\n    virtual_host: v:8443\n    via: connectivity-proxy\n", userPw), "not both", 2},
		{"virtual host without via", entry("    virtual_host: v:8443\n", userPw), "via: connectivity-proxy", 2},
		{"unknown via", entry("    virtual_host: v:8443\n    via: socks5\n", userPw), `via "socks5"`, 2},
		{"bad virtual host", entry("    virtual_host: v\n    via: connectivity-proxy\n", userPw), "not host:port", 2},
		{"ca file through the tunnel", entry("    virtual_host: v:8443\n    via: connectivity-proxy\n    ca_file: /x\n", userPw), "do not apply", 2},
		{"no user", entry("    url: https://h:8443\n    password_env: SCC_PW\n"), "missing user", 2},
		{"no password", entry("    url: https://h:8443\n    user: u\n"), "missing password", 2},
		{"both passwords", entry("    url: https://h:8443\n    user: u\n    password_env: SCC_PW\n    password_file: " + pw + "\n"), "not both", 2},
		{"unset env", entry("    url: https://h:8443\n    user: u\n    password_env: NOPE\n"), "NOPE is not set", 2},
		{"missing password file", entry("    url: https://h:8443\n    user: u\n    password_file: " + filepath.Join(dir, "nope") + "\n"), "password_file cannot be read", 2},
		{"cert without key", entry("    url: https://h:8443\n", userPw, "    client_cert_file: "+pw+"\n"), "both client_cert_file and client_key_file", 2},
		{"bad ca", entry("    url: https://h:8443\n", userPw, "    ca_file: "+pw+"\n"), "holds no PEM certificate", 2},
		{"duplicate name", entry("    url: https://h:8443\n", userPw, "  - name: x\n    url: https://g:8443\n", userPw), `also used by entry 1`, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sccadmin.ParseConfig("scc.yaml", []byte(tc.file), env)
			var ce *sccadmin.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is no *ConfigError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "scc config scc.yaml") || ce.Line != tc.line {
				t.Errorf("error %q (line %d), want %q at line %d", err, ce.Line, tc.want, tc.line)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestPasswordFileIsReadAgainWhenItChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "first")
	cfg, err := sccadmin.ParseConfig("scc.yaml", []byte("connectors:\n  - name: x\n    url: https://h:8443\n    user: u\n    password_file: "+pw+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Connectors[0]
	writeFile(t, dir, "pw", "second-longer")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(pw, later, later); err != nil {
		t.Fatal(err)
	}
	if p, err := e.Password(); err != nil || p.Reveal() != "second-longer" {
		t.Errorf("after a change: %q %v", p.Reveal(), err)
	}
	if err := os.Remove(pw); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Password(); err == nil || !strings.Contains(err.Error(), "password_file cannot be read") {
		t.Errorf("removed file: %v", err)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	t.Parallel()
	_, err := sccadmin.LoadConfig(filepath.Join(t.TempDir(), "none.yaml"), nil)
	var ce *sccadmin.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("error %v", err)
	}
}

func TestNamesForAndKymaProxy(t *testing.T) {
	t.Parallel()
	getenv := func(string) string { return "pw" }
	cfg, err := sccadmin.ParseConfig("scc.yaml", []byte(`connectors:
  - {name: a, url: "https://a:8443", user: u, password_env: P, subaccount: acme-prod}
  - {name: b, url: "https://b:8443", user: u, password_env: P}
  - {name: c, url: "https://c:8443", user: u, password_env: P, subaccount: acme-dev}
`), getenv)
	if err != nil {
		t.Fatal(err)
	}
	r := sccadmin.NewReader(cfg, sccadmin.Options{})
	if got := r.NamesFor("conn-prod", "ACME-PROD", ""); strings.Join(got, ",") != "a,b" {
		t.Errorf("NamesFor = %v, want a,b", got)
	}
	if got := sccadmin.KymaProxy().Address(); got != "connectivity-proxy.kyma-system.svc.cluster.local:20003" {
		t.Errorf("Kyma proxy %s", got)
	}
}
