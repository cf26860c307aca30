package history

import (
	"encoding/json"
	"slices"
	"strings"
)

// BoundPostgres finds a PostgreSQL service bound on Cloud Foundry: the first VCAP_SERVICES entry
// whose label or tags name PostgreSQL and whose credentials hold a postgres:// URI. It returns
// the URI and the service's name, or "" when there is none.
func BoundPostgres(vcapServices string) (uri, name string) {
	var services map[string][]struct {
		Name        string         `json:"name"`
		Label       string         `json:"label"`
		Tags        []string       `json:"tags"`
		Credentials map[string]any `json:"credentials"`
	}
	if json.Unmarshal([]byte(vcapServices), &services) != nil {
		return "", ""
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
					return u, s.Name
				}
			}
		}
	}
	return "", ""
}
