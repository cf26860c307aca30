package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// commonKeys are in every binding the simulator hands out.
var commonKeys = []string{
	"clientid", "credential-type", "token_service_url", "token_service_domain", "url", "xsappname",
	"identityzone", "tenantid", "tenantmode", "subaccount_id", "subaccount_subdomain", "connectivity_service",
}

func TestCredentialsShape(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	for _, tc := range []struct {
		kind        simulator.CredentialType
		want, never []string
		credType    string
	}{
		{simulator.SecretCredentials, []string{"clientsecret"}, []string{"certurl", "certificate", "key"}, "binding-secret"},
		{simulator.X509Credentials, []string{"certurl", "certificate", "key"}, []string{"clientsecret"}, "x509"},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			creds := s.Credentials(tc.kind)
			for _, k := range append(slices.Clone(commonKeys), tc.want...) {
				if _, ok := creds[k]; !ok {
					t.Errorf("missing %s", k)
				}
			}
			for _, k := range tc.never {
				if _, ok := creds[k]; ok {
					t.Errorf("unexpected %s", k)
				}
			}
			if creds["credential-type"] != tc.credType || creds["token_service_url"] != s.URL() {
				t.Errorf("credential-type %v, token_service_url %v", creds["credential-type"], creds["token_service_url"])
			}
			if strings.HasSuffix(creds["token_service_url"].(string), "/oauth/token") {
				t.Error("token_service_url includes the token path")
			}
			cs, ok := creds["connectivity_service"].(map[string]any)
			if !ok || cs["url"] != s.URL() || cs["scc_info_path"] != simulator.DefaultInfoPath {
				t.Errorf("connectivity_service %v", creds["connectivity_service"])
			}
			var key map[string]any
			if err := json.Unmarshal(s.ServiceKeyJSON(tc.kind), &key); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(key, creds) {
				t.Errorf("ServiceKeyJSON differs from Credentials:\n%v\n%v", key, creds)
			}
		})
	}
}

func TestVCAPServices(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	var vcap map[string][]struct {
		Label        string         `json:"label"`
		Plan         string         `json:"plan"`
		Name         string         `json:"name"`
		InstanceGUID string         `json:"instance_guid"`
		InstanceName string         `json:"instance_name"`
		BindingGUID  string         `json:"binding_guid"`
		Tags         []string       `json:"tags"`
		Credentials  map[string]any `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(s.VCAPServices(simulator.SecretCredentials)), &vcap); err != nil {
		t.Fatal(err)
	}
	entries := vcap["connectivity"]
	if len(vcap) != 1 || len(entries) != 2 {
		t.Fatalf("VCAP_SERVICES has labels %d, connectivity entries %d; want 1 and 2", len(vcap), len(entries))
	}
	plans := map[string]int{}
	for i, e := range entries {
		plans[e.Plan] = i
		if e.Label != "connectivity" || e.Name == "" || e.InstanceGUID == "" || e.InstanceName != e.Name || e.BindingGUID == "" || !slices.Contains(e.Tags, "connectivity") {
			t.Errorf("entry %d metadata: %+v", i, e)
		}
	}
	api, lite := entries[plans["api_access"]], entries[plans["lite"]]
	if api.Plan != "api_access" || lite.Plan != "lite" {
		t.Fatalf("plans %v", plans)
	}
	if !reflect.DeepEqual(api.Credentials, s.Credentials(simulator.SecretCredentials)) {
		t.Error("api_access credentials differ from Credentials")
	}
	if _, ok := lite.Credentials["connectivity_service"]; ok {
		t.Error("lite entry has connectivity_service")
	}
	if lite.Credentials["onpremise_proxy_host"] == nil || lite.Credentials["onpremise_proxy_http_port"] != "20003" {
		t.Errorf("lite entry lacks proxy keys: %v", lite.Credentials)
	}
}

func TestWriteKymaBinding(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	for _, kind := range []simulator.CredentialType{simulator.SecretCredentials, simulator.X509Credentials} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "conn-api")
			if err := s.WriteKymaBinding(dir, kind); err != nil {
				t.Fatal(err)
			}
			read := func(name string) string {
				t.Helper()
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(data)
			}
			creds := s.Credentials(kind)
			for k, v := range creds {
				if str, ok := v.(string); ok && read(k) != str {
					t.Errorf("file %s = %q, want %q", k, read(k), str)
				}
			}
			var cs map[string]string
			if err := json.Unmarshal([]byte(read("connectivity_service")), &cs); err != nil || cs["scc_info_path"] != simulator.DefaultInfoPath {
				t.Errorf("connectivity_service file: %v %v", err, cs)
			}
			var tags []string
			if err := json.Unmarshal([]byte(read("tags")), &tags); err != nil || !slices.Contains(tags, "connectivity") {
				t.Errorf("tags file: %v %v", err, tags)
			}
			for name, want := range map[string]string{"label": "connectivity", "plan": "api_access", "type": "connectivity", "instance_name": "conn-api"} {
				if got := read(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			var meta struct {
				MetaDataProperties, CredentialProperties []struct{ Name, Format string }
			}
			if err := json.Unmarshal([]byte(read(".metadata")), &meta); err != nil {
				t.Fatal(err)
			}
			if len(meta.CredentialProperties) != len(creds) {
				t.Errorf(".metadata lists %d credential properties, want %d", len(meta.CredentialProperties), len(creds))
			}
			for _, p := range meta.CredentialProperties {
				want := "text"
				if p.Name == "connectivity_service" {
					want = "json"
				}
				if _, ok := creds[p.Name]; !ok || p.Format != want {
					t.Errorf(".metadata credential property %+v", p)
				}
			}
			if len(meta.MetaDataProperties) < 5 {
				t.Errorf(".metadata metaDataProperties %+v", meta.MetaDataProperties)
			}
		})
	}

	t.Run("rewriting as another type removes the other type's files", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := s.WriteKymaBinding(dir, simulator.SecretCredentials); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteKymaBinding(dir, simulator.X509Credentials); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "clientsecret")); !os.IsNotExist(err) {
			t.Errorf("clientsecret left behind: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "certificate")); err != nil {
			t.Error(err)
		}
	})
}

func TestWriteKymaBindingProjected(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	dir := t.TempDir()
	if err := s.WriteKymaBindingProjected(dir, simulator.SecretCredentials); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "clientsecret")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("clientsecret is not a symlink: %v", err)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "clientsecret"))
	if err != nil || string(secret) != s.Credentials(simulator.SecretCredentials)["clientsecret"] {
		t.Fatalf("clientsecret through the symlink: %v", err)
	}
	// A rotation to X.509 swaps ..data and drops the secret.
	if err := s.WriteKymaBindingProjected(dir, simulator.X509Credentials); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "clientsecret")); !os.IsNotExist(err) {
		t.Errorf("clientsecret still present after switching to x509: %v", err)
	}
	if ct, err := os.ReadFile(filepath.Join(dir, "credential-type")); err != nil || string(ct) != "x509" {
		t.Errorf("credential-type %q %v", ct, err)
	}
	entries, _ := os.ReadDir(dir)
	hidden := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			hidden++
		}
	}
	if hidden != 2 { // ..data and one timestamped directory
		t.Errorf("%d hidden entries, want 2", hidden)
	}
}

// TestBindingWorksEndToEnd follows the binding from files to a landscape, as a client would.
func TestBindingWorksEndToEnd(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	dir := t.TempDir()
	if err := s.WriteKymaBinding(dir, simulator.SecretCredentials); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		return string(data)
	}
	c := client(s)
	resp, err := c.PostForm(read("token_service_url")+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {read("clientid")}, "client_secret": {read("clientsecret")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	var cs struct{ URL, SCCInfoPath string }
	_ = json.Unmarshal([]byte(strings.ReplaceAll(read("connectivity_service"), "scc_info_path", "sccinfopath")), &cs)
	req, _ := http.NewRequest(http.MethodGet, cs.URL+cs.SCCInfoPath, nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var agents []simulator.Agent
	if err := json.Unmarshal(body, &agents); err != nil || len(agents) != len(simulator.SampleLandscape()) {
		t.Errorf("landscape: %v, %d agents", err, len(agents))
	}
}
