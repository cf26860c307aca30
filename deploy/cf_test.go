package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// manifestAttributes are the attributes of an application in a Cloud Foundry app manifest, as
// listed by "App manifest attribute reference"
// (https://docs.cloudfoundry.org/devguide/deploy-apps/manifest-attributes.html), without those
// the cf CLI v7 and later refuse (buildpack, host, hosts, domain, domains, no-hostname). cf push
// ignores or refuses others, so a misspelt attribute silently loses its setting.
var manifestAttributes = []string{
	"buildpacks", "command", "default-route", "disk_quota", "docker", "env",
	"health-check-type", "health-check-http-endpoint", "health-check-invocation-timeout", "health-check-interval",
	"readiness-health-check-type", "readiness-health-check-http-endpoint",
	"readiness-health-check-invocation-timeout", "readiness-health-check-interval",
	"instances", "lifecycle", "log-rate-limit-per-second", "memory", "metadata", "name", "no-route",
	"path", "processes", "random-route", "routes", "services", "sidecars", "stack", "timeout",
}

// manifestTopLevel are the top-level keys of an app manifest (same page).
var manifestTopLevel = []string{"applications", "version"}

// healthCheckTypes are the values health-check-type and readiness-health-check-type take.
var healthCheckTypes = []string{"port", "process", "http"}

// quantity is a Cloud Foundry memory or disk size: a number and a unit.
var quantity = regexp.MustCompile(`^[0-9]+(M|MB|G|GB|T|TB)$`)

// cfApp is what the test reads of the application; the keys are checked separately.
type cfApp struct {
	Name                       string            `json:"name"`
	Path                       string            `json:"path"`
	Buildpacks                 []string          `json:"buildpacks"`
	Command                    string            `json:"command"`
	Memory                     string            `json:"memory"`
	DiskQuota                  string            `json:"disk_quota"`
	Instances                  int               `json:"instances"`
	RandomRoute                bool              `json:"random-route"`
	Routes                     []map[string]any  `json:"routes"`
	HealthCheckType            string            `json:"health-check-type"`
	HealthCheckEndpoint        string            `json:"health-check-http-endpoint"`
	ReadinessHealthCheckType   string            `json:"readiness-health-check-type"`
	ReadinessHealthCheckEndpnt string            `json:"readiness-health-check-http-endpoint"`
	Env                        map[string]string `json:"env"`
	Services                   []string          `json:"services"`
}

// checkCloudFoundry validates the app manifest.
func checkCloudFoundry(data []byte) []error {
	var raw map[string]json.RawMessage
	if err := yaml.UnmarshalStrict(data, &raw); err != nil {
		return []error{fmt.Errorf("not a YAML mapping: %w", err)}
	}
	var errs []error
	for key := range raw {
		if !slices.Contains(manifestTopLevel, key) {
			errs = append(errs, fmt.Errorf("top-level key %q is not an app manifest attribute", key))
		}
	}
	var apps []map[string]json.RawMessage
	if err := json.Unmarshal(raw["applications"], &apps); err != nil || len(apps) != 1 {
		return append(errs, fmt.Errorf("want one application under applications (%v)", err))
	}
	for key := range apps[0] {
		if !slices.Contains(manifestAttributes, key) {
			errs = append(errs, fmt.Errorf("attribute %q is not in the app manifest attribute reference (a typo?)", key))
		}
	}
	appJSON, err := json.Marshal(apps[0])
	if err != nil {
		return append(errs, err)
	}
	var app cfApp
	if err := json.Unmarshal(appJSON, &app); err != nil {
		return append(errs, fmt.Errorf("an attribute has the wrong type: %w", err))
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(app.Command == "./btp-connectivity-mcp --http :$PORT", "command %q: want ./btp-connectivity-mcp --http :$PORT", app.Command)
	check(app.Path == "app", "path %q: want app (where the README builds the binary)", app.Path)
	check(slices.Contains(app.Buildpacks, "binary_buildpack"), "buildpacks %v: want binary_buildpack", app.Buildpacks)
	check(quantity.MatchString(app.Memory), "memory %q: want a size such as 128M", app.Memory)
	check(quantity.MatchString(app.DiskQuota), "disk_quota %q: want a size such as 256M", app.DiskQuota)
	check(app.RandomRoute || len(app.Routes) > 0,
		"neither random-route: true nor routes: the default route btp-connectivity-mcp.<shared domain> is taken by the first customer of the region to push")
	check(app.HealthCheckType == "http" && app.HealthCheckEndpoint == "/healthz",
		"liveness check %q on %q: want http on /healthz", app.HealthCheckType, app.HealthCheckEndpoint)
	check(app.ReadinessHealthCheckType == "http" && app.ReadinessHealthCheckEndpnt == "/readyz",
		"readiness check %q on %q: want http on /readyz", app.ReadinessHealthCheckType, app.ReadinessHealthCheckEndpnt)
	for _, typ := range []string{app.HealthCheckType, app.ReadinessHealthCheckType} {
		check(slices.Contains(healthCheckTypes, typ), "health check type %q: want one of %v", typ, healthCheckTypes)
	}
	check(slices.Contains(app.Services, "connectivity-api") && slices.Contains(app.Services, "mcp-xsuaa"),
		"services %v: want connectivity-api and mcp-xsuaa", app.Services)
	return errs
}

// xsSecurity is what the test reads of an xs-security descriptor.
type xsSecurity struct {
	XSAppName     string    `json:"xsappname"`
	Scopes        []xsScope `json:"scopes"`
	Authorities   []string  `json:"authorities"`
	RoleTemplates []struct {
		Name            string   `json:"name"`
		ScopeReferences []string `json:"scope-references"`
	} `json:"role-templates"`
	RoleCollections []struct {
		RoleTemplateReferences []string `json:"role-template-references"`
	} `json:"role-collections"`
	OAuth2 struct {
		CredentialTypes []string `json:"credential-types"`
	} `json:"oauth2-configuration"`
}

// xsScope is one scope of an xs-security descriptor.
type xsScope struct {
	Name string `json:"name"`
}

// checkSecurity checks an xs-security descriptor: the Read scope, a role template holding it, a
// role collection holding the template, the Read scope for client-credentials tokens, and a
// credential of its own for every binding and service key.
func checkSecurity(data []byte) []error {
	var sec xsSecurity
	if err := json.Unmarshal(data, &sec); err != nil {
		return []error{fmt.Errorf("not an xs-security descriptor: %w", err)}
	}
	var errs []error
	if sec.XSAppName != "btp-connectivity-mcp" {
		errs = append(errs, fmt.Errorf("xsappname %q: want btp-connectivity-mcp", sec.XSAppName))
	}
	if !slices.Contains(sec.Scopes, xsScope{Name: "$XSAPPNAME.Read"}) {
		errs = append(errs, errors.New("no scope $XSAPPNAME.Read"))
	}
	if !slices.Contains(sec.Authorities, "$XSAPPNAME.Read") {
		errs = append(errs, errors.New("client-credentials tokens lack the Read scope (authorities)"))
	}
	if len(sec.RoleTemplates) == 0 || !slices.Contains(sec.RoleTemplates[0].ScopeReferences, "$XSAPPNAME.Read") {
		errs = append(errs, errors.New("no role template holds the Read scope"))
	} else if len(sec.RoleCollections) == 0 || !slices.Contains(sec.RoleCollections[0].RoleTemplateReferences, "$XSAPPNAME."+sec.RoleTemplates[0].Name) {
		errs = append(errs, fmt.Errorf("no role collection references $XSAPPNAME.%s", sec.RoleTemplates[0].Name))
	}
	// binding-secret: each binding and service key gets a secret of its own, revoked alone;
	// without it every key shares the instance's secret.
	if !slices.Contains(sec.OAuth2.CredentialTypes, "binding-secret") || !slices.Contains(sec.OAuth2.CredentialTypes, "x509") {
		errs = append(errs, fmt.Errorf(`oauth2-configuration.credential-types %v: want ["binding-secret", "x509"], so that an agent's key is its own`, sec.OAuth2.CredentialTypes))
	}
	return errs
}

// checkXSSecurity checks cf/xs-security.json and returns it as generic JSON, to compare with the
// Kyma xsuaa instance's parameters.
func checkXSSecurity(data []byte) (any, []error) {
	errs := checkSecurity(data)
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, append(errs, err)
	}
	return v, errs
}

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(a any, b []byte) bool {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return false
	}
	return reflect.DeepEqual(a, v)
}

// short shortens a JSON document for a message.
func short(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
