package sccadmin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// EnvConfig names the environment variable that gives the config file when --scc-config is not set.
const EnvConfig = "CONNECTIVITY_SCC_CONFIG"

// ViaConnectivityProxy is the one value of an entry's via: reach the connector through its own
// tunnel, calling the Connectivity proxy.
const ViaConnectivityProxy = "connectivity-proxy"

// Config is the --scc-config file: the Cloud Connectors whose administration API is read.
//
//	connectors:
//	  - name: fra-prod master            # free text, unique
//	    url: https://scc-fra.corp:8443   # https; plain http only for loopback
//	    user: monitoring                 # best a read-only user with the LDAP role sccmonitoring
//	    password_file: /etc/scc/fra.pw   # or password_env: SCC_FRA_PASSWORD; never inline
//	    ca_file: /etc/scc/corp-ca.pem    # optional: trust roots for the connector's UI certificate
//	    client_cert_file: …              # optional with client_key_file: client-certificate logon
//	    subaccount: acme-prod            # optional: a bound subaccount's name or label (join scope)
//	  - name: muc-hr through the tunnel
//	    virtual_host: scc-muc-admin:8443 # the cloud-to-on-premise mapping to the connector itself
//	    location_id: muc-hr              # empty: the connector without a location ID
//	    via: connectivity-proxy
//	    user: monitoring
//	    password_env: SCC_MUC_PASSWORD
type Config struct {
	File       string
	Connectors []*Entry
}

// Entry is one configured connector. Its password and key are Secrets and are never printed.
type Entry struct {
	Name       string `yaml:"name"`
	URL        string `yaml:"url"`
	User       string `yaml:"user"`
	Subaccount string `yaml:"subaccount"`

	VirtualHost string `yaml:"virtual_host"`
	LocationID  string `yaml:"location_id"`
	Via         string `yaml:"via"`

	PasswordFile   string `yaml:"password_file"`
	PasswordEnv    string `yaml:"password_env"`
	CAFile         string `yaml:"ca_file"`
	ClientCertFile string `yaml:"client_cert_file"`
	ClientKeyFile  string `yaml:"client_key_file"`

	Line int `yaml:"-"` // where the entry starts in the file

	password    *password         // nil with client-certificate logon and no password
	roots       *x509.CertPool    // from ca_file; nil: the system roots
	clientCerts []tls.Certificate // from client_cert_file and client_key_file
	clientKey   binding.Secret    // the PEM private key, kept redacted
}

// ViaProxy reports whether the entry is reached through the Connectivity proxy.
func (e *Entry) ViaProxy() bool { return e.Via == ViaConnectivityProxy }

// BaseURL is where requests go: the url, or http://virtual_host through the proxy.
func (e *Entry) BaseURL() string {
	if e.ViaProxy() {
		return "http://" + e.VirtualHost
	}
	return strings.TrimRight(e.URL, "/")
}

// Endpoint describes where the connector is read, for answers: the url, or the virtual host and
// location through the Connectivity proxy.
func (e *Entry) Endpoint() string {
	if e.ViaProxy() {
		return fmt.Sprintf("%s via connectivity proxy (location %q)", e.VirtualHost, e.LocationID)
	}
	return e.BaseURL()
}

// Password returns the current password: a password file is read again when its size or
// modification time changed; an environment variable is read once, when the file was loaded.
func (e *Entry) Password() (binding.Secret, error) {
	if e.password == nil {
		return "", nil
	}
	return e.password.get()
}

// entryKeys lists the keys of an entry, for the message about an unknown one.
const entryKeys = "name, url, user, password_file, password_env, ca_file, client_cert_file, client_key_file, subaccount, virtual_host, location_id, via"

// rawEntry is an entry as written, with the keys that are refused.
type rawEntry struct {
	Entry    `yaml:",inline"`
	Password *string `yaml:"password"`
}

// ConfigError is a problem with the --scc-config file: the program refuses to start with it.
// main exits 2 for `check` and 1 otherwise.
type ConfigError struct {
	File  string
	Entry int    // 1-based; 0 when the problem is not in one entry
	Name  string // the entry's name, when it has one
	Line  int
	Err   error
}

func (e *ConfigError) Error() string {
	where := e.File
	switch {
	case e.Entry > 0 && e.Name != "":
		where = fmt.Sprintf("%s, entry %d %q (line %d)", e.File, e.Entry, e.Name, e.Line)
	case e.Entry > 0:
		where = fmt.Sprintf("%s, entry %d (line %d)", e.File, e.Entry, e.Line)
	case e.Line > 0:
		where = fmt.Sprintf("%s, line %d", e.File, e.Line)
	}
	return fmt.Sprintf("scc config %s: %v", where, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig reads and checks a config file. getenv looks up password_env variables (os.Getenv
// in main; nil looks up nothing). Nothing is guessed: every problem is a *ConfigError that names
// the file, the entry, its line and what to do.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Err: fmt.Errorf("cannot be read: %w", err)}
	}
	return ParseConfig(path, data, getenv)
}

// ParseConfig checks the contents of a config file named name; relative paths in it are taken
// as they are (relative to the working directory).
func ParseConfig(name string, data []byte, getenv func(string) string) (*Config, error) {
	fail := func(line int, err error) error { return &ConfigError{File: name, Line: line, Err: err} }
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fail(0, fmt.Errorf("not valid YAML: %s", yaml.FormatError(err, false, false)))
	}
	var top *ast.MappingNode
	if len(file.Docs) == 1 && file.Docs[0].Body != nil {
		top, _ = file.Docs[0].Body.(*ast.MappingNode)
	}
	if top == nil {
		return nil, fail(0, errors.New(`must be a mapping with the key "connectors", a list of entries`))
	}
	var list *ast.SequenceNode
	for _, kv := range top.Values {
		line := kv.Key.GetToken().Position.Line
		if key := kv.Key.GetToken().Value; key != "connectors" {
			return nil, fail(line, fmt.Errorf("unknown key %q; the file holds only \"connectors\"", key))
		}
		if list, _ = kv.Value.(*ast.SequenceNode); list == nil {
			return nil, fail(line, errors.New(`"connectors" must be a list of entries, each starting with "- name:"`))
		}
	}
	if list == nil {
		return nil, fail(0, errors.New(`the key "connectors" is missing`))
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	cfg := &Config{File: name}
	names := map[string]int{}
	for i, node := range list.Values {
		raw := rawEntry{}
		raw.Line = node.GetToken().Position.Line
		entryErr := func(err error) error {
			return &ConfigError{File: name, Entry: i + 1, Name: raw.Name, Line: raw.Line, Err: err}
		}
		if m, ok := node.(*ast.MappingNode); ok && len(m.Values) > 0 {
			raw.Line = m.Values[0].Key.GetToken().Position.Line
		}
		if err := yaml.NodeToValue(node, &raw, yaml.DisallowUnknownField()); err != nil {
			msg := yaml.FormatError(err, false, false)
			if strings.Contains(msg, "unknown field") {
				msg += "; the keys are " + entryKeys
			}
			return nil, entryErr(errors.New(msg))
		}
		e := raw.Entry
		e.Line = raw.Line
		if raw.Password != nil {
			return nil, entryErr(errors.New("an inline password is refused (the file would hold a secret): " +
				"put it in a file readable only by this server and name it in password_file, or in an environment variable named in password_env"))
		}
		if err := e.check(getenv); err != nil {
			return nil, entryErr(err)
		}
		if first, dup := names[e.Name]; dup {
			return nil, entryErr(fmt.Errorf("the name %q is also used by entry %d: give each connector its own name", e.Name, first))
		}
		names[e.Name] = i + 1
		cfg.Connectors = append(cfg.Connectors, &e)
	}
	if len(cfg.Connectors) == 0 {
		return nil, fail(0, errors.New(`"connectors" is empty: list at least one connector, or leave --scc-config out`))
	}
	return cfg, nil
}

// check validates an entry and reads its password, CA and client certificate files.
func (e *Entry) check(getenv func(string) string) error {
	trim := func(s ...*string) {
		for _, p := range s {
			*p = strings.TrimSpace(*p)
		}
	}
	trim(&e.Name, &e.URL, &e.User, &e.Subaccount, &e.VirtualHost, &e.LocationID, &e.Via,
		&e.PasswordFile, &e.PasswordEnv, &e.CAFile, &e.ClientCertFile, &e.ClientKeyFile)
	if e.Name == "" {
		return errors.New(`missing name: give each connector a unique name (free text)`)
	}
	switch {
	case e.URL != "" && (e.VirtualHost != "" || e.Via != ""):
		return errors.New("give either url (direct) or virtual_host with via: connectivity-proxy (through the tunnel), not both")
	case e.URL != "":
		if err := checkAdminURL(e.URL); err != nil {
			return err
		}
	case e.VirtualHost != "" || e.Via != "" || e.LocationID != "":
		if err := e.checkTunnel(); err != nil {
			return err
		}
	default:
		return errors.New("missing url: give url (https://host:8443) or virtual_host, location_id and via: connectivity-proxy")
	}
	if e.User == "" {
		return errors.New("missing user: the connector's API needs a user (best a read-only one with the LDAP role sccmonitoring)")
	}
	if err := e.readClientCert(); err != nil {
		return err
	}
	switch {
	case e.PasswordFile != "" && e.PasswordEnv != "":
		return errors.New("give either password_file or password_env, not both")
	case e.PasswordFile != "":
		e.password = &password{file: e.PasswordFile}
		if _, err := e.password.get(); err != nil {
			return err
		}
	case e.PasswordEnv != "":
		v := getenv(e.PasswordEnv)
		if v == "" {
			return fmt.Errorf("password_env %s is not set or empty: set it, or use password_file", e.PasswordEnv)
		}
		e.password = &password{value: binding.Secret(v)}
	case len(e.clientCerts) == 0:
		return errors.New("missing password: give password_file (a file holding it) or password_env (a variable holding it)")
	}
	if e.CAFile != "" {
		data, err := os.ReadFile(e.CAFile)
		if err != nil {
			return fmt.Errorf("ca_file cannot be read: %w", err)
		}
		e.roots = x509.NewCertPool()
		if !e.roots.AppendCertsFromPEM(data) {
			return fmt.Errorf("ca_file %s holds no PEM certificate: give the CA that signed the connector's UI certificate", e.CAFile)
		}
	}
	return nil
}

// checkTunnel validates virtual_host, location_id and via.
func (e *Entry) checkTunnel() error {
	if e.Via != ViaConnectivityProxy {
		if e.Via == "" {
			return errors.New(`virtual_host without via: add via: connectivity-proxy (or give url to reach the connector directly)`)
		}
		return fmt.Errorf("via %q is not known: the one value is %q", e.Via, ViaConnectivityProxy)
	}
	if e.VirtualHost == "" {
		return errors.New("via: connectivity-proxy needs virtual_host, the host:port of the cloud-to-on-premise mapping to the connector's administration port")
	}
	host, port, err := net.SplitHostPort(e.VirtualHost)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 || strings.ContainsAny(host, "/@?#") {
		return fmt.Errorf("virtual_host %q is not host:port (for example scc-admin:8443)", e.VirtualHost)
	}
	if e.CAFile != "" || e.ClientCertFile != "" || e.ClientKeyFile != "" {
		return errors.New("ca_file, client_cert_file and client_key_file do not apply through the connectivity proxy (the tunnel carries plain http to the proxy; the connector's mapping does TLS): remove them")
	}
	return nil
}

// checkAdminURL says why raw is not https://host[:port] (http only for loopback).
func checkAdminURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" || u.Hostname() == "" {
		return fmt.Errorf("url %q is not an absolute URL like https://scc-host:8443", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return fmt.Errorf("url %q must be only scheme, host and port, like https://scc-host:8443 (the user goes in user, the password in password_file)", u.Redacted())
	}
	host, ip := u.Hostname(), net.ParseIP(u.Hostname())
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
		return nil
	case scheme == "http" && (strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()):
		return nil
	case scheme == "http":
		return fmt.Errorf("url %q uses plain http: the API carries a password, so only https is allowed (http only for localhost, 127.0.0.0/8 and ::1)", raw)
	}
	return fmt.Errorf("url %q is not an https URL", raw)
}

// readClientCert loads client_cert_file and client_key_file as a TLS pair.
func (e *Entry) readClientCert() error {
	if e.ClientCertFile == "" && e.ClientKeyFile == "" {
		return nil
	}
	if e.ClientCertFile == "" || e.ClientKeyFile == "" {
		return errors.New("client-certificate logon needs both client_cert_file and client_key_file")
	}
	certPEM, err := os.ReadFile(e.ClientCertFile)
	if err != nil {
		return fmt.Errorf("client_cert_file cannot be read: %w", err)
	}
	keyPEM, err := os.ReadFile(e.ClientKeyFile)
	if err != nil {
		return fmt.Errorf("client_key_file cannot be read: %w", err)
	}
	e.clientKey = binding.Secret(keyPEM)
	pair, err := tls.X509KeyPair(certPEM, []byte(e.clientKey.Reveal()))
	if err != nil { // crypto/tls never quotes key material
		return fmt.Errorf("client_cert_file and client_key_file do not form a TLS key pair: %w", err)
	}
	e.clientCerts = []tls.Certificate{pair}
	return nil
}

// password is an entry's password: a fixed value (password_env) or a file read again when it
// changes (size or modification time, looked at on every use).
type password struct {
	file  string
	value binding.Secret

	mu    sync.Mutex
	stamp string
}

// get returns the password, reading the file again when it changed.
func (p *password) get() (binding.Secret, error) {
	if p.file == "" {
		return p.value, nil
	}
	info, err := os.Stat(p.file)
	if err != nil {
		return "", fmt.Errorf("password_file cannot be read: %w", err)
	}
	stamp := fmt.Sprintf("%d@%d", info.Size(), info.ModTime().UnixNano())
	p.mu.Lock()
	defer p.mu.Unlock()
	if stamp == p.stamp {
		return p.value, nil
	}
	data, err := os.ReadFile(p.file)
	if err != nil {
		return "", fmt.Errorf("password_file cannot be read: %w", err)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return "", fmt.Errorf("password_file %s is empty: write the password into it", p.file)
	}
	p.value, p.stamp = binding.Secret(v), stamp
	return p.value, nil
}
