package binding

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	cfenv "github.com/cloudfoundry-community/go-cfenv"
)

// Options says where Load looks for bindings.
type Options struct {
	Paths   []string // --binding values, PATH or NAME=PATH: a service key file or (Kyma) folder
	Environ []string // the environment, as os.Environ returns it; Load never reads the process's own
}

// Result is what Load found in the first source present: every binding, usable, skipped or broken.
type Result struct {
	Usable  []*Binding // the valid bindings, ready for a client
	Skipped []Skipped  // Connectivity bindings of another plan (lite), with the reason
	Broken  []*Error   // bindings that cannot be used (unreadable, not JSON, invalid), each with why

	ignored []string // other services, described when a source holds nothing usable
	err     error
}

// Err returns a clash of names or, when no binding is usable, why (wrapping ErrNotFound for a
// source without any broken one). A broken binding beside usable ones is no error.
func (r *Result) Err() error { return r.err }

// Load finds the Connectivity service bindings in the first source present, read once: opts.Paths
// (else CONNECTIVITY_BINDING), VCAP_SERVICES (or VCAP_SERVICES_FILE_PATH) on Cloud Foundry, or the
// binding folders under SERVICE_BINDING_ROOT (Kyma). In VCAP_SERVICES and folders of folders, it
// takes the entries labelled or tagged connectivity or holding a connectivity_service.
func Load(opts Options) *Result {
	env := cfenv.Env(opts.Environ)
	paths := opts.Paths
	if len(paths) == 0 && env["CONNECTIVITY_BINDING"] != "" {
		paths = []string{env["CONNECTIVITY_BINDING"]}
	}
	var sources []func(o *Result) string
	switch root := env["SERVICE_BINDING_ROOT"]; {
	case len(paths) > 0:
		for _, arg := range paths {
			sources = append(sources, func(o *Result) string { return o.loadArg(arg) })
		}
	case env["VCAP_SERVICES_FILE_PATH"] != "" || strings.TrimSpace(env["VCAP_SERVICES"]) != "":
		sources = append(sources, func(o *Result) string { return o.loadVCAP(env) })
	case root != "":
		sources = append(sources, func(o *Result) string { return o.loadDir(root, "SERVICE_BINDING_ROOT ", false) })
	}
	return gather(sources...)
}

// Parse reads one service key file: the credentials object (`cf service-key`), the same wrapped in
// {"credentials": …} (`btp get services/binding`), or a VCAP_SERVICES document, bare or under
// "VCAP_SERVICES" (default-env.json). source becomes Binding.Source; its base name names a bare key.
func Parse(data []byte, source string) *Result {
	return gather(func(o *Result) string {
		o.parseDocument(data, meta{name: baseName(strings.TrimPrefix(source, "file ")), source: source})
		return source
	})
}

// gather reads each source into a Result and joins them, with err as Result.Err describes.
func gather(sources ...func(o *Result) (source string)) *Result {
	r, names := &Result{}, make(map[string]string)
	var problems []error
	claim := func(name, source string) {
		if first, taken := names[name]; taken && r.err == nil {
			r.err = fmt.Errorf("two bindings are named %q, from %s and from %s: "+
				"give one another name with --binding NAME=PATH", name, first, source)
		}
		names[name] = source
	}
	for _, read := range sources {
		o := &Result{}
		source := read(o)
		r.Usable, r.Skipped, r.Broken = append(r.Usable, o.Usable...), append(r.Skipped, o.Skipped...), append(r.Broken, o.Broken...)
		for _, b := range o.Usable {
			claim(b.Name, b.Source)
		}
		for _, e := range o.Broken {
			claim(e.Name, e.Source)
			problems = append(problems, e)
		}
		if len(o.Usable) > 0 || len(o.Broken) > 0 {
			continue
		}
		var why []string
		for _, s := range o.Skipped {
			why = append(why, fmt.Sprintf("skipped %q: %s", s.Name, s.Reason))
		}
		if len(o.ignored) > 0 {
			why = append(why, "ignored other services: "+strings.Join(o.ignored, ", "))
		}
		problems = append(problems, fmt.Errorf("%s has no usable connectivity binding (%s): %w",
			source, cmp.Or(strings.Join(why, "; "), "it holds no services"), ErrNotFound))
	}
	if r.err == nil && len(r.Usable) == 0 {
		r.err = cmp.Or(errors.Join(problems...), ErrNotFound)
	}
	return r
}

// meta is what a source tells of a binding besides its credentials; Reload reads path again.
type meta struct{ name, source, plan, path string }

// fail records a problem with a source or binding as a whole.
func (r *Result) fail(m meta, problem string) {
	r.Broken = append(r.Broken, &Error{Name: m.name, Source: m.source, Problems: []string{problem}})
}

// NameRunes are the characters a binding name given as NAME in --binding NAME=PATH may hold: the
// characters of Kyma binding folder names (DNS labels) and of the usual service key names, and
// nothing a shell or a log line would split (no space, no "/", no "=").
const NameRunes = "._-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// CheckName says why name cannot be the NAME of --binding NAME=PATH, or returns nil.
func CheckName(name string) error {
	if name == "" || strings.Trim(name, NameRunes) != "" {
		return fmt.Errorf("%q is not a binding name: a NAME in --binding NAME=PATH is one or more letters, digits, '.', '_' or '-' (no spaces), such as prod or eu10-dev", name)
	}
	return nil
}

// loadArg loads PATH or NAME=PATH and returns the source; NAME renames one binding, prefixes several.
func (r *Result) loadArg(arg string) string {
	name, path, ok := strings.Cut(arg, "=")
	if _, err := os.Stat(arg); !ok || path == "" || err == nil {
		name, path = "", arg // not a name, or a path that contains "="
	} else if err := CheckName(name); err != nil {
		m := meta{name: baseName(path), source: "file " + arg}
		r.fail(m, err.Error()+"; nor is the whole argument a file or folder")
		return m.source
	}
	source := r.loadPath(path)
	n := len(r.Usable) + len(r.Broken) + len(r.Skipped)
	rename := func(own *string) {
		if name != "" && n > 1 {
			*own = name + "/" + *own
		} else if name != "" {
			*own = name
		}
	}
	for _, b := range r.Usable {
		rename(&b.Name)
	}
	for _, e := range r.Broken {
		rename(&e.Name)
	}
	for i := range r.Skipped {
		rename(&r.Skipped[i].Name)
	}
	return source
}

// Reload reads the binding's file or Kyma folder again and returns the binding of the same name,
// validated; one from VCAP_SERVICES (which changes only with a restart) or Parse is returned as is.
func (b *Binding) Reload() (*Binding, error) {
	if b.path == "" {
		return b, nil
	}
	r := &Result{}
	r.loadPath(b.path)
	var errs []error
	for _, nb := range r.Usable {
		if nb.own == b.own {
			nb.Name, nb.Source = b.Name, b.Source // as NAME=PATH named it, and as found
			return nb, nil
		}
	}
	for _, e := range r.Broken {
		if e.Name == b.own {
			e.Name, e.Source = b.Name, b.Source
		}
		errs = append(errs, e)
	}
	for _, s := range r.Skipped {
		if s.Name == b.own {
			errs = append(errs, fmt.Errorf("binding %q (%s) can no longer be used: %s", b.Name, b.Source, s.Reason))
		}
	}
	return nil, cmp.Or(errors.Join(errs...), fmt.Errorf("binding %q is no longer in %s", b.Name, b.Source))
}

// loadPath loads a service key file or a folder and returns the source.
func (r *Result) loadPath(path string) string {
	info, err := os.Stat(path)
	if err == nil && info.IsDir() {
		return r.loadDir(path, "folder ", false)
	}
	m := meta{name: baseName(path), source: "file " + path, path: path}
	if err == nil && !info.Mode().IsRegular() {
		r.fail(m, "not a regular file or folder")
	} else if data, err := readFile(path); err != nil {
		r.fail(m, "cannot read it: "+osProblem(err))
	} else {
		r.parseDocument(data, m)
	}
	return m.source
}

// loadVCAP reads the VCAP_SERVICES document of the environment and returns the source.
func (r *Result) loadVCAP(env map[string]string) string {
	m, data := meta{name: "VCAP_SERVICES", source: "VCAP_SERVICES"}, []byte(env["VCAP_SERVICES"])
	var services map[string]any
	var err error
	if path := env["VCAP_SERVICES_FILE_PATH"]; path != "" {
		m.source = "VCAP_SERVICES_FILE_PATH " + path
		data, err = readFile(path)
	}
	if err != nil {
		r.fail(m, "cannot read it: "+osProblem(err))
	} else if err = json.Unmarshal(data, &services); err != nil {
		r.fail(m, jsonProblem(err))
	} else {
		r.parseVCAP(services, m)
	}
	return m.source
}

// loadDir loads a binding folder (one file per key) or, unless nested, a folder of binding folders
// and *.json service keys; prefix starts each source. It returns dir's source.
func (r *Result) loadDir(dir, prefix string, nested bool) string {
	creds, jsonFiles, subdirs, err := readFolder(dir)
	m := meta{name: filepath.Base(dir), source: prefix + dir, path: dir}
	switch {
	case err != nil:
		r.fail(m, "cannot read it: "+osProblem(err))
	case hasAny(creds, append([]string{"type", "label", ".metadata"}, credentialKeys...)...):
		m.plan = firstString(creds, "plan")
		tags := strings.FieldsFunc(firstString(creds, "tags"), func(r rune) bool { return strings.ContainsRune(`[]",`, r) }) // JSON or a,b
		r.service(creds, m, nested, tags, firstString(creds, "label", "type"))
	case nested:
		r.ignored = append(r.ignored, fmt.Sprintf("%q (not a binding folder)", m.name))
	case len(subdirs) == 0 && len(jsonFiles) == 0:
		r.fail(m, "the folder holds no binding: expected one file per credential key "+
			"(such as clientid and connectivity_service), binding folders, or *.json service keys")
	default:
		for _, path := range jsonFiles {
			r.loadPath(path)
		}
		for _, sub := range subdirs {
			r.loadDir(filepath.Join(dir, sub), prefix, true)
		}
	}
	return m.source
}

// readFolder reads a folder's files as trimmed text by name, following Kubernetes' symbolic links
// and skipping dot files (..data) but .metadata, and lists its *.json files and subfolders.
func readFolder(dir string) (creds map[string]any, jsonFiles, subdirs []string, err error) {
	entries, err := os.ReadDir(dir)
	creds = make(map[string]any)
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(dir, e.Name())
		switch info, err := os.Stat(path); {
		case strings.HasPrefix(name, ".") && name != ".metadata", err == nil && !info.IsDir() && !info.Mode().IsRegular():
		case err == nil && info.IsDir():
			subdirs = append(subdirs, name)
		default: // a file, or one that cannot be read
			data, err := readFile(path)
			if err != nil {
				return nil, nil, nil, err
			}
			creds[name] = strings.TrimSpace(string(data)) // files often end with a newline
			if strings.EqualFold(filepath.Ext(name), ".json") {
				jsonFiles = append(jsonFiles, path)
			}
		}
	}
	return creds, jsonFiles, subdirs, err
}

// parseDocument parses a service key file or a VCAP_SERVICES document in a file.
func (r *Result) parseDocument(data []byte, m meta) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var doc any
	if len(data) == 0 {
		r.fail(m, "the file is empty; expected a service key (JSON)")
		return
	} else if err := json.Unmarshal(data, &doc); err != nil {
		r.fail(m, cmp.Or(textBeforeJSON(data), jsonProblem(err)))
		return
	}
	top, isObject := doc.(map[string]any)
	creds, hasCreds := top["credentials"]
	vcap, hasVCAP := top["VCAP_SERVICES"]
	if s, isText := vcap.(string); isText && !hasCreds { // `cf env` style: the document as JSON text
		if err := json.Unmarshal([]byte(s), &vcap); err != nil {
			r.fail(m, "VCAP_SERVICES: "+jsonProblem(err))
			return
		}
	}
	services, vcapIsObject := vcap.(map[string]any)
	credsMap, credsIsObject := creds.(map[string]any)
	switch {
	case !isObject:
		r.fail(m, "expected a JSON object (a service key), got "+kind(doc))
	case hasCreds && !credsIsObject:
		r.fail(m, "credentials: expected an object, got "+kind(creds))
	case hasCreds:
		m.name = cmp.Or(firstString(top, "name", "binding_name", "instance_name"), m.name)
		m.plan = firstString(top, "plan")
		r.credentials(credsMap, m)
	case hasVCAP && !vcapIsObject:
		r.fail(m, "VCAP_SERVICES: expected an object keyed by service label, got "+kind(vcap))
	case hasVCAP:
		r.parseVCAP(services, m)
	case hasAny(top, credentialKeys...):
		r.credentials(top, m)
	case len(top) > 0 && !slices.ContainsFunc(slices.Collect(maps.Values(top)), func(v any) bool {
		_, isList := v.([]any)
		return !isList && v != nil
	}):
		r.parseVCAP(top, m) // a VCAP_SERVICES document: every value a list (or null)
	default:
		r.fail(m, `not a service key: expected the credentials object (with clientid and connectivity_service), `+
			`{"credentials": {…}}, or a VCAP_SERVICES document`)
	}
}

// credentialKeys are keys that mark an object as a credentials object.
var credentialKeys = []string{"clientid", "clientsecret", "connectivity_service", "token_service_url", "certurl",
	"credential-type", "onpremise_proxy_host", "xsappname", "identityzone", "url"}

// parseVCAP reads VCAP_SERVICES with go-cfenv a label at a time: a malformed other one hides nothing.
func (r *Result) parseVCAP(services map[string]any, m meta) {
	for _, label := range slices.Sorted(maps.Keys(services)) {
		doc, _ := json.Marshal(map[string]any{label: services[label]}) // cannot fail: it came from encoding/json
		// cfenv.New insists on VCAP_APPLICATION being JSON; only the services are needed here.
		app, err := cfenv.New(map[string]string{"VCAP_APPLICATION": "{}", "VCAP_SERVICES": string(doc)})
		if err != nil && strings.EqualFold(label, "connectivity") { // mapstructure names fields and types, never values
			r.fail(meta{name: label, source: m.source}, fmt.Sprintf("the entries under label %q are not "+
				"Cloud Foundry service bindings: %s", label, strings.Join(strings.Fields(err.Error()), " ")))
		} else if err != nil {
			r.ignored = append(r.ignored, fmt.Sprintf("%q (malformed)", label))
		} else {
			for i, svc := range app.Services[label] {
				name := cmp.Or(svc.Name, svc.InstanceName, fmt.Sprintf("%s[%d]", label, i))
				r.service(svc.Credentials, meta{name: name, source: m.source, plan: svc.Plan, path: m.path}, true, svc.Tags, label, svc.Label)
			}
		}
	}
}

// service adds the binding of a VCAP_SERVICES entry or a binding folder. With only, one of
// another service (no connectivity_service, no label or tag connectivity) is listed in ignored.
func (r *Result) service(creds map[string]any, m meta, only bool, tags []string, labels ...string) {
	isConnectivity := func(l string) bool { return strings.EqualFold(strings.TrimSpace(l), "connectivity") }
	if _, api := creds["connectivity_service"]; only && !api && !slices.ContainsFunc(slices.Concat(tags, labels), isConnectivity) {
		r.ignored = append(r.ignored, fmt.Sprintf("%q (%s)", m.name, clip(cmp.Or(labels[0], "unknown type"), 40)))
		return
	}
	r.credentials(creds, m)
}

// credentials adds the binding of a credentials object: usable, skipped (no api_access) or broken.
func (r *Result) credentials(creds map[string]any, m meta) {
	var problems []string
	get := func(obj map[string]any, prefix, key string) string {
		switch v := obj[key].(type) {
		case nil:
		case string: // PEM text whose line breaks were pasted as the two characters \n is repaired
			if strings.Contains(v, "-----BEGIN") && !strings.Contains(v, "\n") {
				v = strings.ReplaceAll(v, `\n`, "\n")
			}
			return v
		default:
			problems = append(problems, fmt.Sprintf("%s%s: expected a string, got %s", prefix, key, kind(v)))
		}
		return ""
	}
	var api map[string]any
	switch v := creds["connectivity_service"].(type) {
	case nil:
	case map[string]any:
		api = v
	case string: // Kyma: JSON text in a file
		if json.Unmarshal([]byte(v), &api) != nil {
			problems = append(problems, "connectivity_service: expected a JSON object, got text that is not one")
		}
	default:
		problems = append(problems, "connectivity_service: expected an object, got "+kind(v))
	}
	if p, ok := api["scc_info_path"]; len(problems) == 0 && (!ok || p == nil || p == "") {
		reason := "no api_access (no connectivity_service.scc_info_path), "
		if m.plan != "" && !strings.EqualFold(m.plan, "api_access") {
			reason = fmt.Sprintf("plan %s has %s", clip(m.plan, 40), reason)
		}
		r.Skipped = append(r.Skipped, Skipped{Name: m.name, Source: m.source,
			Reason: reason + "the Cloud Connector API needs a Connectivity instance with plan api_access"})
		return
	}
	b := &Binding{Name: m.name, Source: m.source, Plan: m.plan, path: m.path, own: m.name,
		ClientID:            get(creds, "", "clientid"),
		ClientSecret:        Secret(get(creds, "", "clientsecret")),
		CredentialType:      get(creds, "", "credential-type"),
		TokenServiceURL:     get(creds, "", "token_service_url"),
		CertURL:             get(creds, "", "certurl"),
		Certificate:         get(creds, "", "certificate"),
		Key:                 Secret(get(creds, "", "key")),
		SubaccountID:        get(creds, "", "subaccount_id"),
		SubaccountSubdomain: get(creds, "", "subaccount_subdomain"),
		IdentityZone:        get(creds, "", "identityzone"),
		ServiceURL:          get(api, "connectivity_service.", "url"),
		SCCInfoPath:         get(api, "connectivity_service.", "scc_info_path"),
	}
	if b.TokenServiceURL == "" {
		b.TokenServiceURL = get(creds, "", "url") // the XSUAA URL; the same as token_service_url in SAP's bindings
	}
	if problems = b.problems(problems); len(problems) > 0 {
		r.Broken = append(r.Broken, &Error{Name: b.Name, Source: b.Source, Problems: problems})
	} else {
		r.Usable = append(r.Usable, b)
	}
}

// hasAny reports whether m holds any of keys.
func hasAny(m map[string]any, keys ...string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { _, ok := m[k]; return ok })
}

// firstString returns the first of keys whose value in m is a non-empty string.
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// kind names the JSON type of a value encoding/json decoded.
func kind(v any) string {
	t := fmt.Sprintf("%T", v)
	return cmp.Or(map[string]string{"<nil>": "null", "string": "a string", "float64": "a number", "bool": "a boolean",
		"map[string]interface {}": "an object", "[]interface {}": "a list"}[t], t)
}

// textBeforeJSON recognises a JSON document preceded by lines of text, such as the "Getting key …"
// line that `cf service-key` prints before the key, and says how to strip them; "" otherwise.
func textBeforeJSON(data []byte) string {
	start := bytes.IndexAny(data, "{[")
	if start <= 0 || !json.Valid(data[start:]) {
		return ""
	}
	lines := bytes.Count(data[:start], []byte("\n"))
	if bytes.HasPrefix(data, []byte("Getting key")) {
		return fmt.Sprintf("the file starts with the \"Getting key …\" line that cf service-key prints before the key: "+
			"delete the %d line(s) before the first \"{\", or write the file again with "+
			"cf service-key SERVICE_INSTANCE KEY_NAME | sed -n '/^{/,$p' > FILE", lines)
	}
	return fmt.Sprintf("the file has %d line(s) of text before the JSON: delete everything before the first \"%c\"", max(lines, 1), data[start])
}

// jsonProblem describes a JSON decoding error without quoting the document.
func jsonProblem(err error) string {
	if syntax := (*json.SyntaxError)(nil); errors.As(err, &syntax) {
		return fmt.Sprintf("not valid JSON (at byte %d): %v", syntax.Offset, err)
	}
	return "not valid JSON: " + err.Error()
}

// maxFileBytes bounds what is read from one file: service keys are a few kilobytes.
const maxFileBytes = 16 << 20

// readFile reads a file of at most maxFileBytes.
func readFile(path string) ([]byte, error) {
	if info, err := os.Stat(path); err == nil && info.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB, too large for a binding", path, maxFileBytes>>20)
	}
	return os.ReadFile(path)
}

// osProblem describes a file system error without repeating the path.
func osProblem(err error) string { return cmp.Or(errors.Unwrap(err), err).Error() }

// baseName names a binding after its file: the base name without extension.
func baseName(path string) string {
	base := filepath.Base(path)
	if name := strings.TrimSuffix(base, filepath.Ext(base)); name != "" && name != "." && name != string(filepath.Separator) {
		return name
	}
	return "service-key"
}
