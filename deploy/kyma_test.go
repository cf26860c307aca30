package deploy

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// appName names the Deployment, the Service and the APIRule.
const appName = "btp-connectivity-mcp"

// publicPaths are the paths a client of the server needs from outside the cluster: the MCP
// endpoint and the OAuth protected-resource metadata (RFC 9728, also path-qualified).
var publicPaths = []string{"/mcp", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"}

// standardResources are the resource names a container may request without a domain prefix.
var standardResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

// apiRule is what the test reads of an APIRule once its schema has validated it.
type apiRule struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		Hosts   []string `json:"hosts"`
		Service struct {
			Name string `json:"name"`
			Port int32  `json:"port"`
		} `json:"service"`
		CorsPolicy struct {
			AllowOrigins []map[string]string `json:"allowOrigins"`
		} `json:"corsPolicy"`
		Rules []struct {
			Path    string   `json:"path"`
			Methods []string `json:"methods"`
			NoAuth  bool     `json:"noAuth"`
		} `json:"rules"`
	} `json:"spec"`
}

// serviceInstance is what the test reads of a ServiceInstance.
type serviceInstance struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		ServiceOfferingName string          `json:"serviceOfferingName"`
		ServicePlanName     string          `json:"servicePlanName"`
		Parameters          json.RawMessage `json:"parameters"`
	} `json:"spec"`
}

// serviceBinding is what the test reads of a ServiceBinding.
type serviceBinding struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		ServiceInstanceName string `json:"serviceInstanceName"`
		SecretName          string `json:"secretName"`
		SecretKey           string `json:"secretKey"`
	} `json:"spec"`
}

// kymaObjects are the objects of the Kyma manifests, decoded.
type kymaObjects struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	apiRules    map[string]*apiRule
	instances   map[string]*serviceInstance
	bindings    map[string]*serviceBinding
}

// loadKyma decodes every document of kyma/*.yaml: Deployments and Services strictly into the
// Kubernetes API types, custom resources against the published schema of their version.
func loadKyma(fs files) (*kymaObjects, []error) {
	crds, errs := loadCRDs(fs)
	k := &kymaObjects{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		apiRules: map[string]*apiRule{}, instances: map[string]*serviceInstance{}, bindings: map[string]*serviceBinding{},
	}
	for _, p := range slices.Sorted(maps.Keys(fs)) {
		if !strings.HasPrefix(p, "kyma/") {
			continue
		}
		docs, err := splitYAML(fs[p])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		for i, doc := range docs {
			if err := k.add(crds, doc); err != nil {
				errs = append(errs, fmt.Errorf("%s, document %d: %w", p, i+1, err))
			}
		}
	}
	return k, errs
}

// splitYAML returns the documents of a YAML stream that hold anything but comments.
func splitYAML(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, err
		}
		if string(bytes.TrimSpace(j)) != "null" {
			docs = append(docs, doc)
		}
	}
}

// add decodes one document by its apiVersion and kind.
func (k *kymaObjects) add(crds map[string]crdSchema, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	key := tm.APIVersion + " " + tm.Kind
	switch key {
	case "apps/v1 Deployment":
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict(doc, &d); err != nil {
			return fmt.Errorf("Deployment: %w", err)
		}
		return put(k.deployments, d.Name, &d)
	case "v1 Service":
		var s corev1.Service
		if err := yaml.UnmarshalStrict(doc, &s); err != nil {
			return fmt.Errorf("Service: %w", err)
		}
		return put(k.services, s.Name, &s)
	}
	schema, ok := crds[key]
	if !ok {
		return fmt.Errorf("%s is neither a Kubernetes type this test decodes (apps/v1 Deployment, v1 Service) nor a custom resource version in deploy/testdata (%s)",
			key, strings.Join(slices.Sorted(maps.Keys(crds)), ", "))
	}
	if errs := validateCustom(schema, doc); len(errs) > 0 {
		return fmt.Errorf("%s: %w", key, errors.Join(errs...))
	}
	switch tm.Kind {
	case "APIRule":
		return decodeInto(doc, k.apiRules, func(r *apiRule) string { return r.Metadata.Name })
	case "ServiceInstance":
		return decodeInto(doc, k.instances, func(r *serviceInstance) string { return r.Metadata.Name })
	case "ServiceBinding":
		return decodeInto(doc, k.bindings, func(r *serviceBinding) string { return r.Metadata.Name })
	}
	return fmt.Errorf("%s: the test does not read this kind", key)
}

// decodeInto decodes a validated custom resource and files it by name.
func decodeInto[T any](doc []byte, into map[string]*T, name func(*T) string) error {
	var v T
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return err
	}
	return put(into, name(&v), &v)
}

// put files v under name, refusing a second object of the same kind and name.
func put[T any](into map[string]*T, name string, v *T) error {
	if name == "" {
		return errors.New("no metadata.name")
	}
	if _, dup := into[name]; dup {
		return fmt.Errorf("two objects of one kind named %s", name)
	}
	into[name] = v
	return nil
}

// checkKyma checks what must agree between the Kyma objects, and what a read-only, non-root
// pod needs. sec is cf/xs-security.json, readme the README (which creates the Secrets no
// ServiceBinding writes).
func checkKyma(k *kymaObjects, sec any, readme []byte) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	dep, ok := k.deployments[appName]
	if !ok {
		return append(errs, fmt.Errorf("no Deployment %s among %v", appName, slices.Sorted(maps.Keys(k.deployments))))
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return append(errs, fmt.Errorf("Deployment: %d containers, want 1", len(pod.Containers)))
	}
	c := pod.Containers[0]
	if dep.Spec.Selector == nil || !subset(dep.Spec.Selector.MatchLabels, dep.Spec.Template.Labels) {
		fail("Deployment: the selector does not match the pod's labels")
	}

	// Security: non-root, read-only root filesystem, no privileges.
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		fail("Deployment: the pod does not say runAsNonRoot: true")
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		fail("Deployment: the container has no securityContext")
	default:
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			fail("Deployment: readOnlyRootFilesystem is not true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			fail("Deployment: allowPrivilegeEscalation is not false")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			fail("Deployment: capabilities do not drop ALL")
		}
	}

	// Resources: names Kubernetes knows (a misspelt name is refused at apply), a memory limit.
	for what, list := range map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
		for name := range list {
			if !slices.Contains(standardResources, name) && !strings.Contains(string(name), "/") {
				fail("Deployment: resources.%s names %q, not a resource Kubernetes knows (cpu, memory, ephemeral-storage)", what, name)
			}
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		fail("Deployment: no memory limit")
	}

	// Ports and probes.
	portNames := map[string]int32{}
	for _, p := range c.Ports {
		portNames[p.Name] = p.ContainerPort
	}
	checkPort := func(what string, port intstr.IntOrString) {
		if !portMatches(port, c.Ports) {
			fail("%s: port %s is not a port of the container (ports %v)", what, port.String(), portNames)
		}
	}
	for what, p := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			fail("Deployment: no HTTP %s", what)
			continue
		}
		checkPort("Deployment "+what, p.HTTPGet.Port)
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		fail("Deployment: livenessProbe on %s, want /healthz", c.LivenessProbe.HTTPGet.Path)
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		fail("Deployment: readinessProbe on %s, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}

	// Volumes and mounts.
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		switch {
		case v.EmptyDir != nil && v.EmptyDir.SizeLimit == nil:
			fail("Deployment: emptyDir %s has no sizeLimit (a full disk would evict other pods of the node)", v.Name)
		case v.Secret != nil && (v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o440):
			fail("Deployment: Secret volume %s is not defaultMode 0440 (readable by the owner and the pod's group only)", v.Name)
		}
	}
	for _, m := range c.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			fail("Deployment: mount %s names no volume", m.Name)
		}
	}
	mountOf := func(p string) (corev1.VolumeMount, bool) {
		for _, m := range c.VolumeMounts {
			if p == m.MountPath || strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") {
				return m, true
			}
		}
		return corev1.VolumeMount{}, false
	}

	// Every path the server is given lies in a mounted volume; what it writes, in a writable one.
	flags := parseArgs(c.Args)
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if _, ok := env["TMPDIR"]; !ok {
		fail("Deployment: no TMPDIR: with a read-only root filesystem SQLite has no place for temporary files")
	}
	type pathUse struct {
		what, path string
		write      bool
	}
	var uses []pathUse
	for _, f := range flags {
		if strings.HasPrefix(f.value, "/") {
			uses = append(uses, pathUse{"argument " + f.name, f.value, f.name == "--history"})
		}
	}
	for name, value := range env {
		if strings.HasPrefix(value, "/") {
			uses = append(uses, pathUse{"environment variable " + name, value, name == "TMPDIR" || name == "XDG_STATE_HOME"})
		}
	}
	for _, u := range uses {
		m, ok := mountOf(u.path)
		switch {
		case !ok:
			fail("Deployment: %s is %s, which is under no mountPath (the root filesystem is read-only)", u.what, u.path)
		case u.write && m.ReadOnly:
			fail("Deployment: %s is %s, in the read-only mount %s", u.what, u.path, m.MountPath)
		case u.write && volumes[m.Name].EmptyDir == nil:
			fail("Deployment: %s is %s, in volume %s, which is not an emptyDir", u.what, u.path, m.Name)
		}
	}

	// Every Secret mounted is written by a ServiceBinding of a defined ServiceInstance, or made by
	// the README's steps; a binding file named in --binding is the key the binding writes.
	writers := map[string]*serviceBinding{}
	for name, b := range k.bindings {
		if _, ok := k.instances[b.Spec.ServiceInstanceName]; !ok {
			fail("ServiceBinding %s binds ServiceInstance %s, which is not defined", name, b.Spec.ServiceInstanceName)
		}
		writers[cmp.Or(b.Spec.SecretName, name)] = b
	}
	for _, v := range pod.Volumes {
		if v.Secret == nil {
			continue
		}
		name := v.Secret.SecretName
		b, written := writers[name]
		if !written && !bytes.Contains(readme, []byte("create secret generic "+name)) {
			fail("Deployment: Secret %s is written by no ServiceBinding and made by no step of the README", name)
		}
		for _, f := range flags {
			m, ok := mountOf(f.value)
			if f.name != "--binding" || !ok || m.Name != v.Name || f.value == m.MountPath {
				continue
			}
			file := strings.TrimPrefix(f.value, strings.TrimSuffix(m.MountPath, "/")+"/")
			if written && b.Spec.SecretKey != "" && file != b.Spec.SecretKey {
				fail("Deployment: --binding %s, but ServiceBinding %s writes the key %s", f.value, b.Metadata.Name, b.Spec.SecretKey)
			}
			if !bytes.Contains(readme, []byte(name+" --from-file="+file+"=")) {
				fail("Deployment: --binding %s, but the README stores no file %s in the Secret %s", f.value, file, name)
			}
		}
	}
	plans := map[string]string{}
	for _, inst := range k.instances {
		plans[inst.Spec.ServiceOfferingName] = inst.Spec.ServicePlanName
		if inst.Spec.ServiceOfferingName == "xsuaa" && !sameJSON(sec, inst.Spec.Parameters) {
			fail("ServiceInstance %s: parameters differ from cf/xs-security.json: %s", inst.Metadata.Name, short(inst.Spec.Parameters))
		}
	}
	if plans["xsuaa"] != "application" {
		fail("no xsuaa instance of plan application (plans %v)", plans)
	}
	if p, ok := plans["connectivity"]; ok && p != "api_access" {
		fail("connectivity instance of plan %s: the server reads the plan api_access", p)
	}
	if b, ok := k.bindings["mcp-xsuaa-binding"]; !ok || !slices.ContainsFunc(flags, func(f flag) bool {
		m, ok := mountOf(f.value)
		return f.name == "--xsuaa-binding" && ok && volumes[m.Name].Secret != nil && volumes[m.Name].Secret.SecretName == cmp.Or(b.Spec.SecretName, b.Metadata.Name)
	}) {
		fail("--xsuaa-binding does not name the mount of the xsuaa binding's Secret")
	}

	// The Service reaches the pods' port; the APIRule reaches the Service.
	svc, ok := k.services[appName]
	if !ok {
		return append(errs, fmt.Errorf("no Service %s", appName))
	}
	if !subset(svc.Spec.Selector, dep.Spec.Template.Labels) || len(svc.Spec.Selector) == 0 {
		fail("Service: the selector %v does not select the pods %v", svc.Spec.Selector, dep.Spec.Template.Labels)
	}
	for _, p := range svc.Spec.Ports {
		checkPort("Service port "+p.Name+" targetPort", p.TargetPort)
	}
	rule, ok := k.apiRules[appName]
	if !ok {
		return append(errs, fmt.Errorf("no APIRule %s", appName))
	}
	if rule.Spec.Service.Name != svc.Name || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == rule.Spec.Service.Port }) {
		fail("APIRule: service %s:%d is not the Service %s's port", rule.Spec.Service.Name, rule.Spec.Service.Port, svc.Name)
	}
	var published []string
	for _, r := range rule.Spec.Rules {
		published = append(published, r.Path)
		if !slices.Contains(publicPaths, r.Path) {
			fail("APIRule: path %s is published; only %v are for clients (/healthz, /readyz and /metrics stay in the cluster)", r.Path, publicPaths)
		}
		if !r.NoAuth {
			fail("APIRule: path %s is not noAuth; the server answers 401 with its OAuth metadata itself", r.Path)
		}
	}
	for _, p := range publicPaths[:2] {
		if !slices.Contains(published, p) {
			fail("APIRule: %s is not published (published: %v)", p, published)
		}
	}
	var ruleOrigins []string
	for _, o := range rule.Spec.CorsPolicy.AllowOrigins {
		exact, ok := o["exact"]
		if !ok {
			fail("APIRule: corsPolicy origin %v is not exact; the server allows exact origins only (--allowed-origin)", o)
		}
		ruleOrigins = append(ruleOrigins, exact)
	}
	var serverOrigins []string
	for _, f := range flags {
		if f.name == "--allowed-origin" {
			serverOrigins = append(serverOrigins, f.value)
		}
	}
	slices.Sort(ruleOrigins)
	slices.Sort(serverOrigins)
	if !slices.Equal(ruleOrigins, serverOrigins) {
		fail("APIRule corsPolicy allows the origins %v, the server (--allowed-origin) %v: a browser is let through by one and refused by the other", ruleOrigins, serverOrigins)
	}
	return errs
}

// flag is one --name value pair of a container's arguments.
type flag struct{ name, value string }

// parseArgs reads --name value and --name=value pairs.
func parseArgs(args []string) []flag {
	var out []flag
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		if name, value, ok := strings.Cut(a, "="); ok {
			out = append(out, flag{name, value})
			continue
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			out = append(out, flag{a, args[i+1]})
			i++
		}
	}
	return out
}

// portMatches reports whether a probe's or Service's port names a port of the container.
func portMatches(port intstr.IntOrString, ports []corev1.ContainerPort) bool {
	return slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool {
		if port.Type == intstr.String {
			return p.Name != "" && p.Name == port.StrVal
		}
		return p.ContainerPort == port.IntVal
	})
}

// subset reports whether every label of sel is in labels.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
