package history

import (
	"encoding/json"
	"slices"
	"strings"
)

// PostgresBinding is a PostgreSQL service bound on Cloud Foundry, such as SAP BTP's offering
// postgresql-db (PostgreSQL, hyperscaler option). [PostgresBinding.Open] opens the store in it
// over TLS, verifying the server's certificate and host name.
type PostgresBinding struct {
	Name string // the service instance's name
	URI  string // the postgres:// URL of its credentials, with the password
	// RootCA is the PEM of the certificate authority that signs the server's certificate (the
	// credentials' sslrootcert); empty when the binding names none, and the system's roots are
	// used.
	RootCA []byte
}

// BoundPostgres finds a PostgreSQL service bound on Cloud Foundry: the first VCAP_SERVICES entry
// whose label or tags name PostgreSQL and whose credentials hold a postgres:// URI, with the
// certificate authority of its credentials' sslrootcert. ok is false when there is none.
func BoundPostgres(vcapServices string) (b PostgresBinding, ok bool) {
	var services map[string][]struct {
		Name        string         `json:"name"`
		Label       string         `json:"label"`
		Tags        []string       `json:"tags"`
		Credentials map[string]any `json:"credentials"`
	}
	if json.Unmarshal([]byte(vcapServices), &services) != nil {
		return PostgresBinding{}, false
	}
	labels := make([]string, 0, len(services))
	for label := range services {
		labels = append(labels, label)
	}
	slices.Sort(labels) // a stable choice
	for _, label := range labels {
		for _, s := range services[label] {
			postgres := strings.Contains(strings.ToLower(s.Label), "postgres") ||
				slices.ContainsFunc(s.Tags, func(t string) bool { return strings.Contains(strings.ToLower(t), "postgres") })
			if !postgres {
				continue
			}
			for _, key := range []string{"uri", "url", "connection_uri"} {
				if u, _ := s.Credentials[key].(string); strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
					ca, _ := s.Credentials["sslrootcert"].(string)
					return PostgresBinding{Name: s.Name, URI: u, RootCA: []byte(ca)}, true
				}
			}
		}
	}
	return PostgresBinding{}, false
}
