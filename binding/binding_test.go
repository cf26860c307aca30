package binding_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// bindingTestSecret is the client secret of every fixture under testdata/bindings.
const bindingTestSecret = "s3cr3t-DO-NOT-LEAK-4f9c"

// bindingFixture returns the path of a fixture under testdata/bindings.
func bindingFixture(name string) string { return filepath.Join("testdata", "bindings", name) }

// bindingReadFixture returns a fixture's contents.
func bindingReadFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(bindingFixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// bindingTestCert returns a self-signed PEM certificate and PKCS#8 key, valid until notAfter.
func bindingTestCert(t *testing.T, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test client"},
		NotBefore:    notAfter.Add(-48 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
}

// bindingX509Key returns a service key (credentials object) for X.509, as JSON.
func bindingX509Key(t *testing.T, certPEM, keyPEM string, edit func(map[string]any)) []byte {
	t.Helper()
	creds := map[string]any{
		"clientid":        "sb-clone-x509!b123|connectivity!b17",
		"credential-type": "x509",
		"certificate":     certPEM,
		"key":             keyPEM,
		"certurl":         "https://acme.authentication.cert.eu10.hana.ondemand.com",
		"url":             "https://acme.authentication.eu10.hana.ondemand.com",
		"connectivity_service": map[string]any{
			"url": "https://connectivity.cf.eu10.hana.ondemand.com", "scc_info_path": "/api/v1/sccinfo",
		},
	}
	if edit != nil {
		edit(creds)
	}
	data, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// bindingSecretKey returns a client-secret service key (credentials object) as JSON.
func bindingSecretKey(t *testing.T, edit func(map[string]any)) []byte {
	t.Helper()
	creds := map[string]any{
		"clientid":          "sb-clone-test!b123|connectivity!b17",
		"clientsecret":      bindingTestSecret,
		"token_service_url": "https://acme.authentication.eu10.hana.ondemand.com",
		"connectivity_service": map[string]any{
			"url": "https://connectivity.cf.eu10.hana.ondemand.com", "scc_info_path": "/api/v1/sccinfo",
		},
	}
	if edit != nil {
		edit(creds)
	}
	data, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// bindingNames lists the bindings' names.
func bindingNames(bs []*binding.Binding) []string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Name
	}
	return names
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	vcap := bindingReadFixture(t, "vcap-services.json")
	defaultEnv, _ := json.Marshal(map[string]any{"VCAP_SERVICES": json.RawMessage(vcap), "destinations": []any{}})
	cfEnv, _ := json.Marshal(map[string]any{"VCAP_SERVICES": vcap})
	tests := []struct {
		name, data, source string
		wantNames          []string
		wantSkipped        int
		first              binding.Binding // fields compared on the first binding
		firstTokenURL      string
		firstInfoURL       string
	}{
		{
			name: "bare credentials", data: bindingReadFixture(t, "service-key.json"), source: "file /keys/acme-conn.json",
			wantNames: []string{"acme-conn"},
			first: binding.Binding{
				Name: "acme-conn", Source: "file /keys/acme-conn.json", ClientID: "sb-clone-test!b123|connectivity!b17",
				CredentialType: "binding-secret", SubaccountID: "00000000-0000-0000-0000-000000000002",
				SubaccountSubdomain: "acme", IdentityZone: "acme",
			},
			firstTokenURL: "https://acme.authentication.eu10.hana.ondemand.com/oauth/token",
			firstInfoURL:  "https://connectivity.cf.eu10.hana.ondemand.com/api/v1/sccinfo",
		},
		{
			name: "wrapped credentials", data: bindingReadFixture(t, "service-key-wrapped.json"), source: "test",
			wantNames: []string{"conn-api-key"},
			first: binding.Binding{
				Name: "conn-api-key", Source: "test", Plan: "api_access", ClientID: "sb-clone-wrapped!b123|connectivity!b17",
				SubaccountID: "00000000-0000-0000-0000-000000000002",
			},
			firstTokenURL: "https://acme.authentication.eu10.hana.ondemand.com/oauth/token",
			firstInfoURL:  "https://connectivity.cf.eu10.hana.ondemand.com/api/v1/sccinfo",
		},
		{
			name: "VCAP_SERVICES document", data: vcap, source: "file vcap.json",
			wantNames: []string{"my-conn-api", "other-subaccount-conn"}, wantSkipped: 1,
			first: binding.Binding{
				Name: "my-conn-api", Source: "file vcap.json", Plan: "api_access", ClientID: "sb-clone-vcap!b123|connectivity!b17",
				CredentialType: "binding-secret", SubaccountID: "00000000-0000-0000-0000-000000000002",
				SubaccountSubdomain: "acme", IdentityZone: "acme",
			},
			firstTokenURL: "https://acme.authentication.eu10.hana.ondemand.com/oauth/token",
			firstInfoURL:  "https://connectivity.cf.eu10.hana.ondemand.com/api/v1/sccinfo",
		},
		{
			name: "default-env.json", data: string(defaultEnv), source: "default-env.json",
			wantNames: []string{"my-conn-api", "other-subaccount-conn"}, wantSkipped: 1,
		},
		{
			name: "VCAP_SERVICES as JSON text", data: string(cfEnv), source: "env.json",
			wantNames: []string{"my-conn-api", "other-subaccount-conn"}, wantSkipped: 1,
		},
		{
			name: "byte order mark", data: "\ufeff" + bindingReadFixture(t, "service-key.json"), source: "key.json",
			wantNames: []string{"key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs, skipped, err := parse([]byte(tt.data), tt.source)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := bindingNames(bs); fmt.Sprint(got) != fmt.Sprint(tt.wantNames) {
				t.Errorf("names = %q, want %q", got, tt.wantNames)
			}
			if len(skipped) != tt.wantSkipped {
				t.Errorf("skipped = %v, want %d", skipped, tt.wantSkipped)
			}
			for _, b := range bs {
				if b.ClientSecret.Reveal() != bindingTestSecret || b.UsesX509() {
					t.Errorf("%s: wrong credentials", b)
				}
			}
			if tt.first.Name == "" {
				return
			}
			got := *bs[0]
			want := tt.first
			if got.Name != want.Name || got.Source != want.Source || got.Plan != want.Plan || got.ClientID != want.ClientID ||
				got.CredentialType != want.CredentialType || got.SubaccountID != want.SubaccountID ||
				got.SubaccountSubdomain != want.SubaccountSubdomain || got.IdentityZone != want.IdentityZone {
				t.Errorf("binding = %+v\nwant      %+v", &got, &want)
			}
			if u := got.TokenURL(); u != tt.firstTokenURL {
				t.Errorf("TokenURL = %q, want %q", u, tt.firstTokenURL)
			}
			if u := got.InfoURL(); u != tt.firstInfoURL {
				t.Errorf("InfoURL = %q, want %q", u, tt.firstInfoURL)
			}
		})
	}
}

func TestLoadSources(t *testing.T) {
	t.Parallel()
	vcap := bindingReadFixture(t, "vcap-services.json")
	kyma, err := filepath.Abs(bindingFixture("kyma"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		opts        binding.Options
		wantSources []string
		wantSkipped []string
	}{
		{
			name:        "--binding service key",
			opts:        binding.Options{Paths: []string{bindingFixture("service-key.json")}},
			wantSources: []string{"file " + bindingFixture("service-key.json")},
		},
		{
			name: "--binding twice: two subaccounts",
			opts: binding.Options{Paths: []string{bindingFixture("service-key.json"), bindingFixture("service-key-wrapped.json")}},
			wantSources: []string{
				"file " + bindingFixture("service-key.json"), "file " + bindingFixture("service-key-wrapped.json"),
			},
		},
		{
			name: "--binding wins over VCAP_SERVICES",
			opts: binding.Options{
				Paths:   []string{bindingFixture("service-key-wrapped.json")},
				Environ: []string{"VCAP_SERVICES=" + vcap, "CONNECTIVITY_BINDING=" + bindingFixture("service-key.json")},
			},
			wantSources: []string{"file " + bindingFixture("service-key-wrapped.json")},
		},
		{
			name:        "CONNECTIVITY_BINDING",
			opts:        binding.Options{Environ: []string{"CONNECTIVITY_BINDING=" + bindingFixture("service-key.json"), "VCAP_SERVICES=" + vcap}},
			wantSources: []string{"file " + bindingFixture("service-key.json")},
		},
		{
			name:        "--binding VCAP_SERVICES document",
			opts:        binding.Options{Paths: []string{bindingFixture("vcap-services.json")}},
			wantSources: []string{"file " + bindingFixture("vcap-services.json"), "file " + bindingFixture("vcap-services.json")},
			wantSkipped: []string{"my-conn-lite"},
		},
		{
			name:        "VCAP_SERVICES without VCAP_APPLICATION",
			opts:        binding.Options{Environ: []string{"HOME=/home/vcap", "VCAP_SERVICES=" + vcap, "SERVICE_BINDING_ROOT=" + kyma}},
			wantSources: []string{"VCAP_SERVICES", "VCAP_SERVICES"},
			wantSkipped: []string{"my-conn-lite"},
		},
		{
			name:        "VCAP_SERVICES with an invalid VCAP_APPLICATION",
			opts:        binding.Options{Environ: []string{"VCAP_APPLICATION=not json", "VCAP_SERVICES=" + vcap}},
			wantSources: []string{"VCAP_SERVICES", "VCAP_SERVICES"},
			wantSkipped: []string{"my-conn-lite"},
		},
		{
			name:        "VCAP_SERVICES_FILE_PATH",
			opts:        binding.Options{Environ: []string{"VCAP_SERVICES_FILE_PATH=" + bindingFixture("vcap-services.json")}},
			wantSources: []string{"VCAP_SERVICES_FILE_PATH " + bindingFixture("vcap-services.json"), "VCAP_SERVICES_FILE_PATH " + bindingFixture("vcap-services.json")},
			wantSkipped: []string{"my-conn-lite"},
		},
		{
			name:        "SERVICE_BINDING_ROOT",
			opts:        binding.Options{Environ: []string{"SERVICE_BINDING_ROOT=" + kyma}},
			wantSources: []string{"SERVICE_BINDING_ROOT " + filepath.Join(kyma, "conn-api")},
			wantSkipped: []string{"conn-lite"},
		},
		{
			name:        "--binding Kyma binding folder",
			opts:        binding.Options{Paths: []string{filepath.Join(kyma, "conn-api")}},
			wantSources: []string{"folder " + filepath.Join(kyma, "conn-api")},
		},
		{
			name: "--binding folder of service key files",
			opts: binding.Options{Paths: []string{bindingFixture("")}},
			wantSources: []string{
				"file " + bindingFixture("service-key-wrapped.json"), "file " + bindingFixture("service-key.json"),
				"file " + bindingFixture("vcap-services.json"), "file " + bindingFixture("vcap-services.json"),
			},
			wantSkipped: []string{"lite-key", "my-conn-lite"},
		},
		{
			name:        "--binding folder of binding folders",
			opts:        binding.Options{Paths: []string{kyma}},
			wantSources: []string{"folder " + filepath.Join(kyma, "conn-api")},
			wantSkipped: []string{"conn-lite"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs, skipped, err := load(tt.opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var sources []string
			for _, b := range bs {
				sources = append(sources, b.Source)
				if err := b.Validate(); err != nil {
					t.Errorf("returned binding is invalid: %v", err)
				}
				if b.ClientSecret.Reveal() != bindingTestSecret {
					t.Errorf("%s: client secret not read", b)
				}
			}
			if fmt.Sprint(sources) != fmt.Sprint(tt.wantSources) {
				t.Errorf("sources = %q, want %q", sources, tt.wantSources)
			}
			var skippedNames []string
			for _, s := range skipped {
				skippedNames = append(skippedNames, s.Name)
				if !strings.Contains(s.Reason, "plan lite has no api_access (no connectivity_service.scc_info_path)") {
					t.Errorf("skip reason = %q", s.Reason)
				}
			}
			if fmt.Sprint(skippedNames) != fmt.Sprint(tt.wantSkipped) {
				t.Errorf("skipped = %q, want %q", skippedNames, tt.wantSkipped)
			}
		})
	}
}

func TestKymaFolderDetails(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(bindingFixture("kyma"), "conn-api")
	bs, _, err := load(binding.Options{Paths: []string{dir}})
	if err != nil || len(bs) != 1 {
		t.Fatalf("Load: %v, %d bindings", err, len(bs))
	}
	b := bs[0]
	if b.Name != "conn-api" || b.Plan != "api_access" || b.ClientID != "sb-clone-kyma!b123|connectivity!b17" ||
		b.ClientSecret.Reveal() != bindingTestSecret || // the file's trailing newline is gone
		b.InfoURL() != "https://connectivity.cf.eu10.hana.ondemand.com/api/v1/sccinfo" {
		t.Errorf("binding = %#v", b)
	}

	// Without .metadata, connectivity_service is still recognised as JSON text; Kubernetes'
	// ..data entries are ignored.
	tmp := t.TempDir()
	bindingCopyDir(t, dir, tmp)
	if err := os.Remove(filepath.Join(tmp, ".metadata")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tmp, "..data"), 0o755); err != nil {
		t.Fatal(err)
	}
	bs, _, err = load(binding.Options{Paths: []string{tmp}})
	if err != nil || len(bs) != 1 || bs[0].SCCInfoPath != "/api/v1/sccinfo" {
		t.Fatalf("Load without .metadata: %v, %v", err, bs)
	}
}

// bindingCopyDir copies the regular files of src into dst.
func bindingCopyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadFindsNothingUsable(t *testing.T) {
	t.Parallel()
	vcap := bindingReadFixture(t, "vcap-services.json")
	var services map[string]json.RawMessage
	if err := json.Unmarshal([]byte(vcap), &services); err != nil {
		t.Fatal(err)
	}
	delete(services, "user-provided")
	var conn []json.RawMessage
	if err := json.Unmarshal(services["connectivity"], &conn); err != nil {
		t.Fatal(err)
	}
	lite, _ := json.Marshal(map[string]any{"connectivity": conn[1:], "xsuaa": services["xsuaa"]})
	xsuaa, _ := json.Marshal(map[string]any{"xsuaa": services["xsuaa"]})
	xsuaaRoot := t.TempDir()
	for _, sub := range []string{"my-xsuaa", "sub"} {
		if err := os.Mkdir(filepath.Join(xsuaaRoot, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bindingCopyDir(t, filepath.Join(bindingFixture("kyma"), "my-xsuaa"), filepath.Join(xsuaaRoot, "my-xsuaa"))
	tests := []struct {
		name        string
		opts        binding.Options
		wantNoneErr bool     // errors.Is(err, ErrNotFound)
		wantInErr   []string // each must appear in the message
		wantSkipped int
	}{
		{
			name: "no source at all", opts: binding.Options{Environ: []string{"HOME=/root", "CONNECTIVITY_BINDING="}},
			wantNoneErr: true,
			wantInErr:   []string{"--binding", "CONNECTIVITY_BINDING", "VCAP_SERVICES", "SERVICE_BINDING_ROOT", "api_access"},
		},
		{
			name: "VCAP_SERVICES with a lite binding only", opts: binding.Options{Environ: []string{"VCAP_SERVICES=" + string(lite)}},
			wantNoneErr: true, wantSkipped: 1,
			wantInErr: []string{`skipped "my-conn-lite": plan lite has no api_access (no connectivity_service.scc_info_path)`, `"my-xsuaa" (xsuaa)`, "--binding"},
		},
		{
			name: "VCAP_SERVICES of other services", opts: binding.Options{Environ: []string{"VCAP_SERVICES=" + string(xsuaa)}},
			wantNoneErr: true, wantInErr: []string{"VCAP_SERVICES has no usable connectivity binding", `"my-xsuaa" (xsuaa)`},
		},
		{
			name: "empty VCAP_SERVICES does not fall through", opts: binding.Options{Environ: []string{"VCAP_SERVICES={}", "SERVICE_BINDING_ROOT=" + bindingFixture("kyma")}},
			wantNoneErr: true, wantInErr: []string{"VCAP_SERVICES has no usable connectivity binding (it holds no services)"},
		},
		{
			name: "VCAP_SERVICES not JSON", opts: binding.Options{Environ: []string{"VCAP_SERVICES={oops"}},
			wantInErr: []string{"VCAP_SERVICES", "not valid JSON"},
		},
		{
			name: "lite service key", opts: binding.Options{Paths: []string{bindingFixture("lite-key.json")}},
			wantNoneErr: true, wantSkipped: 1,
			wantInErr: []string{"file " + bindingFixture("lite-key.json"), "plan lite has no api_access"},
		},
		{
			name: "two paths, both lite", opts: binding.Options{Paths: []string{bindingFixture("lite-key.json"), "again=" + bindingFixture("lite-key.json")}},
			wantNoneErr: true, wantSkipped: 2,
			wantInErr: []string{"lite-key.json has no usable connectivity binding", `skipped "again": plan lite`},
		},
		{
			name: "missing file", opts: binding.Options{Paths: []string{bindingFixture("nope.json")}},
			wantInErr: []string{`binding "nope" (file ` + bindingFixture("nope.json") + `): cannot read it: no such file or directory`},
		},
		{
			name: "SERVICE_BINDING_ROOT missing", opts: binding.Options{Environ: []string{"SERVICE_BINDING_ROOT=" + bindingFixture("nope")}},
			wantInErr: []string{"SERVICE_BINDING_ROOT " + bindingFixture("nope"), "no such file or directory"},
		},
		{
			name: "SERVICE_BINDING_ROOT without connectivity", opts: binding.Options{Environ: []string{"SERVICE_BINDING_ROOT=" + xsuaaRoot}},
			wantNoneErr: true, wantInErr: []string{"SERVICE_BINDING_ROOT " + xsuaaRoot + ` has no usable connectivity binding (ignored other services: "my-xsuaa" (xsuaa), "sub" (not a binding folder))`},
		},
		{
			name: "folder without bindings", opts: binding.Options{Paths: []string{filepath.Join(xsuaaRoot, "sub")}},
			wantInErr: []string{"the folder holds no binding"},
		},
		{
			name: "empty file", opts: binding.Options{Paths: []string{bindingWriteTemp(t, "empty.json", "")}},
			wantInErr: []string{"the file is empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs, skipped, err := load(tt.opts)
			if err == nil {
				t.Fatalf("Load returned %v and no error", bs)
			}
			if got := errors.Is(err, binding.ErrNotFound); got != tt.wantNoneErr {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v: %v", got, tt.wantNoneErr, err)
			}
			if !tt.wantNoneErr {
				var be *binding.Error
				if !errors.As(err, &be) {
					t.Errorf("error is not a *binding.Error: %v", err)
				}
			}
			for _, want := range tt.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
			if len(skipped) != tt.wantSkipped || len(bs) != 0 {
				t.Errorf("got %d bindings and skipped %v, want none and %d", len(bs), skipped, tt.wantSkipped)
			}
		})
	}
}

// bindingWriteTemp writes a file into a fresh temporary folder and returns its path.
func bindingWriteTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestX509Bindings(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := bindingTestCert(t, time.Now().Add(7*24*time.Hour))
	otherCert, _ := bindingTestCert(t, time.Now().Add(7*24*time.Hour))
	expiredCert, expiredKey := bindingTestCert(t, time.Now().Add(-time.Hour))
	tests := []struct {
		name        string
		data        []byte
		wantProblem string // "" for a valid x509 binding
	}{
		{name: "credential-type x509", data: bindingX509Key(t, certPEM, keyPEM, nil)},
		{name: "inferred from certificate and key", data: bindingX509Key(t, certPEM, keyPEM, func(m map[string]any) { delete(m, "credential-type") })},
		{name: "escaped line breaks", data: bindingX509Key(t, strings.ReplaceAll(certPEM, "\n", `\n`), strings.ReplaceAll(keyPEM, "\n", `\n`), nil)},
		{name: "missing certurl", data: bindingX509Key(t, certPEM, keyPEM, func(m map[string]any) { delete(m, "certurl") }),
			wantProblem: "x509 binding without certurl"},
		{name: "key of another certificate", data: bindingX509Key(t, otherCert, keyPEM, nil),
			wantProblem: "certificate and key do not form a TLS key pair: tls: private key does not match public key"},
		{name: "not PEM", data: bindingX509Key(t, "garbage", keyPEM, nil),
			wantProblem: "certificate and key do not form a TLS key pair"},
		{name: "missing key", data: bindingX509Key(t, certPEM, keyPEM, func(m map[string]any) { delete(m, "key") }),
			wantProblem: "credential-type is x509 but the private key is missing"},
		{name: "expired certificate", data: bindingX509Key(t, expiredCert, expiredKey, nil),
			wantProblem: "certificate expired at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs, _, err := parse(tt.data, "x509 key")
			if tt.wantProblem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantProblem) {
					t.Fatalf("error = %v, want %q", err, tt.wantProblem)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY-----") || strings.Contains(err.Error(), keyPEM[40:80]) {
					t.Fatalf("error shows the key: %v", err)
				}
				return
			}
			if err != nil || len(bs) != 1 {
				t.Fatalf("Parse: %v (%d bindings)", err, len(bs))
			}
			b := bs[0]
			if !b.UsesX509() || b.Key.Reveal() != keyPEM || b.Certificate != certPEM {
				t.Errorf("binding %v not read as X.509", b)
			}
			if got, want := b.TokenURL(), "https://acme.authentication.cert.eu10.hana.ondemand.com/oauth/token"; got != want {
				t.Errorf("TokenURL = %q, want %q", got, want)
			}
			if s := fmt.Sprintf("%v %+v %#v %s", b, b, *b, b); strings.Contains(s, keyPEM[40:80]) || !strings.Contains(b.String(), "x509") {
				t.Errorf("printing shows the key or hides the kind: %s", s)
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	doc := `{"name": "broken", "credentials": {
		"clientid": 42,
		"clientsecret": "` + bindingTestSecret + `",
		"token_service_url": "http://xsuaa.example.com",
		"tags": "ignored: unknown key",
		"connectivity_service": {"url": "connectivity.example.com", "scc_info_path": "/api/v1/sccinfo"}}}`
	_, _, err := parse([]byte(doc), "test")
	var be *binding.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v is not a *binding.Error", err)
	}
	if be.Name != "broken" || be.Source != "test" {
		t.Errorf("Error names %q (%s)", be.Name, be.Source)
	}
	want := []string{
		"clientid: expected a string, got a number",
		"missing clientid",
		`token_service_url "http://xsuaa.example.com" uses plain http`,
		"connectivity_service.url is not an absolute URL",
	}
	bindingCheckProblems(t, be.Problems, want)
	if !strings.HasPrefix(err.Error(), `binding "broken" (test): clientid: expected a string, got a number; missing clientid; `) {
		t.Errorf("Error() = %q", err)
	}

	// An empty binding: every requirement is reported at once.
	err = (&binding.Binding{Name: "empty", Source: "test"}).Validate()
	if !errors.As(err, &be) {
		t.Fatalf("error %v is not a *binding.Error", err)
	}
	want = []string{
		"missing clientid",
		"neither clientsecret nor certificate and key: the binding has no credentials to get a token",
		"missing connectivity_service.url",
		"no api_access: this binding has no connectivity_service.scc_info_path; create the instance with plan api_access",
	}
	bindingCheckProblems(t, be.Problems, want)

	// A secret binding without its token endpoint.
	err = (&binding.Binding{Name: "x", ClientID: "c", ClientSecret: "s", ServiceURL: "https://c", SCCInfoPath: "/p"}).Validate()
	if err == nil || !strings.Contains(err.Error(), "missing token_service_url") {
		t.Errorf("Validate = %v, want missing token_service_url", err)
	}
}

// bindingCheckProblems checks that each problem starts with the wanted text, in order.
func bindingCheckProblems(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("problems:\n%s\nwant (prefixes):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidateURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, wantProblem string
	}{
		{"https://xsuaa.example.com", ""},
		{"HTTPS://xsuaa.example.com:443/", ""},
		{"http://localhost:8080", ""},
		{"http://LOCALHOST", ""},
		{"http://127.0.0.1:4000", ""},
		{"http://127.1.2.3", ""},
		{"http://[::1]:4000", ""},
		{"http://xsuaa.example.com", "uses plain http"},
		{"http://128.0.0.1", "uses plain http"},
		{"http://localhost.example.com", "uses plain http"},
		{"http://user:pw-not-shown@example.com", "uses plain http"},
		{"ftp://xsuaa.example.com", "is not an https URL"},
		{"xsuaa.example.com", "is not an absolute URL"},
		{"https://", "is not an absolute URL"},
		{"https://bad host/", "is not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			b := &binding.Binding{Name: "u", ClientID: "c", ClientSecret: "s", TokenServiceURL: tt.url,
				ServiceURL: "https://connectivity.example.com", SCCInfoPath: "/api/v1/sccinfo"}
			err := b.Validate()
			if tt.wantProblem == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "token_service_url") || !strings.Contains(err.Error(), tt.wantProblem) {
				t.Errorf("Validate = %v, want %q", err, tt.wantProblem)
			}
			if strings.Contains(err.Error(), "pw-not-shown") {
				t.Errorf("Validate shows a URL's password: %v", err)
			}
		})
	}
}

func TestTokenURLAndInfoURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		b         binding.Binding
		wantToken string
		wantInfo  string
	}{
		{"plain", binding.Binding{TokenServiceURL: "https://a.example.com", ServiceURL: "https://c.example.com", SCCInfoPath: "/api/v1/i"},
			"https://a.example.com/oauth/token", "https://c.example.com/api/v1/i"},
		{"slashes", binding.Binding{TokenServiceURL: "https://a.example.com/", ServiceURL: "https://c.example.com/", SCCInfoPath: "api/v1/i"},
			"https://a.example.com/oauth/token", "https://c.example.com/api/v1/i"},
		{"already the endpoint", binding.Binding{TokenServiceURL: "https://a.example.com/oauth/token/", ServiceURL: "https://c.example.com//", SCCInfoPath: "//api/v1/i"},
			"https://a.example.com/oauth/token", "https://c.example.com/api/v1/i"},
		{"x509 uses certurl", binding.Binding{CredentialType: "x509", TokenServiceURL: "https://a.example.com", CertURL: "https://a.cert.example.com"},
			"https://a.cert.example.com/oauth/token", ""},
		{"x509 without certurl", binding.Binding{CredentialType: "X509", TokenServiceURL: "https://a.example.com"}, "", ""},
		{"nothing", binding.Binding{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.b.TokenURL(); got != tt.wantToken {
				t.Errorf("TokenURL = %q, want %q", got, tt.wantToken)
			}
			if got := tt.b.InfoURL(); got != tt.wantInfo {
				t.Errorf("InfoURL = %q, want %q", got, tt.wantInfo)
			}
		})
	}
}

func TestReloadPicksUpARotatedSecret(t *testing.T) {
	t.Parallel()
	t.Run("service key file", func(t *testing.T) {
		t.Parallel()
		path := bindingWriteTemp(t, "key.json", string(bindingSecretKey(t, nil)))
		bs, _, err := load(binding.Options{Paths: []string{path}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, bindingSecretKey(t, func(m map[string]any) { m["clientsecret"] = "rotated" }), 0o600); err != nil {
			t.Fatal(err)
		}
		nb, err := bs[0].Reload()
		if err != nil {
			t.Fatal(err)
		}
		if nb.ClientSecret.Reveal() != "rotated" || nb.Name != bs[0].Name || nb.Source != bs[0].Source {
			t.Errorf("Reload = %v with the old secret", nb)
		}
		// A rewritten file that became invalid is an error naming the binding.
		if err := os.WriteFile(path, bindingSecretKey(t, func(m map[string]any) { delete(m, "clientid") }), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := nb.Reload(); err == nil || !strings.Contains(err.Error(), `binding "key"`) || !strings.Contains(err.Error(), "missing clientid") {
			t.Errorf("Reload of an invalid file = %v", err)
		}
	})
	t.Run("second binding of a VCAP_SERVICES file", func(t *testing.T) {
		t.Parallel()
		vcap := bindingReadFixture(t, "vcap-services.json")
		path := bindingWriteTemp(t, "vcap.json", vcap)
		bs, _, err := load(binding.Options{Paths: []string{path}})
		if err != nil || len(bs) != 2 {
			t.Fatalf("Load: %v, %d", err, len(bs))
		}
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(vcap, bindingTestSecret, "rotated")), 0o600); err != nil {
			t.Fatal(err)
		}
		nb, err := bs[1].Reload()
		if err != nil || nb.Name != "other-subaccount-conn" || nb.ClientSecret.Reveal() != "rotated" {
			t.Errorf("Reload = %v, %v", nb, err)
		}
	})
	t.Run("Kyma folder", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		dir := filepath.Join(root, "conn-api")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bindingCopyDir(t, filepath.Join(bindingFixture("kyma"), "conn-api"), dir)
		bs, _, err := load(binding.Options{Environ: []string{"SERVICE_BINDING_ROOT=" + root}})
		if err != nil || len(bs) != 1 {
			t.Fatalf("Load: %v, %d", err, len(bs))
		}
		if err := os.WriteFile(filepath.Join(dir, "clientsecret"), []byte("rotated\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		nb, err := bs[0].Reload()
		if err != nil || nb.ClientSecret.Reveal() != "rotated" || nb.Source != bs[0].Source {
			t.Errorf("Reload = %v, %v", nb, err)
		}
	})
	t.Run("VCAP_SERVICES", func(t *testing.T) {
		t.Parallel()
		bs, _, err := load(binding.Options{Environ: []string{"VCAP_SERVICES=" + bindingReadFixture(t, "vcap-services.json")}})
		if err != nil {
			t.Fatal(err)
		}
		if nb, err := bs[0].Reload(); err != nil || nb != bs[0] {
			t.Errorf("Reload = %v, %v; want the binding itself", nb, err)
		}
	})
}

func TestWrongJSONTypesAreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"array", `[1,2]`, "expected a JSON object (a service key), got a list"},
		{"string", `"x"`, "expected a JSON object"},
		{"credentials not an object", `{"credentials": "abc"}`, "credentials: expected an object, got a string"},
		{"unknown object", `{"hello": "world"}`, "not a service key"},
		{"not JSON", `{"clientid": `, "not valid JSON"},
		{"cf service-key output, header and all", "Getting key my-key for service instance my-conn as admin@example.com...\n\n{\n  \"clientid\": \"c\"\n}\n",
			`the "Getting key …" line that cf service-key prints before the key: delete the 2 line(s) before the first "{", or write the file again with cf service-key SERVICE_INSTANCE KEY_NAME | sed -n '/^{/,$p' > FILE`},
		{"other text before the key", "my key:\n{\"clientid\": \"c\"}", `the file has 1 line(s) of text before the JSON: delete everything before the first "{"`},
		{"connectivity_service a number", `{"clientid": "c", "connectivity_service": 7}`, "connectivity_service: expected an object, got a number"},
		{"connectivity_service bad text", `{"clientid": "c", "connectivity_service": "{nope"}`, "connectivity_service: expected a JSON object"},
		{"scc_info_path a list", `{"clientid": "c", "clientsecret": "s", "token_service_url": "https://a", "connectivity_service": {"url": "https://c", "scc_info_path": ["/x"]}}`,
			"connectivity_service.scc_info_path: expected a string, got a list"},
		{"secret an object", `{"clientid": "c", "clientsecret": {"v": 1}, "connectivity_service": {"url": "https://c", "scc_info_path": "/x"}}`,
			"clientsecret: expected a string, got an object"},
		{"VCAP entry of the wrong shape", `{"connectivity": [{"name": {"a": 1}, "credentials": []}]}`,
			`the entries under label "connectivity" are not Cloud Foundry service bindings`},
		{"VCAP_SERVICES not an object", `{"VCAP_SERVICES": [1]}`, "VCAP_SERVICES: expected an object keyed by service label, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs, _, err := parse([]byte(tt.doc), "test")
			var be *binding.Error
			if !errors.As(err, &be) || len(bs) != 0 {
				t.Fatalf("Parse = %v, %v; want a *binding.Error", bs, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestMalformedOtherServiceDoesNotHideConnectivity(t *testing.T) {
	t.Parallel()
	doc := `{"connectivity": [{"name": "c", "plan": "api_access", "credentials": ` + string(bindingSecretKey(t, nil)) + `}],
		"weird": [{"tags": {"not": "a list"}, "credentials": 5}]}`
	bs, _, err := parse([]byte(doc), "VCAP_SERVICES")
	if err != nil || len(bs) != 1 || bs[0].Name != "c" {
		t.Fatalf("Parse = %v, %v", bs, err)
	}
}

// TestSecretsNeverShow prints bindings, skipped bindings and errors every way a caller might and
// looks for the secret and the private key.
func TestSecretsNeverShow(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := bindingTestCert(t, time.Now().Add(time.Hour))
	keyMark := strings.Split(keyPEM, "\n")[1][:32] // a piece of the key's base64 body
	secretBindings, _, err := parse([]byte(bindingReadFixture(t, "vcap-services.json")), "VCAP_SERVICES")
	if err != nil {
		t.Fatal(err)
	}
	x509Bindings, _, err := parse(bindingX509Key(t, certPEM, keyPEM, nil), "x509")
	if err != nil {
		t.Fatal(err)
	}
	_, skipped, _ := load(binding.Options{Paths: []string{bindingFixture("lite-key.json")}})

	var outputs []string
	for _, b := range append(secretBindings, x509Bindings...) {
		outputs = append(outputs,
			b.String(),
			fmt.Sprint(b), fmt.Sprint(*b),
			fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", b, b, b, b, b, b),
			fmt.Sprintf("%v|%+v|%#v", *b, *b, *b),
			fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%X|%d|%10s", b.ClientSecret, b.ClientSecret, b.ClientSecret, b.ClientSecret, b.ClientSecret, b.ClientSecret, b.ClientSecret, b.ClientSecret, b.ClientSecret),
			fmt.Sprintf("%v|%#v|%q|%x", b.Key, b.Key, b.Key, b.Key),
			fmt.Sprint(b.Key, b.ClientSecret), b.Key.String(), fmt.Sprintf("%#v", b.ClientSecret),
		)
		for _, v := range []any{b, *b, []*binding.Binding{b}, map[string]any{"b": b}} {
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, string(data))
		}
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
			log := slog.New(h)
			log.Info("binding", "b", b, "v", *b, "secret", b.ClientSecret, "key", b.Key)
			log.Info("binding", slog.Any("b", b), slog.Group("g", "secret", b.ClientSecret))
		}
		outputs = append(outputs, buf.String())

		// Errors about an invalid version of the binding.
		broken := *b
		broken.ServiceURL = "http://remote.example.com"
		broken.TokenServiceURL = "ftp://xsuaa.example.com"
		broken.CertURL = ""
		if err := broken.Validate(); err != nil {
			outputs = append(outputs, err.Error())
		}
	}
	for _, s := range skipped {
		outputs = append(outputs, s.String(), fmt.Sprintf("%+v", s))
	}
	// Errors from documents with the secret in the wrong place.
	for _, doc := range []string{
		`{"clientid": "c", "clientsecret": "` + bindingTestSecret + `", "connectivity_service": {"url": 1, "scc_info_path": "/p"}}`,
		`{"clientid": "c", "clientsecret": ["` + bindingTestSecret + `"], "connectivity_service": {"url": "https://c", "scc_info_path": "/p"}}`,
		`{"connectivity": [{"name": "c", "tags": "` + bindingTestSecret + `", "credentials": {"clientsecret": {"x": "` + bindingTestSecret + `"}}}]}`,
		`{"connectivity": [{"name": {"clientsecret": "` + bindingTestSecret + `"}}]}`,
		`{"clientid": "c", "clientsecret": "` + bindingTestSecret + `"`,
		string(bindingX509Key(t, certPEM, strings.Replace(keyPEM, "\n", "\nAAAA", 2), nil)),
		string(bindingX509Key(t, keyPEM, certPEM, nil)),
	} {
		_, _, err := parse([]byte(doc), "test")
		if err == nil {
			t.Fatalf("no error for %s", doc)
		}
		outputs = append(outputs, err.Error())
	}

	for _, out := range outputs {
		if strings.Contains(out, bindingTestSecret) || strings.Contains(out, keyMark) {
			t.Errorf("output shows a secret: %s", out)
		}
	}
	if !strings.Contains(strings.Join(outputs, "\n"), "[redacted]") {
		t.Error("no output shows [redacted]")
	}
	if got := fmt.Sprintf("%v|%q|%#v", binding.Secret(""), binding.Secret(""), binding.Secret("")); got != `|""|""` {
		t.Errorf("empty secret prints as %s", got)
	}
	if got := secretBindings[0].String(); got != `connectivity binding "my-conn-api" (VCAP_SERVICES, plan api_access, client sb-clone-vcap!b123|connectivity!b17, secret)` {
		t.Errorf("String() = %s", got)
	}
}

func TestParseNames(t *testing.T) {
	t.Parallel()
	key := bindingSecretKey(t, nil)
	for source, want := range map[string]string{
		"file /keys/eu10-prod.json": "eu10-prod",
		"/keys/us10.key.json":       "us10.key",
		"VCAP_SERVICES":             "VCAP_SERVICES",
		"":                          "service-key",
	} {
		bs, _, err := parse(key, source)
		if err != nil || bs[0].Name != want || bs[0].Source != source {
			t.Errorf("Parse(…, %q) = %v, %v; want name %q", source, bs, err, want)
		}
	}
}

// load runs binding.Load and returns its usable and skipped bindings and its error.
func load(opts binding.Options) ([]*binding.Binding, []binding.Skipped, error) {
	r := binding.Load(opts)
	return r.Usable, r.Skipped, r.Err()
}

// parse runs binding.Parse and returns its usable and skipped bindings and its error.
func parse(data []byte, source string) ([]*binding.Binding, []binding.Skipped, error) {
	r := binding.Parse(data, source)
	return r.Usable, r.Skipped, r.Err()
}
