// Package binding reads the Connectivity service bindings (plan api_access) the server uses from
// service key files, VCAP_SERVICES (Cloud Foundry) or Kyma binding folders. Load says of every
// binding found whether it is usable, skipped (another plan) or broken, and why. A Rotation reads
// a binding's file or folder again when it changes or when XSUAA refuses its credentials.
package binding

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Secret is a client secret or private key: fmt, JSON and slog show "[redacted]" ("" when empty),
// so it never reaches a log, an error or a tool result; only Reveal returns the value.
type Secret string

// Reveal returns the secret value itself, for the one place that sends it to XSUAA.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Format redacts the secret for every fmt verb, including %x and %q.
func (s Secret) Format(f fmt.State, verb rune) {
	out := s.String()
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		out = strconv.Quote(out)
	}
	_, _ = io.WriteString(f, out)
}

// MarshalJSON encodes the secret as "[redacted]" (or "" when empty).
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Binding is the Connectivity service binding of one subaccount: the credentials to get an XSUAA
// token and the Cloud Connector info endpoint. Printing it never shows a secret.
type Binding struct {
	// Name is unique among the bindings Load returns: NAME of --binding NAME=PATH, the
	// VCAP_SERVICES entry's name, the Kyma folder's name, or the service key file's base name.
	Name   string
	Source string // where it was read: "file /path/key.json", "VCAP_SERVICES", "SERVICE_BINDING_ROOT /bindings/conn"
	Plan   string // the service plan when the source tells it ("api_access"), else ""

	ClientID        string // credentials.clientid
	ClientSecret    Secret // credentials.clientsecret; empty for X.509 bindings
	CredentialType  string // credentials.credential-type: "binding-secret", "x509" or "" (unknown)
	TokenServiceURL string // XSUAA base URL of client-secret bindings: credentials.token_service_url (or url)
	CertURL         string // XSUAA base URL of X.509 bindings: credentials.certurl
	Certificate     string // PEM client certificate chain of an X.509 binding
	Key             Secret // PEM private key of an X.509 binding

	ServiceURL  string // credentials.connectivity_service.url, the Connectivity API's base URL
	SCCInfoPath string // credentials.connectivity_service.scc_info_path, the Cloud Connector info path

	SubaccountID        string // credentials.subaccount_id
	SubaccountSubdomain string // credentials.subaccount_subdomain
	IdentityZone        string // credentials.identityzone

	path string // the file or folder Reload reads again; "" when it cannot be re-read
	own  string // the binding's name there, before NAME=PATH renamed it
}

// UsesX509 reports whether the binding authenticates with its X.509 certificate (mTLS): its
// credential-type says x509, or, without one, it has a certificate and key but no secret.
func (b *Binding) UsesX509() bool {
	if ct := strings.ToLower(strings.TrimSpace(b.CredentialType)); ct != "" {
		return strings.HasPrefix(ct, "x509")
	}
	return b.ClientSecret == "" && b.Certificate != "" && b.Key != ""
}

// Auth names how the binding authenticates: "x509", "secret" or "no credentials".
func (b *Binding) Auth() string {
	if b.UsesX509() {
		return "x509"
	} else if b.ClientSecret != "" {
		return "secret"
	}
	return "no credentials"
}

// NotAfter returns when the certificate of an X.509 binding expires, else the zero time.
func (b *Binding) NotAfter() time.Time {
	if block, _ := pem.Decode([]byte(b.Certificate)); block != nil && b.UsesX509() {
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			return cert.NotAfter
		}
	}
	return time.Time{}
}

// Region returns the SAP BTP region of the Connectivity API host, "eu10" for
// connectivity.cf.eu10.hana.ondemand.com, or "" when the host does not tell.
func (b *Binding) Region() string {
	host := ""
	if u, err := url.Parse(strings.TrimSpace(b.ServiceURL)); err == nil {
		host = strings.ToLower(u.Hostname())
	}
	_, rest, _ := strings.Cut("."+host, ".cf.")
	if region, _, ok := strings.Cut(rest, "."); ok {
		return region
	}
	return ""
}

// Label names the subaccount: its subdomain, else its ID, else its identity zone, else Name.
func (b *Binding) Label() string {
	return cmp.Or(b.SubaccountSubdomain, b.SubaccountID, b.IdentityZone, b.Name)
}

// TokenURL returns the XSUAA token endpoint, <certurl>/oauth/token for X.509 bindings and
// <token_service_url>/oauth/token otherwise, or "" without the base URL.
func (b *Binding) TokenURL() string {
	base := b.TokenServiceURL
	if b.UsesX509() {
		base = b.CertURL
	}
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if base == "" || strings.HasSuffix(base, "/oauth/token") {
		return base
	}
	return base + "/oauth/token"
}

// InfoURL returns the Cloud Connector info endpoint, ServiceURL/SCCInfoPath, or "" without either.
func (b *Binding) InfoURL() string {
	base, path := strings.TrimRight(strings.TrimSpace(b.ServiceURL), "/"), strings.TrimSpace(b.SCCInfoPath)
	if base == "" || path == "" {
		return ""
	}
	return base + "/" + strings.TrimLeft(path, "/")
}

// Validate checks that the binding can call the Cloud Connector info API: nil, or an *Error that
// lists every problem found.
func (b *Binding) Validate() error {
	if problems := b.problems(nil); len(problems) > 0 {
		return &Error{Name: b.Name, Source: b.Source, Problems: problems}
	}
	return nil
}

// problems appends every problem of the binding to problems.
func (b *Binding) problems(problems []string) []string {
	add := func(bad bool, p string) {
		if bad && p != "" {
			problems = append(problems, p)
		}
	}
	add(strings.TrimSpace(b.ClientID) == "", "missing clientid")
	switch {
	case b.UsesX509():
		add(b.Certificate == "", "credential-type is x509 but the certificate is missing")
		add(b.Key == "", "credential-type is x509 but the private key is missing")
		add(b.Certificate != "" && b.Key != "", checkKeyPair(b.Certificate, b.Key))
		add(true, checkURL("certurl", b.CertURL, "x509 binding without certurl: the mTLS token endpoint is unknown"))
	case b.ClientSecret != "":
		add(true, checkURL("token_service_url", b.TokenServiceURL, "missing token_service_url: the token endpoint is unknown"))
	case b.CredentialType != "":
		add(true, fmt.Sprintf("credential-type is %q but clientsecret is missing", clip(b.CredentialType, 80)))
	case b.Certificate != "" || b.Key != "":
		add(true, "neither clientsecret nor both certificate and key: an X.509 binding needs the certificate and the key")
	default:
		add(true, "neither clientsecret nor certificate and key: the binding has no credentials to get a token")
	}
	add(true, checkURL("connectivity_service.url", b.ServiceURL, "missing connectivity_service.url"))
	add(strings.TrimSpace(b.SCCInfoPath) == "", "no api_access: this binding has no connectivity_service.scc_info_path; "+
		"create the instance with plan api_access")
	return problems
}

// String describes the binding without secrets, for example
// `connectivity binding "my-conn-api" (VCAP_SERVICES, plan api_access, client sb-…, secret)`.
func (b *Binding) String() string {
	if b == nil {
		return "connectivity binding <nil>"
	}
	parts := slices.DeleteFunc([]string{b.Source, "plan " + b.Plan, "client " + b.ClientID, b.Auth()},
		func(p string) bool { return p == "" || p == "plan " || p == "client " })
	return fmt.Sprintf("connectivity binding %q (%s)", b.Name, strings.Join(parts, ", "))
}

// Error says why a binding cannot be used; no problem contains secret material.
type Error struct {
	Name     string   // the binding's name
	Source   string   // where it was read, as in Binding.Source
	Problems []string // every problem found, each a short sentence
}

// Error returns `binding "name" (source): problem1; problem2`.
func (e *Error) Error() string {
	where := fmt.Sprintf("binding %q", e.Name)
	if e.Source != "" {
		where += " (" + e.Source + ")"
	}
	return where + ": " + strings.Join(e.Problems, "; ")
}

// Skipped is a Connectivity binding that cannot serve the Cloud Connector info API (plan lite
// or connectivity_proxy have no api_access). It carries no secrets.
type Skipped struct {
	Name   string // the binding's name
	Source string // where it was found
	Reason string // why it cannot be used and what to do instead
}

// String returns `skipped binding "name" (source): reason`.
func (s Skipped) String() string {
	return fmt.Sprintf("skipped binding %q (%s): %s", s.Name, s.Source, s.Reason)
}

// ErrNotFound means that no Connectivity service binding with plan api_access was found; Result.Err
// wraps it, saying what each source held instead.
var ErrNotFound = errors.New("no Connectivity service binding with plan api_access found: " +
	"pass --binding PATH (a service key file, or a folder with one file per credential key; repeatable), " +
	"or set CONNECTIVITY_BINDING=PATH, " +
	"or run with VCAP_SERVICES (Cloud Foundry) or SERVICE_BINDING_ROOT (Kyma, Kubernetes) " +
	"holding a binding of a Connectivity instance with plan api_access")

// checkURL returns missing, or why raw is not an absolute https URL (http for loopback), or "".
func checkURL(field, raw, missing string) string {
	if raw == "" {
		return missing
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Scheme == "" {
		return field + " is not an absolute URL (expected https://host…)"
	}
	host, ip := u.Hostname(), net.ParseIP(u.Hostname())
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https", scheme == "http" && (strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()):
		return ""
	case scheme == "http":
		return fmt.Sprintf("%s %q uses plain http: only https is allowed "+
			"(http only for localhost, 127.0.0.0/8 and ::1)", field, clip(u.Redacted(), 80))
	}
	return fmt.Sprintf("%s %q is not an https URL", field, clip(u.Redacted(), 80))
}

// checkKeyPair says why certificate and key are no TLS pair or the certificate expired, or "".
func checkKeyPair(certPEM string, key Secret) string {
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(key.Reveal()))
	if err != nil {
		return "certificate and key do not form a TLS key pair: " + err.Error()
	}
	if leaf := pair.Leaf; leaf != nil && leaf.NotAfter.Before(time.Now()) {
		return fmt.Sprintf("certificate expired at %s: recreate the binding or service key "+
			"(XSUAA certificates live 1 to 30 days)", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return ""
}

// clip shortens a value from a binding document for a message.
func clip(s string, max int) string {
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// DefaultCheckInterval is how often, at most, a Rotation looks at its binding's file or folder.
const DefaultCheckInterval = 5 * time.Second

// Rotation lets a long-running client pick up a new secret or certificate written to its binding's
// file or Kyma folder. It reads the source again during calls, never in the background: on Check
// when its files changed (size or modification time, looked at once per interval at most), and
// on Refused. A source that cannot be read or holds an invalid binding is logged and ignored.
type Rotation struct {
	current  func() *Binding
	apply    func(*Binding) error
	interval time.Duration // < 0: no periodic look
	logger   *slog.Logger

	mu      sync.Mutex
	checked time.Time // last periodic look
	stamp   string    // fingerprint of the source at the last reload
}

// NewRotation watches the source of the binding current returns and hands a changed one to apply,
// looking at most once per interval (negative: only on Refused). A nil logger discards.
func NewRotation(current func() *Binding, apply func(*Binding) error, interval time.Duration, logger *slog.Logger) *Rotation {
	return &Rotation{current: current, apply: apply, interval: interval, logger: cmp.Or(logger, slog.New(slog.DiscardHandler)),
		checked: time.Now(), stamp: stamp(current().path)}
}

// Check reloads the binding when its source changed since the last look, if the interval has passed.
func (r *Rotation) Check() {
	cur := r.current()
	if r.interval < 0 || cur.path == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		if s := stamp(cur.path); s != r.stamp {
			r.reloadLocked(cur, s, "its source changed")
		}
	}
}

// Refused is called when XSUAA refused the credentials of binding used. It reports whether to
// repeat the token request once: the binding was replaced meanwhile, or its source changed it.
func (r *Rotation) Refused(used *Binding) bool {
	if cur := r.current(); cur != used || cur.path == "" {
		return cur != used
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current() != used || r.reloadLocked(used, stamp(used.path), "XSUAA refused its credentials")
}

// reloadLocked switches to the binding in cur's source (stamped stamp) if it differs; r.mu is held.
func (r *Rotation) reloadLocked(cur *Binding, stamp, why string) bool {
	nb, err := cur.Reload()
	if err == nil {
		r.stamp = stamp // only on success: a file caught half written is read again at the next look
		if *nb == *cur {
			r.logger.Debug("binding source read again: unchanged", "binding", cur.String(), "reason", why)
			return false
		}
		err = r.apply(nb)
	}
	if err != nil {
		r.logger.Warn("binding not reloaded: keeping the one in use", "binding", cur.String(), "reason", why, "error", err)
		return false
	}
	r.logger.Info("binding reloaded", "binding", nb.String(), "reason", why, "credentials_changed",
		cur.ClientID != nb.ClientID || cur.ClientSecret != nb.ClientSecret || cur.Certificate != nb.Certificate ||
			cur.Key != nb.Key || cur.CredentialType != nb.CredentialType)
	return true
}

// stamp fingerprints a file, or a folder's files, by name, size and modification time.
func stamp(path string) string {
	file := func(path string) string {
		if info, err := os.Stat(path); err == nil {
			return fmt.Sprintf("%d@%d", info.Size(), info.ModTime().UnixNano())
		}
		return "?"
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return file(path) // a file, or a folder that cannot be read
	}
	var parts []string
	for _, e := range entries { // sorted by name
		if name := e.Name(); !strings.HasPrefix(name, ".") || name == ".metadata" {
			parts = append(parts, name+"="+file(filepath.Join(path, name)))
		}
	}
	return strings.Join(parts, ";")
}
