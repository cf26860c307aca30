// Package binding finds and reads the Connectivity service bindings (plan api_access) the server
// uses: service key files, VCAP_SERVICES on Cloud Foundry, and Kyma binding folders. Load is the
// entry point: it reads the first source present once and says, for every binding found, whether
// it is usable, skipped (another plan) or broken (and why). A Rotation re-reads a binding's file
// or folder when it changes or when XSUAA refuses its credentials.
package binding

import (
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
	"strconv"
	"strings"
	"time"
)

// Secret is a credential (a client secret or a private key) that must never reach a log, an
// error or a tool result. Every way of printing it — fmt verbs, JSON, slog — shows "[redacted]"
// ("" when empty); only Reveal returns the value, for the one place that sends it to XSUAA.
type Secret string

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format redacts the secret for every fmt verb, including %x and %q.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalJSON encodes the secret as "[redacted]" (or "" when empty).
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Binding is one Connectivity service binding (plan api_access): the credentials to get an XSUAA
// token and the address of the Cloud Connector info endpoint, for one subaccount. Printing or
// logging a Binding never shows its client secret or private key.
type Binding struct {
	// Name identifies the binding (the subaccount) to people and is unique among the bindings
	// Load returns: NAME of --binding NAME=PATH, the VCAP_SERVICES entry's name, the Kyma folder's
	// name, or the base name of the service key file.
	Name string
	// Source says where the binding was read, e.g. "file /path/key.json", "VCAP_SERVICES" or
	// "SERVICE_BINDING_ROOT /bindings/conn".
	Source string
	// Plan is the service plan when the source tells it ("api_access"), else "".
	Plan string

	// ClientID is the OAuth client ID (credentials.clientid).
	ClientID string
	// ClientSecret is the OAuth client secret; empty for X.509 bindings.
	ClientSecret Secret
	// CredentialType is credentials.credential-type: "binding-secret", "x509" or "" (unknown).
	CredentialType string
	// TokenServiceURL is the XSUAA base URL for client-secret bindings (credentials.token_service_url).
	TokenServiceURL string
	// CertURL is the XSUAA base URL for X.509 bindings (credentials.certurl).
	CertURL string
	// Certificate is the PEM client certificate chain of an X.509 binding.
	Certificate string
	// Key is the PEM private key of an X.509 binding.
	Key Secret

	// ServiceURL is credentials.connectivity_service.url, the Connectivity API's base URL.
	ServiceURL string
	// SCCInfoPath is credentials.connectivity_service.scc_info_path, the Cloud Connector info path.
	SCCInfoPath string

	// SubaccountID is credentials.subaccount_id.
	SubaccountID string
	// SubaccountSubdomain is credentials.subaccount_subdomain.
	SubaccountSubdomain string
	// IdentityZone is credentials.identityzone.
	IdentityZone string

	// origin tells Reload where to read the binding again; zero when it cannot be re-read.
	origin origin
}

// UsesX509 reports whether the binding authenticates with its X.509 certificate (mTLS) rather
// than a client secret: credential-type says "x509", or, when credential-type is absent, the
// binding has a certificate and key but no secret.
func (b *Binding) UsesX509() bool {
	if ct := strings.ToLower(strings.TrimSpace(b.CredentialType)); ct != "" {
		return strings.HasPrefix(ct, "x509")
	}
	return b.ClientSecret == "" && b.Certificate != "" && b.Key != ""
}

// Auth names how the binding authenticates: "x509", "secret" or "no credentials".
func (b *Binding) Auth() string {
	switch {
	case b.UsesX509():
		return "x509"
	case b.ClientSecret != "":
		return "secret"
	}
	return "no credentials"
}

// NotAfter returns when the certificate of an X.509 binding expires, or the zero time for a
// client-secret binding or a certificate that cannot be read.
func (b *Binding) NotAfter() time.Time {
	block, _ := pem.Decode([]byte(b.Certificate))
	if !b.UsesX509() || block == nil {
		return time.Time{}
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}
	}
	return cert.NotAfter
}

// Region returns the SAP BTP region of the Connectivity API host, "eu10" for
// connectivity.cf.eu10.hana.ondemand.com, or "" when the host does not tell.
func (b *Binding) Region() string {
	u, err := url.Parse(strings.TrimSpace(b.ServiceURL))
	if err != nil {
		return ""
	}
	labels := strings.Split(strings.ToLower(u.Hostname()), ".")
	for i := 0; i+2 < len(labels); i++ {
		if labels[i] == "cf" {
			return labels[i+1]
		}
	}
	return ""
}

// Label names the subaccount as precisely as the binding allows: its subdomain, else its ID,
// else its identity zone, else the binding's name.
func (b *Binding) Label() string {
	for _, s := range []string{b.SubaccountSubdomain, b.SubaccountID, b.IdentityZone} {
		if s != "" {
			return s
		}
	}
	return b.Name
}

// TokenURL returns the XSUAA token endpoint: <certurl>/oauth/token for X.509 bindings,
// <token_service_url>/oauth/token otherwise. "/oauth/token" is not appended to a URL that
// already ends with it. It returns "" when the binding lacks the base URL (Validate reports it).
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

// InfoURL returns the Cloud Connector info endpoint: ServiceURL followed by SCCInfoPath, joined
// by exactly one slash. It returns "" when either part is missing.
func (b *Binding) InfoURL() string {
	base := strings.TrimRight(strings.TrimSpace(b.ServiceURL), "/")
	path := strings.TrimSpace(b.SCCInfoPath)
	if base == "" || path == "" {
		return ""
	}
	return base + "/" + strings.TrimLeft(path, "/")
}

// Validate checks that the binding can be used to call the Cloud Connector info API. It returns
// nil or an *Error that lists every problem found. Messages never contain the client secret or
// the private key.
func (b *Binding) Validate() error {
	if problems := b.problems(nil); len(problems) > 0 {
		return &Error{Name: b.Name, Source: b.Source, Problems: problems}
	}
	return nil
}

// problems appends every problem of the binding to problems.
func (b *Binding) problems(problems []string) []string {
	add := func(p string) {
		if p != "" {
			problems = append(problems, p)
		}
	}
	if strings.TrimSpace(b.ClientID) == "" {
		add("missing clientid")
	}
	switch {
	case b.UsesX509():
		if b.Certificate == "" {
			add("credential-type is x509 but the certificate is missing")
		}
		if b.Key == "" {
			add("credential-type is x509 but the private key is missing")
		}
		if b.Certificate != "" && b.Key != "" {
			add(checkKeyPair(b.Certificate, b.Key))
		}
		add(checkURL("certurl", b.CertURL, "x509 binding without certurl: the mTLS token endpoint is unknown"))
	case b.ClientSecret != "":
		add(checkURL("token_service_url", b.TokenServiceURL, "missing token_service_url: the token endpoint is unknown"))
	case b.CredentialType != "":
		add(fmt.Sprintf("credential-type is %s but clientsecret is missing", clip(b.CredentialType, 80, true)))
	case b.Certificate != "" || b.Key != "":
		add("neither clientsecret nor both certificate and key: an X.509 binding needs the certificate and the key")
	default:
		add("neither clientsecret nor certificate and key: the binding has no credentials to get a token")
	}
	add(checkURL("connectivity_service.url", b.ServiceURL, "missing connectivity_service.url"))
	if strings.TrimSpace(b.SCCInfoPath) == "" {
		add("no api_access: this binding has no connectivity_service.scc_info_path; create the instance with plan api_access")
	}
	return problems
}

// String describes the binding for logs and messages, for example
// `connectivity binding "my-conn-api" (VCAP_SERVICES, plan api_access, client sb-…, secret)`.
// It never shows the secret, the key or a token.
func (b *Binding) String() string {
	if b == nil {
		return "connectivity binding <nil>"
	}
	var parts []string
	for _, p := range [][2]string{{"", b.Source}, {"plan ", b.Plan}, {"client ", b.ClientID}} {
		if p[1] != "" {
			parts = append(parts, p[0]+p[1])
		}
	}
	parts = append(parts, b.Auth())
	return fmt.Sprintf("connectivity binding %q (%s)", b.Name, strings.Join(parts, ", "))
}

// LogValue describes the binding for slog without secrets.
func (b *Binding) LogValue() slog.Value {
	if b == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("name", b.Name), slog.String("source", b.Source), slog.String("plan", b.Plan),
		slog.String("client_id", b.ClientID), slog.String("auth", b.Auth()), slog.String("info_url", b.InfoURL()))
}

// Error says why a binding cannot be used. Problems lists every problem found; none of them
// contains secret material.
type Error struct {
	// Name is the binding's name.
	Name string
	// Source says where the binding was read, as in Binding.Source.
	Source string
	// Problems are the problems found, each a short sentence.
	Problems []string
}

// Error returns `binding "name" (source): problem1; problem2`.
func (e *Error) Error() string {
	where := fmt.Sprintf("binding %q", e.Name)
	if e.Source != "" {
		where += " (" + e.Source + ")"
	}
	return where + ": " + strings.Join(e.Problems, "; ")
}

// Skipped is a Connectivity binding that was found but cannot serve the Cloud Connector info API
// (typically plan lite or connectivity_proxy, which have no api_access). Its fields carry no secrets.
type Skipped struct {
	// Name is the binding's name.
	Name string
	// Source says where the binding was found.
	Source string
	// Reason says why the binding cannot be used and what to do instead.
	Reason string
}

// String returns `skipped binding "name" (source): reason`.
func (s Skipped) String() string {
	return fmt.Sprintf("skipped binding %q (%s): %s", s.Name, s.Source, s.Reason)
}

// ErrNotFound means that no Connectivity service binding with plan api_access was found.
// Result.Err wraps it when a source holds nothing usable; the wrapping message says what was
// found instead.
var ErrNotFound = errors.New("no Connectivity service binding with plan api_access found: " +
	"pass --binding PATH (a service key file, or a folder with one file per credential key; repeatable), " +
	"or set CONNECTIVITY_BINDING=PATH, " +
	"or run with VCAP_SERVICES (Cloud Foundry) or SERVICE_BINDING_ROOT (Kyma, Kubernetes) " +
	"holding a binding of a Connectivity instance with plan api_access")

// checkURL returns a problem when raw is missing (then the problem is missing) or not an
// absolute https URL (plain http is accepted for loopback hosts only, for local tests), or "".
func checkURL(field, raw, missing string) string {
	if raw == "" {
		return missing
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Scheme == "" {
		return field + " is not an absolute URL (expected https://host…)"
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback()) {
			return ""
		}
		return fmt.Sprintf("%s %s uses plain http: only https is allowed "+
			"(http only for localhost, 127.0.0.0/8 and ::1)", field, clip(u.Redacted(), 80, true))
	}
	return fmt.Sprintf("%s %s is not an https URL", field, clip(u.Redacted(), 80, true))
}

// checkKeyPair returns a problem when the PEM certificate and key do not form a TLS key pair or
// the certificate has expired, or "" when they are fine. The crypto/tls messages name PEM block
// types at most, never key material.
func checkKeyPair(certPEM string, key Secret) string {
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(key.Reveal()))
	if err != nil {
		return "certificate and key do not form a TLS key pair: " + err.Error()
	}
	if leaf := pair.Leaf; leaf != nil && leaf.NotAfter.Before(time.Now()) { // Leaf: set since Go 1.23
		return fmt.Sprintf("certificate expired at %s: recreate the binding or service key "+
			"(XSUAA certificates live 1 to 30 days)", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return ""
}

// clip shortens a value from a binding document for a message, quoted if quote.
func clip(s string, max int, quote bool) string {
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	if quote {
		return strconv.Quote(s)
	}
	return s
}
