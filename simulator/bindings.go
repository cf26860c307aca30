package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CredentialType selects the kind of binding the simulator hands out.
type CredentialType int

const (
	// SecretCredentials is a binding with clientsecret ("credential-type": "binding-secret").
	// It is the zero value.
	SecretCredentials CredentialType = iota
	// X509Credentials is a binding with an X.509 client certificate and key and no secret
	// ("credential-type": "x509"); it requires Options.TLS.
	X509Credentials
)

// String returns the binding's credential-type value: "binding-secret" or "x509".
func (t CredentialType) String() string {
	switch t {
	case SecretCredentials:
		return "binding-secret"
	case X509Credentials:
		return "x509"
	}
	return "CredentialType(" + strconv.Itoa(int(t)) + ")"
}

// Metadata of the simulated api_access instance, as Cloud Foundry and the SAP BTP service
// operator report it.
const (
	ServiceLabel = "connectivity" // VCAP_SERVICES label and service offering name
	PlanAPI      = "api_access"   // the plan that serves the REST API
	PlanLite     = "lite"         // the proxy plan, which has no scc_info_path
)

var serviceTags = []string{"connectivity", "conn", "connsvc"}

// credentials builds the binding's credentials object, or fails for X.509 without TLS.
func (s *Server) credentials(t CredentialType) (map[string]any, error) {
	c := map[string]any{
		"clientid":             s.opts.ClientID,
		"credential-type":      t.String(),
		"token_service_url":    s.url,
		"token_service_domain": s.host,
		"url":                  s.url,
		"uaadomain":            s.host,
		"xsappname":            s.xsappname(),
		"identityzone":         subdomain,
		"identityzoneid":       tenantID,
		"zoneid":               tenantID,
		"tenantid":             tenantID,
		"tenantmode":           "dedicated",
		"subaccount_id":        subaccountID,
		"subaccount_subdomain": subdomain,
		"connectivity_service": map[string]any{
			"url":           s.url,
			"scc_info_path": s.opts.InfoPath,
		},
	}
	switch t {
	case SecretCredentials:
		s.mu.Lock()
		c["clientsecret"] = s.secret
		s.mu.Unlock()
	case X509Credentials:
		cert, err := s.clientCertificate()
		if err != nil {
			return nil, err
		}
		c["certurl"] = s.url
		c["certificate"] = cert.certPEM
		c["key"] = cert.keyPEM
	default:
		return nil, fmt.Errorf("simulator: unknown %v", t)
	}
	return c, nil
}

func (s *Server) mustCredentials(t CredentialType) map[string]any {
	c, err := s.credentials(t)
	if err != nil {
		panic(err)
	}
	return c
}

// Credentials returns the binding's credentials object pointing at this server, with the keys of
// a real Connectivity (XSUAA) binding: clientid, clientsecret (secret only), credential-type,
// token_service_url (without /oauth/token), token_service_domain, url, certurl, certificate and
// key (X.509 only; key is a PKCS #1 RSA key, certificate the leaf then the CA), xsappname,
// identityzone, tenantid, tenantmode, subaccount_id, subaccount_subdomain, and
// connectivity_service {url, scc_info_path}; plus uaadomain, identityzoneid and zoneid, which
// XSUAA-based bindings commonly carry and loaders must ignore. Each call returns a new map reflecting the current
// secret and certificate (an X.509 certificate is issued on first use).
//
// It panics for X509Credentials on a server without TLS: that is a mistake in the test.
func (s *Server) Credentials(t CredentialType) map[string]any {
	return s.mustCredentials(t)
}

// ServiceKeyJSON returns the bare credentials object as a service key file holds it (indented
// JSON), as from `cf service-key` or `btp get services/binding`. It panics like Credentials.
func (s *Server) ServiceKeyJSON(t CredentialType) []byte {
	data, err := json.MarshalIndent(s.mustCredentials(t), "", "  ")
	if err != nil {
		panic(err)
	}
	return append(data, '\n')
}

// VCAPServices returns a whole VCAP_SERVICES document with two instances under the label
// "connectivity": first a "lite" instance ("conn-proxy", proxy keys such as
// onpremise_proxy_host, no scc_info_path) that loaders must skip, then the "api_access" instance
// ("conn-api") whose credentials are Credentials(t). It panics like Credentials.
func (s *Server) VCAPServices(t CredentialType) string {
	api := map[string]any{
		"label":            ServiceLabel,
		"provider":         nil,
		"plan":             PlanAPI,
		"name":             apiInstanceName,
		"tags":             serviceTags,
		"instance_guid":    apiInstanceGUID,
		"instance_name":    apiInstanceName,
		"binding_guid":     apiBindingGUID,
		"binding_name":     nil,
		"credentials":      s.mustCredentials(t),
		"syslog_drain_url": nil,
		"volume_mounts":    []any{},
	}
	lite := map[string]any{
		"label":         ServiceLabel,
		"provider":      nil,
		"plan":          PlanLite,
		"name":          liteInstanceName,
		"tags":          serviceTags,
		"instance_guid": liteInstanceGUID,
		"instance_name": liteInstanceName,
		"binding_guid":  liteBindingGUID,
		"binding_name":  nil,
		"credentials": map[string]any{
			"clientid":                    "sb-clone-0a9d3e7f-5c21-4b68-8e4d-6f1a2b3c4d5e!b1235|connectivity!b17",
			"clientsecret":                "0b7f2d1e-9a4c-4e3b-8d6f-1c2e3a4b5c6d$Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycA==",
			"credential-type":             "binding-secret",
			"token_service_url":           s.url,
			"token_service_domain":        s.host,
			"url":                         s.url,
			"xsappname":                   "clone-0a9d3e7f-5c21-4b68-8e4d-6f1a2b3c4d5e!b1235|connectivity!b17",
			"identityzone":                subdomain,
			"tenantid":                    tenantID,
			"tenantmode":                  "dedicated",
			"subaccount_id":               subaccountID,
			"subaccount_subdomain":        subdomain,
			"onpremise_proxy_host":        "connectivityproxy.internal.cf.sim.hana.ondemand.com",
			"onpremise_proxy_http_port":   "20003",
			"onpremise_proxy_ldap_port":   "20001",
			"onpremise_proxy_port":        "20003",
			"onpremise_proxy_rfc_port":    "20001",
			"onpremise_socks5_proxy_port": "20004",
		},
		"syslog_drain_url": nil,
		"volume_mounts":    []any{},
	}
	data, err := json.Marshal(map[string]any{ServiceLabel: []any{lite, api}})
	if err != nil {
		panic(err)
	}
	return string(data)
}

// kymaFiles returns the files of an SAP BTP service operator binding secret: one per credential
// key (non-string values as JSON text) plus label, plan, type, instance_name, instance_guid,
// tags and .metadata.
func (s *Server) kymaFiles(t CredentialType) (map[string][]byte, error) {
	creds, err := s.credentials(t)
	if err != nil {
		return nil, err
	}
	type property struct {
		Name   string `json:"name"`
		Format string `json:"format"`
	}
	var meta struct {
		MetaDataProperties   []property `json:"metaDataProperties"`
		CredentialProperties []property `json:"credentialProperties"`
	}
	files := make(map[string][]byte)
	add := func(list *[]property, name string, v any) error {
		if str, ok := v.(string); ok {
			files[name] = []byte(str)
			*list = append(*list, property{name, "text"})
			return nil
		}
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		files[name] = data
		*list = append(*list, property{name, "json"})
		return nil
	}
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := add(&meta.CredentialProperties, k, creds[k]); err != nil {
			return nil, err
		}
	}
	for _, m := range []struct {
		name  string
		value any
	}{
		{"instance_name", apiInstanceName},
		{"instance_guid", apiInstanceGUID},
		{"plan", PlanAPI},
		{"label", ServiceLabel},
		{"type", ServiceLabel},
		{"tags", serviceTags},
	} {
		if err := add(&meta.MetaDataProperties, m.name, m.value); err != nil {
			return nil, err
		}
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	files[".metadata"] = data
	return files, nil
}

// WriteKymaBinding writes the binding as the SAP BTP service operator mounts its secret (Kyma,
// Kubernetes): one file per credential key in dir (created if missing), non-string values
// (connectivity_service) as JSON text, plus the files label, plan, type, instance_name,
// instance_guid, tags (JSON) and .metadata. Existing files are overwritten and the
// credential-type specific files of the other type (clientsecret, or certurl, certificate and
// key) removed, so calling it again after RotateSecret or RotateCertificate simulates a rotated
// binding.
func (s *Server) WriteKymaBinding(dir string, t CredentialType) error {
	files, err := s.kymaFiles(t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"clientsecret", "certurl", "certificate", "key"} {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteKymaBindingProjected writes the same files as WriteKymaBinding in the layout the kubelet
// gives a mounted secret: the files live in a hidden timestamped directory, dir/..data is a
// symlink to it and every visible name is a symlink through ..data. Calling it again swaps
// ..data atomically, as a secret update does, and removes names the new binding lacks. Loaders
// must follow symlinks and ignore the names starting with "..".
func (s *Server) WriteKymaBindingProjected(dir string, t CredentialType) error {
	files, err := s.kymaFiles(t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stamp := ".." + time.Now().UTC().Format("2006_01_02_15_04_05.000000000")
	if err := os.Mkdir(filepath.Join(dir, stamp), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, stamp, name), data, 0o644); err != nil {
			return err
		}
	}
	dataLink := filepath.Join(dir, "..data")
	old, _ := os.Readlink(dataLink)
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(stamp, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataLink); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				return err
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if _, keep := files[name]; keep || strings.HasPrefix(name, "..") || e.Type()&os.ModeSymlink == 0 {
			continue
		}
		if target, err := os.Readlink(filepath.Join(dir, name)); err == nil && target == filepath.Join("..data", name) {
			_ = os.Remove(filepath.Join(dir, name))
		}
	}
	if old != "" && old != stamp {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}
