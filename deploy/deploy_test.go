// Package deploy holds the deployment files (Cloud Foundry, Kyma, Dockerfile); its test parses
// each one and checks the fields the server depends on.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// doc is one parsed YAML or JSON document.
type doc = map[string]any

// readDocs parses every document of a YAML file.
func readDocs(t *testing.T, path string) []doc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []doc
	for {
		var d doc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// at walks d along keys (map keys, or list indexes as ints) and returns what is there, or nil.
func at(d any, keys ...any) any {
	for _, k := range keys {
		switch key := k.(type) {
		case string:
			m, _ := d.(map[string]any)
			d = m[key]
		case int:
			l, _ := d.([]any)
			if key >= len(l) {
				return nil
			}
			d = l[key]
		}
	}
	return d
}

// strs returns the strings of a list.
func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// byKind indexes the Kyma documents by kind and name.
func byKind(t *testing.T) map[string]doc {
	t.Helper()
	files, err := filepath.Glob("kyma/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Kyma manifests: %v", err)
	}
	out := map[string]doc{}
	for _, f := range files {
		for _, d := range readDocs(t, f) {
			kind, name := at(d, "kind"), at(d, "metadata", "name")
			if kind == nil || name == nil || at(d, "apiVersion") == nil {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", f)
				continue
			}
			out[kind.(string)+"/"+name.(string)] = d
		}
	}
	return out
}

func TestCloudFoundryManifest(t *testing.T) {
	t.Parallel()
	docs := readDocs(t, "cf/manifest.yml")
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	app := at(docs[0], "applications", 0)
	for _, tc := range []struct {
		field string
		want  any
	}{
		{"command", "./btp-connectivity-mcp --http :$PORT"},
		{"health-check-type", "http"},
		{"health-check-http-endpoint", "/healthz"},
		{"readiness-health-check-http-endpoint", "/readyz"},
		{"path", "app"},
	} {
		if got := at(app, tc.field); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.field, got, tc.want)
		}
	}
	if bp := strs(at(app, "buildpacks")); !slices.Contains(bp, "binary_buildpack") && !slices.Contains(bp, "go_buildpack") {
		t.Errorf("buildpacks %v: want the binary or Go buildpack", bp)
	}
	if services := strs(at(app, "services")); !slices.Contains(services, "connectivity-api") || !slices.Contains(services, "mcp-xsuaa") {
		t.Errorf("services %v: want connectivity-api and mcp-xsuaa", services)
	}
}

// checkSecurity checks an xs-security document: the Read scope, a role template holding it, a
// role collection holding the template.
func checkSecurity(t *testing.T, where string, sec doc) {
	t.Helper()
	if at(sec, "xsappname") != "btp-connectivity-mcp" {
		t.Errorf("%s: xsappname %v", where, at(sec, "xsappname"))
	}
	if at(sec, "scopes", 0, "name") != "$XSAPPNAME.Read" {
		t.Errorf("%s: first scope %v, want $XSAPPNAME.Read", where, at(sec, "scopes", 0, "name"))
	}
	if !slices.Contains(strs(at(sec, "role-templates", 0, "scope-references")), "$XSAPPNAME.Read") {
		t.Errorf("%s: the role template does not hold the Read scope", where)
	}
	template := "$XSAPPNAME." + at(sec, "role-templates", 0, "name").(string)
	if !slices.Contains(strs(at(sec, "role-collections", 0, "role-template-references")), template) {
		t.Errorf("%s: the role collection does not reference %s", where, template)
	}
	if !slices.Contains(strs(at(sec, "authorities")), "$XSAPPNAME.Read") {
		t.Errorf("%s: client-credentials tokens lack the Read scope (authorities)", where)
	}
}

func TestXSSecurity(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("cf/xs-security.json")
	if err != nil {
		t.Fatal(err)
	}
	var sec doc
	if err := json.Unmarshal(data, &sec); err != nil {
		t.Fatal(err)
	}
	checkSecurity(t, "xs-security.json", sec)
	// Kyma's xsuaa instance carries the same descriptor.
	kyma := at(byKind(t)["ServiceInstance/mcp-xsuaa"], "spec", "parameters")
	checkSecurity(t, "Kyma ServiceInstance mcp-xsuaa", kyma.(doc))
	a, _ := json.Marshal(sec)
	b, _ := json.Marshal(kyma)
	if !bytes.Equal(a, b) {
		t.Errorf("Kyma's xsuaa parameters differ from cf/xs-security.json:\n%s\n%s", a, b)
	}
}

func TestKymaManifests(t *testing.T) {
	t.Parallel()
	docs := byKind(t)
	dep := docs["Deployment/btp-connectivity-mcp"]
	if dep == nil {
		t.Fatalf("no Deployment btp-connectivity-mcp among %v", slices.Sorted(maps.Keys(docs)))
	}
	pod := at(dep, "spec", "template", "spec")
	c := at(pod, "containers", 0)
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"pod runAsNonRoot", at(pod, "securityContext", "runAsNonRoot"), true},
		{"readOnlyRootFilesystem", at(c, "securityContext", "readOnlyRootFilesystem"), true},
		{"allowPrivilegeEscalation", at(c, "securityContext", "allowPrivilegeEscalation"), false},
		{"liveness probe", at(c, "livenessProbe", "httpGet", "path"), "/healthz"},
		{"readiness probe", at(c, "readinessProbe", "httpGet", "path"), "/readyz"},
		{"selector matches the pod", at(dep, "spec", "selector", "matchLabels", "app.kubernetes.io/name"), at(dep, "spec", "template", "metadata", "labels", "app.kubernetes.io/name")},
	} {
		if tc.got != tc.want {
			t.Errorf("Deployment: %s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	args := strings.Join(strs(at(c, "args")), " ")
	if !strings.Contains(args, "--http :8080") || !strings.Contains(args, "--xsuaa-binding /bindings/xsuaa") {
		t.Errorf("args %q: want --http :8080 and --xsuaa-binding", args)
	}
	// Every Secret volume is written by a ServiceBinding of an existing ServiceInstance.
	secrets := map[string]bool{}
	for _, v := range at(pod, "volumes").([]any) {
		if name, ok := at(v, "secret", "secretName").(string); ok {
			secrets[name] = true
		}
	}
	plans := map[string]string{}
	for key, d := range docs {
		if strings.HasPrefix(key, "ServiceBinding/") {
			inst := docs["ServiceInstance/"+at(d, "spec", "serviceInstanceName").(string)]
			if inst == nil {
				t.Errorf("%s binds a ServiceInstance that is not defined", key)
				continue
			}
			plans[at(inst, "spec", "serviceOfferingName").(string)] = at(inst, "spec", "servicePlanName").(string)
			delete(secrets, at(d, "spec", "secretName").(string))
		}
	}
	if len(secrets) > 0 {
		t.Errorf("Secrets mounted but written by no ServiceBinding: %v", secrets)
	}
	if plans["connectivity"] != "api_access" || plans["xsuaa"] != "application" {
		t.Errorf("bound offerings and plans %v: want connectivity api_access and xsuaa application", plans)
	}
	svc := docs["Service/btp-connectivity-mcp"]
	if at(svc, "spec", "selector", "app.kubernetes.io/name") != "btp-connectivity-mcp" || at(svc, "spec", "ports", 0, "targetPort") != "http" {
		t.Errorf("Service does not select the pods' http port: %v", at(svc, "spec"))
	}
	rule := docs["APIRule/btp-connectivity-mcp"]
	if at(rule, "spec", "service", "name") != "btp-connectivity-mcp" || at(rule, "spec", "service", "port") != at(svc, "spec", "ports", 0, "port") {
		t.Errorf("APIRule does not point at the Service: %v", at(rule, "spec", "service"))
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	user := ""
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 2 && fields[0] == "FROM":
			froms = append(froms, fields[1])
		case len(fields) >= 2 && fields[0] == "USER":
			user = fields[1]
		}
	}
	if len(froms) < 2 {
		t.Errorf("FROM %v: want a multi-stage build", froms)
	}
	if final := froms[len(froms)-1]; !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("final stage FROM %s: want distroless/static or scratch", final)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: want a non-root user", user)
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0") {
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	}
}
