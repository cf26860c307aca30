package sccadmin

import (
	"encoding/json"
	"fmt"
)

// ProxyBindingFromVCAP finds a Connectivity binding of plan lite (or connectivity_proxy) in
// VCAP_SERVICES (Cloud Foundry): the proxy for entries with via: connectivity-proxy. It reports
// false when there is none.
func ProxyBindingFromVCAP(vcap string) (*ProxyBinding, bool, error) {
	if vcap == "" {
		return nil, false, nil
	}
	var services map[string][]struct {
		Name        string          `json:"name"`
		Plan        string          `json:"plan"`
		Credentials json.RawMessage `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(vcap), &services); err != nil {
		return nil, false, fmt.Errorf("VCAP_SERVICES is not JSON: %w", err)
	}
	for _, s := range services["connectivity"] {
		if s.Plan != "lite" && s.Plan != "connectivity_proxy" {
			continue
		}
		b, err := ParseProxyBinding(s.Credentials)
		if err != nil {
			return nil, true, fmt.Errorf("VCAP_SERVICES connectivity %q (plan %s): %w", s.Name, s.Plan, err)
		}
		return b, true, nil
	}
	return nil, false, nil
}
