package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// CredentialType selects the kind of binding the simulator hands out.
type CredentialType int

const (
	// SecretCredentials is a binding with a clientsecret ("credential-type": "binding-secret").
	SecretCredentials CredentialType = iota
	// X509Credentials is a binding with an X.509 client certificate and key ("credential-type":
	// "x509"); it needs Options.TLS.
	X509Credentials
)

// String returns the binding's credential-type value.
func (t CredentialType) String() string {
	if t == X509Credentials {
		return "x509"
	}
	return "binding-secret"
}

const (
	serviceLabel = "connectivity"
	planAPI      = "api_access"
)

func serviceTags() []string { return []string{"connectivity", "conn", "connsvc"} }

// xsappname derives the binding's xsappname from the client ID, as XSUAA does ("sb-" + xsappname).
func (t *Tenant) xsappname() string { return strings.TrimPrefix(t.clientID, "sb-") }

// credentials builds the binding's credentials object, or fails for X.509 without TLS.
func (t *Tenant) credentials(kind CredentialType) (map[string]any, error) {
	url, host := t.srv.url, t.srv.host
	c := map[string]any{
		"clientid": t.clientID, "credential-type": kind.String(), "xsappname": t.xsappname(),
		"token_service_url": url, "token_service_domain": host, "url": url, "uaadomain": host,
		"identityzone": t.subdomain, "identityzoneid": t.zoneID, "zoneid": t.zoneID, "tenantid": t.zoneID,
		"tenantmode": "dedicated", "subaccount_id": t.subaccountID, "subaccount_subdomain": t.subdomain,
		"connectivity_service": map[string]any{"url": url, "scc_info_path": DefaultInfoPath},
	}
	switch kind {
	case SecretCredentials:
		t.mu.Lock()
		c["clientsecret"] = t.secret
		t.mu.Unlock()
	case X509Credentials:
		cert, err := t.certificate(false)
		if err != nil {
			return nil, err
		}
		c["certurl"], c["certificate"], c["key"] = url, cert.certPEM, cert.keyPEM
	default:
		return nil, fmt.Errorf("simulator: unknown credential type %d", int(kind))
	}
	return c, nil
}

// Credentials returns a new map of the tenant's binding credentials with the keys of a real
// Connectivity (XSUAA) binding, reflecting the current secret or X.509 certificate (leaf then CA,
// PKCS #1 key; issued on first use). It panics for X509Credentials without TLS: a test's mistake.
func (t *Tenant) Credentials(kind CredentialType) map[string]any {
	c, err := t.credentials(kind)
	if err != nil {
		panic(err)
	}
	return c
}

// ServiceKeyJSON returns the credentials as a service key file holds them (`cf service-key`).
// It panics like Credentials.
func (t *Tenant) ServiceKeyJSON(kind CredentialType) []byte {
	data, err := json.MarshalIndent(t.Credentials(kind), "", "  ")
	if err != nil {
		panic(err)
	}
	return append(data, '\n')
}

func vcapEntry(plan, name string, creds map[string]any) map[string]any {
	return map[string]any{
		"label": serviceLabel, "provider": nil, "plan": plan, "name": name, "tags": serviceTags(),
		"instance_guid": derivedGUID(name, "instance"), "instance_name": name,
		"binding_guid": derivedGUID(name, "binding"), "binding_name": nil,
		"credentials": creds, "syslog_drain_url": nil, "volume_mounts": []any{},
	}
}

// VCAPServices returns a VCAP_SERVICES document: a "lite" entry (proxy keys, no scc_info_path)
// that loaders must skip, then one "api_access" entry per tenant (default: the default tenant),
// named after it. It panics like Credentials.
func (s *Server) VCAPServices(kind CredentialType, tenants ...*Tenant) string {
	if len(tenants) == 0 {
		tenants = []*Tenant{s.Tenant}
	}
	const liteClient = "clone-0a9d3e7f-5c21-4b68-8e4d-6f1a2b3c4d5e!b1235|connectivity!b17"
	lite := map[string]any{"clientid": "sb-" + liteClient, "xsappname": liteClient, "credential-type": "binding-secret",
		"clientsecret":      "0b7f2d1e-9a4c-4e3b-8d6f-1c2e3a4b5c6d$Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycA==",
		"token_service_url": s.url, "url": s.url, "subaccount_subdomain": defaultSubdomain,
		"onpremise_proxy_host": "connectivityproxy.internal.cf.sim.hana.ondemand.com", "onpremise_proxy_port": "20003",
		"onpremise_proxy_http_port": "20003", "onpremise_proxy_ldap_port": "20001", "onpremise_proxy_rfc_port": "20001",
		"onpremise_socks5_proxy_port": "20004",
	}
	entries := []any{vcapEntry("lite", "conn-proxy", lite)}
	for _, t := range tenants {
		entries = append(entries, vcapEntry(planAPI, t.name, t.Credentials(kind)))
	}
	return string(encodeJSON(map[string]any{serviceLabel: entries}))
}

// kymaFiles returns the files of an SAP BTP service operator binding secret: one per credential
// key (non-string values as JSON text), the metadata keys and .metadata.
func (t *Tenant) kymaFiles(kind CredentialType) (map[string][]byte, error) {
	creds, err := t.credentials(kind)
	if err != nil {
		return nil, err
	}
	files, meta := map[string][]byte{}, map[string][]map[string]string{}
	add := func(list string, values map[string]any) {
		for _, name := range slices.Sorted(maps.Keys(values)) {
			format := "json"
			if str, ok := values[name].(string); ok {
				files[name], format = []byte(str), "text"
			} else {
				files[name] = encodeJSON(values[name])
			}
			meta[list] = append(meta[list], map[string]string{"name": name, "format": format})
		}
	}
	add("credentialProperties", creds)
	add("metaDataProperties", map[string]any{"instance_name": t.name, "instance_guid": derivedGUID(t.name, "instance"),
		"plan": planAPI, "label": serviceLabel, "type": serviceLabel, "tags": serviceTags()})
	files[".metadata"] = encodeJSON(meta)
	return files, nil
}

// WriteKymaBinding writes the binding into dir (created if missing) as the SAP BTP service
// operator mounts its secret: one file per credential key (non-string values as JSON text), plus
// label, plan, type, instance_name, instance_guid, tags and .metadata. Files of the other
// credential type are removed, so calling it again after a rotation simulates a rotated binding.
func (t *Tenant) WriteKymaBinding(dir string, kind CredentialType) error {
	files, err := t.kymaFiles(kind)
	if err != nil {
		return err
	}
	if err := removeOtherType(dir, files); err != nil {
		return err
	}
	return writeFiles(dir, files)
}

// removeOtherType removes from dir the files of the credential type that files lack.
func removeOtherType(dir string, files map[string][]byte) error {
	for _, name := range []string{"clientsecret", "certurl", "certificate", "key"} {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteKymaBindingProjected writes the same files in the kubelet's layout of a mounted secret: a
// hidden timestamped directory, dir/..data a symlink to it, every visible name a symlink through
// ..data. Calling it again swaps ..data atomically, as a secret update does.
func (t *Tenant) WriteKymaBindingProjected(dir string, kind CredentialType) error {
	files, err := t.kymaFiles(kind)
	if err != nil {
		return err
	}
	stamp := ".." + time.Now().UTC().Format("2006_01_02_15_04_05.000000000")
	if err := writeFiles(filepath.Join(dir, stamp), files); err != nil {
		return err
	}
	dataLink, tmp := filepath.Join(dir, "..data"), filepath.Join(dir, "..data_tmp")
	old, _ := os.Readlink(dataLink)
	_ = os.Remove(tmp)
	if err := os.Symlink(stamp, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataLink); err != nil {
		return err
	}
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	if old != "" && old != stamp {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return removeOtherType(dir, files)
}
