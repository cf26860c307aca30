// Package deploy holds the deployment files (Cloud Foundry, Kyma, Dockerfile). Its test validates
// them as the platforms would: the Kyma manifests strictly against the Kubernetes API types and the
// published schemas of the custom resources, the Cloud Foundry manifest against the documented
// attributes, the Dockerfile and its build context against what a cross-built, shell-less image
// needs; and it cross-checks what must agree between files (arguments and mounts, ports and
// targetPort, bindings and Secrets). A table of mutations proves that each check bites.
package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// files are the deployment files, by path relative to this directory, held in memory so that a
// mutation can change a copy.
type files map[string][]byte

// readFiles reads every file the validation looks at.
func readFiles(t *testing.T) files {
	t.Helper()
	paths := []string{
		"Dockerfile", "cf/manifest.yml", "cf/xs-security.json",
		"../.dockerignore", "../.gitignore", "../README.md", "../go.mod",
	}
	kyma, err := filepath.Glob("kyma/*.yaml")
	if err != nil || len(kyma) == 0 {
		t.Fatalf("no Kyma manifests in deploy/kyma: %v", err)
	}
	crds, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CustomResourceDefinitions in deploy/testdata: %v", err)
	}
	fs := files{}
	for _, p := range append(append(paths, kyma...), crds...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fs[p] = data
	}
	return fs
}

// clone copies fs, so that a mutation leaves the original alone.
func (fs files) clone() files {
	out := make(files, len(fs))
	for p, data := range fs {
		out[p] = append([]byte(nil), data...)
	}
	return out
}

// validate runs every check over fs and returns the problems found, each a sentence naming the
// file.
func validate(fs files) []string {
	var problems []string
	report := func(file string, errs []error) {
		for _, err := range errs {
			problems = append(problems, file+": "+err.Error())
		}
	}
	report("cf/manifest.yml", checkCloudFoundry(fs["cf/manifest.yml"]))
	sec, errs := checkXSSecurity(fs["cf/xs-security.json"])
	report("cf/xs-security.json", errs)
	k, errs := loadKyma(fs)
	report("kyma", errs)
	if k != nil {
		report("kyma", checkKyma(k, sec, fs["../README.md"]))
	}
	report("Dockerfile", checkDockerfile(fs["Dockerfile"], fs["../go.mod"]))
	report("build context", checkIgnores(fs["../.dockerignore"], fs["../.gitignore"], fs["../README.md"]))
	return problems
}

func TestDeploymentFiles(t *testing.T) {
	t.Parallel()
	for _, p := range validate(readFiles(t)) {
		t.Error(p)
	}
}

// mutation is one change a deployment could suffer that a platform would refuse, or that would
// break the deployment once applied.
type mutation struct {
	name     string
	file     string
	old, new string
}

// mutations are the changes the validation must catch: those found slipping through before
// (issue 18), and the properties the files now promise.
var mutations = []mutation{
	{"APIRule apiVersion v1beta1", "kyma/apirule.yaml", "apiVersion: gateway.kyma-project.io/v2", "apiVersion: gateway.kyma-project.io/v1beta1"},
	{"typo in noAuth", "kyma/apirule.yaml", "      noAuth: true", "      noAuht: true"},
	{"noAuth false", "kyma/apirule.yaml", "      noAuth: true", "      noAuth: false"},
	{"typo in hosts", "kyma/apirule.yaml", "  hosts:", "  hostss:"},
	{"host not an RFC 1123 label", "kyma/apirule.yaml", "    - btp-connectivity-mcp\n  gateway", "    - BTP_Connectivity\n  gateway"},
	{"every path published", "kyma/apirule.yaml", "    - path: /mcp", "    - path: /*"},
	{"/readyz published", "kyma/apirule.yaml", "    - path: /.well-known/oauth-protected-resource/mcp", "    - path: /readyz"},
	{"APIRule without corsPolicy origin", "kyma/apirule.yaml", "      - exact: https://mcp-client.example.com", "      - exact: https://other.example.com"},
	{"APIRule at another Service port", "kyma/apirule.yaml", "    port: 8080", "    port: 8081"},
	{"typo in memory (Deployment)", "kyma/deployment.yaml", "              memory: 128Mi", "              memroy: 128Mi"},
	{"memory quantity misspelt (Deployment)", "kyma/deployment.yaml", "              memory: 128Mi", "              memory: 128MB"},
	{"typo in memory (Cloud Foundry)", "cf/manifest.yml", "    memory: 128M", "    memroy: 128M"},
	{"typo in capabilities", "kyma/deployment.yaml", "capabilities:", "capabilites:"},
	{"capabilities not dropped", "kyma/deployment.yaml", "                - ALL", "                - NET_RAW"},
	{"typo in readiness-health-check-type", "cf/manifest.yml", "readiness-health-check-type:", "readiness-heath-check-type:"},
	{"no random route", "cf/manifest.yml", "    random-route: true\n", ""},
	{"apps/v1beta1", "kyma/deployment.yaml", "apiVersion: apps/v1", "apiVersion: apps/v1beta1"},
	{"mount path no longer matches its argument", "kyma/deployment.yaml", "mountPath: /state", "mountPath: /data"},
	{"binding mount path no longer matches its argument", "kyma/deployment.yaml", "mountPath: /bindings/connectivity", "mountPath: /bindings/conn"},
	{"renamed container port", "kyma/deployment.yaml", "            - name: http\n              containerPort: 8080", "            - name: web\n              containerPort: 8080"},
	{"Service targetPort renamed", "kyma/service.yaml", "targetPort: http", "targetPort: web"},
	{"no writable TMPDIR", "kyma/deployment.yaml", "            - name: TMPDIR\n              value: /tmp\n", ""},
	{"state emptyDir without a size limit", "kyma/deployment.yaml", "          emptyDir:\n            sizeLimit: 256Mi", "          emptyDir: {}"},
	{"Secret volume readable by all", "kyma/deployment.yaml", "            defaultMode: 0440", "            defaultMode: 0644"},
	{"root filesystem writable", "kyma/deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"},
	{"Secret written by nothing", "kyma/deployment.yaml", "secretName: mcp-xsuaa-binding", "secretName: mcp-xsuaa-secret"},
	{"binding of an undefined instance", "kyma/btp-services.yaml", "  serviceInstanceName: mcp-xsuaa\n  secretName: mcp-xsuaa-binding", "  serviceInstanceName: mcp-uaa\n  secretName: mcp-xsuaa-binding"},
	{"typo in a ServiceBinding field", "kyma/btp-services.yaml", "  secretName: mcp-xsuaa-binding", "  secretname: mcp-xsuaa-binding"},
	{"typo in a ServiceInstance field", "kyma/btp-services.yaml", "  servicePlanName: application", "  servicePlan: application"},
	{"operator binding writes another key", "kyma/connectivity-operator.yaml", "secretKey: connectivity-key.json", "secretKey: credentials.json"},
	{"xsuaa without credential types (Cloud Foundry)", "cf/xs-security.json", `"binding-secret",`, ``},
	{"Kyma xsuaa differs from xs-security.json", "kyma/btp-services.yaml", "      token-validity: 3600", "      token-validity: 7200"},
	{"final image :debug", "Dockerfile", "static-debian12:nonroot", "static-debian12:debug-nonroot"},
	{"final image with a shell", "Dockerfile", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM alpine:3.22"},
	{"build stage on the target platform", "Dockerfile", "FROM --platform=$BUILDPLATFORM golang", "FROM golang"},
	{"build ignores the target architecture", "Dockerfile", "GOARCH=$TARGETARCH", "GOARCH=amd64"},
	{"Go image unpinned", "Dockerfile", "golang:1.26.8-bookworm@sha256:", "golang:1.26-bookworm@sha256:"},
	{"Go image without digest", "Dockerfile", "@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build", " AS build"},
	{"image runs as root", "Dockerfile", "USER 65532:65532", "USER 0"},
	{"image without a writable state directory", "Dockerfile", "ENV XDG_STATE_HOME=/state TMPDIR=/tmp", "ENV TMPDIR=/tmp"},
	{".git in the build context", "../.dockerignore", "\n.git\n", "\n"},
	{"service keys in the build context", "../.dockerignore", "**/*.json\n", ""},
	{"service keys not ignored by git", "../.gitignore", "*-key.json\n", ""},
}

func TestMutationsFail(t *testing.T) {
	t.Parallel()
	fs := readFiles(t)
	if problems := validate(fs); len(problems) > 0 {
		t.Fatalf("the files themselves do not pass: %v", problems)
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			mutated := fs.clone()
			data, ok := mutated[m.file]
			if !ok || !strings.Contains(string(data), m.old) {
				t.Fatalf("%s does not hold %q: the mutation tests nothing; update it", m.file, m.old)
			}
			mutated[m.file] = []byte(strings.Replace(string(data), m.old, m.new, 1))
			problems := validate(mutated)
			if len(problems) == 0 {
				t.Fatalf("%s: %q → %q passed validation", m.file, m.old, m.new)
			}
			t.Log(problems)
		})
	}
}
