package sccadmin_test

import (
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

func TestProxyBindingFromVCAP(t *testing.T) {
	t.Parallel()
	lite := `{"connectivity":[{"name":"api","plan":"connectivity_api","credentials":{}},{"name":"proxy","plan":"lite","credentials":{` +
		`"onpremise_proxy_host":"connectivityproxy.internal.cf.eu10.hana.ondemand.com","onpremise_proxy_http_port":"20003",` +
		`"clientid":"sb-proxy","clientsecret":"s3cr3t","token_service_url":"https://acme.authentication.eu10.hana.ondemand.com"}}]}`
	for _, tc := range []struct {
		name, vcap string
		found, err bool
	}{
		{"none", "", false, false},
		{"no lite", `{"connectivity":[{"plan":"connectivity_api","credentials":{}}]}`, false, false},
		{"lite", lite, true, false},
		{"lite without port", `{"connectivity":[{"name":"p","plan":"lite","credentials":{"clientid":"x"}}]}`, true, true},
		{"not JSON", `{`, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, found, err := sccadmin.ProxyBindingFromVCAP(tc.vcap)
			if found != tc.found || (err != nil) != tc.err {
				t.Fatalf("found %v, err %v", found, err)
			}
			if tc.name == "lite" && (b.Port != 20003 || b.TokenURL != "https://acme.authentication.eu10.hana.ondemand.com/oauth/token") {
				t.Errorf("binding %+v", b)
			}
		})
	}
}
