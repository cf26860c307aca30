package binding

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	cfenv "github.com/cloudfoundry-community/go-cfenv"
)

// Options says where Load looks for bindings.
type Options struct {
	// Paths are the --binding values (repeatable), each PATH or NAME=PATH: a service key file, a
	// binding folder with one file per credential key (Kyma), or a folder of such files and
	// folders; NAME names the binding. When empty, CONNECTIVITY_BINDING is used the same way.
	Paths []string
	// Environ is the environment as os.Environ returns it ("KEY=value"). Load reads
	// CONNECTIVITY_BINDING, VCAP_SERVICES, VCAP_SERVICES_FILE_PATH and SERVICE_BINDING_ROOT from
	// it, never from the process environment.
	Environ []string
}

// Result is what Load found in the first source present: every binding, usable, skipped or broken.
type Result struct {
	// Usable are the valid bindings, ready for a client.
	Usable []*Binding
	// Skipped are Connectivity bindings of another plan (lite), with the reason.
	Skipped []Skipped
	// Broken are bindings that cannot be used: unreadable, not JSON, invalid; each lists why.
	Broken []*Error

	ignored  []string // other services, described when a source holds nothing usable
	problems []error  // Broken and the sources that held nothing usable, in source order
	err      error
}

// Err returns a clash of binding names, or, when no binding is usable, every broken binding and
// why each source held nothing usable (wrapping ErrNotFound); nil otherwise. A broken binding
// beside usable ones is not an error: the caller decides what to do with Result.Broken.
func (r *Result) Err() error { return r.err }

// Load finds the Connectivity service bindings to use. The first source present wins:
//
//  1. opts.Paths, else CONNECTIVITY_BINDING: service key files (see Parse), binding folders
//     with one file per credential key (Kyma), or folders of such files and folders;
//  2. VCAP_SERVICES (or the file named by VCAP_SERVICES_FILE_PATH) on Cloud Foundry: entries
//     labelled or tagged connectivity, and user-provided services with a connectivity_service;
//  3. the binding folders under SERVICE_BINDING_ROOT (Kubernetes service binding specification,
//     SAP BTP service operator) whose type or label is connectivity or that hold connectivity_service.
//
// Each source is read once; Result says what became of every binding found in it.
func Load(opts Options) *Result {
	env := cfenv.Env(opts.Environ)
	paths := opts.Paths
	if len(paths) == 0 && env["CONNECTIVITY_BINDING"] != "" {
		paths = []string{env["CONNECTIVITY_BINDING"]}
	}
	r := &Result{}
	switch {
	case len(paths) > 0:
		for _, arg := range paths {
			o := &Result{}
			r.collect(o, o.loadArg(arg))
		}
	case env["VCAP_SERVICES_FILE_PATH"] != "" || strings.TrimSpace(env["VCAP_SERVICES"]) != "":
		o := &Result{}
		r.collect(o, o.loadVCAP(env))
	case env["SERVICE_BINDING_ROOT"] != "":
		o, root := &Result{}, env["SERVICE_BINDING_ROOT"]
		o.loadDir(root, "SERVICE_BINDING_ROOT ")
		r.collect(o, "SERVICE_BINDING_ROOT "+root)
	}
	return r.finish()
}

// Parse reads the contents of one service key file: the bare credentials object (what `cf
// service-key` prints), the same wrapped as {"credentials": {…}} (what `btp get
// services/binding` prints), a whole VCAP_SERVICES document, or an object holding one under
// "VCAP_SERVICES" (as in default-env.json). source becomes Binding.Source; its base name without
// extension names a bare service key. Entries of other services are ignored.
func Parse(data []byte, source string) *Result {
	o := &Result{}
	o.parseDocument(data, meta{name: baseName(strings.TrimPrefix(source, "file ")), source: source})
	r := &Result{}
	r.collect(o, source)
	return r.finish()
}

// collect adds what source yielded, o.
func (r *Result) collect(o *Result, source string) {
	r.Usable = append(r.Usable, o.Usable...)
	r.Skipped = append(r.Skipped, o.Skipped...)
	r.Broken = append(r.Broken, o.Broken...)
	for _, e := range o.Broken {
		r.problems = append(r.problems, e)
	}
	if len(o.Usable) == 0 && len(o.Broken) == 0 {
		r.problems = append(r.problems, o.none(source))
	}
}

// finish checks that names are unique and sets err.
func (r *Result) finish() *Result {
	sources := make(map[string]string)
	for _, b := range r.Usable {
		r.claim(sources, b.Name, b.Source)
	}
	for _, e := range r.Broken {
		r.claim(sources, e.Name, e.Source)
	}
	if r.err == nil && len(r.Usable) == 0 {
		r.err = ErrNotFound
		if len(r.problems) > 0 {
			r.err = errors.Join(r.problems...)
		}
	}
	return r
}

// claim records that source holds a binding called name; a second claim is a clash.
func (r *Result) claim(sources map[string]string, name, source string) {
	if first, taken := sources[name]; taken && r.err == nil {
		r.err = fmt.Errorf("two bindings are named %q, from %s and from %s: "+
			"give one another name with --binding NAME=PATH", name, first, source)
	}
	sources[name] = source
}

// fail records a problem with a source or binding as a whole.
func (r *Result) fail(m meta, problem string) {
	r.Broken = append(r.Broken, &Error{Name: m.name, Source: m.source, Problems: []string{problem}})
}

// none explains why source holds no usable binding.
func (r *Result) none(source string) error {
	var why []string
	for _, s := range r.Skipped {
		why = append(why, fmt.Sprintf("skipped %q: %s", s.Name, s.Reason))
	}
	if len(r.ignored) > 0 {
		why = append(why, "ignored other services: "+strings.Join(r.ignored, ", "))
	}
	if len(why) == 0 {
		why = append(why, "it holds no services")
	}
	return fmt.Errorf("%s has no usable connectivity binding (%s): %w", source, strings.Join(why, "; "), ErrNotFound)
}

// meta is what a source knows about a binding besides its credentials.
type meta struct {
	name, source, plan string
	origin             origin
}

// origin is where Reload reads a binding again.
type origin struct {
	path   string // "" when the binding cannot be re-read (VCAP_SERVICES, Parse)
	folder bool   // a binding folder, one file per key, rather than a service key file
	own    string // the binding's name in that file or folder (before NAME=PATH renamed it)
}

// loadArg loads a --binding value, PATH or NAME=PATH. NAME=PATH names the binding the path
// holds NAME, or, when it holds several, NAME/name. It returns the source.
func (r *Result) loadArg(arg string) string {
	name, path, ok := strings.Cut(arg, "=")
	if !ok || name == "" || path == "" || strings.TrimFunc(name, isNameRune) != "" {
		name, path = "", arg
	} else if _, err := os.Stat(arg); err == nil {
		name, path = "", arg // a path that contains "="
	}
	source := r.loadPath(path)
	if name != "" {
		n := len(r.Usable) + len(r.Broken) + len(r.Skipped)
		rename := func(own string) string {
			if n == 1 {
				return name
			}
			return name + "/" + own
		}
		for _, b := range r.Usable {
			b.Name = rename(b.Name)
		}
		for _, e := range r.Broken {
			e.Name = rename(e.Name)
		}
		for i := range r.Skipped {
			r.Skipped[i].Name = rename(r.Skipped[i].Name)
		}
	}
	return source
}

// isNameRune reports whether r may stand in a binding name given as NAME=PATH.
func isNameRune(r rune) bool {
	return r == '.' || r == '_' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
}

// loadPath loads a service key file or a folder and returns the source.
func (r *Result) loadPath(path string) string {
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		r.loadDir(path, "folder ")
		return "folder " + path
	case err != nil:
		r.fail(fileMeta(path), "cannot read it: "+osProblem(err))
	case !info.Mode().IsRegular():
		r.fail(fileMeta(path), "not a regular file or folder")
	default:
		r.loadFile(path)
	}
	return "file " + path
}

// loadFile reads and parses a service key file.
func (r *Result) loadFile(path string) {
	if data, err := readFile(path); err != nil {
		r.fail(fileMeta(path), "cannot read it: "+osProblem(err))
	} else {
		r.parseDocument(data, fileMeta(path))
	}
}

// fileMeta describes the binding in a service key file.
func fileMeta(path string) meta {
	return meta{name: baseName(path), source: "file " + path, origin: origin{path: path}}
}

// loadVCAP reads the VCAP_SERVICES document of the environment and returns the source.
func (r *Result) loadVCAP(env map[string]string) string {
	m, data := meta{name: "VCAP_SERVICES", source: "VCAP_SERVICES"}, []byte(env["VCAP_SERVICES"])
	var err error
	if path := env["VCAP_SERVICES_FILE_PATH"]; path != "" {
		m.source = "VCAP_SERVICES_FILE_PATH " + path
		if data, err = readFile(path); err != nil {
			r.fail(m, "cannot read it: "+osProblem(err))
			return m.source
		}
	}
	var services map[string]any
	if err = json.Unmarshal(data, &services); err != nil {
		r.fail(m, jsonProblem(err))
	} else {
		r.parseVCAP(services, m)
	}
	return m.source
}

// loadDir loads a folder: a binding folder (one file per credential key), or a folder of binding
// folders such as $SERVICE_BINDING_ROOT, where folders of other services are ignored, and of
// service key files named *.json. prefix starts the source of each binding folder ("folder ",
// "SERVICE_BINDING_ROOT ").
func (r *Result) loadDir(dir, prefix string) {
	m := meta{name: filepath.Base(dir), source: prefix + dir}
	d, err := readFolder(dir)
	switch {
	case err != nil:
		r.fail(m, "cannot read it: "+osProblem(err))
	case d.isBinding():
		r.folder(d, dir, prefix+dir, false)
	case len(d.subdirs) > 0 || slices.ContainsFunc(d.names, isJSONName):
		for _, name := range d.names {
			if isJSONName(name) {
				r.parseDocument([]byte(d.files[name]), fileMeta(filepath.Join(dir, name)))
			}
		}
		for _, sub := range d.subdirs {
			path := filepath.Join(dir, sub)
			sd, err := readFolder(path)
			switch {
			case err != nil:
				r.fail(meta{name: sub, source: prefix + path}, "cannot read it: "+osProblem(err))
			case !sd.isBinding():
				r.ignored = append(r.ignored, fmt.Sprintf("%q (not a binding folder)", sub))
			default:
				r.folder(sd, path, prefix+path, true)
			}
		}
	default:
		r.fail(m, "the folder holds no binding: expected one file per credential key "+
			"(such as clientid and connectivity_service), binding folders, or *.json service keys")
	}
}

// isJSONName reports whether a file name ends in .json.
func isJSONName(name string) bool { return strings.EqualFold(filepath.Ext(name), ".json") }

// folder is what a folder holds: file contents by name, and subfolder names.
type folder struct {
	files   map[string]string
	names   []string // of files, sorted
	subdirs []string
}

// isBinding reports whether the folder holds a binding rather than binding folders.
func (d folder) isBinding() bool {
	for _, k := range append([]string{"type", "label", ".metadata"}, credentialKeys...) {
		if _, ok := d.files[k]; ok {
			return true
		}
	}
	return false
}

// readFolder reads the files of a folder, following the symbolic links Kubernetes mounts
// secrets with and skipping its "..data" entries and other dot files except .metadata.
func readFolder(dir string) (folder, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return folder{}, err
	}
	d := folder{files: make(map[string]string)}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") && name != ".metadata" {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			return folder{}, err
		}
		switch {
		case info.IsDir():
			d.subdirs = append(d.subdirs, name)
		case info.Mode().IsRegular():
			data, err := readFile(path)
			if err != nil {
				return folder{}, err
			}
			d.files[name] = string(data)
			d.names = append(d.names, name)
		}
	}
	return d, nil
}

// folder turns binding folder d into a binding and adds it to r. With onlyConnectivity, a
// folder of another service is listed in r.ignored instead. The SAP BTP service operator's
// optional .metadata file marks the keys whose files hold JSON text.
func (r *Result) folder(d folder, dir, source string, onlyConnectivity bool) {
	creds := make(map[string]any, len(d.files))
	for k, v := range d.files {
		creds[k] = strings.TrimSpace(v) // files often end with a newline
	}
	type property struct{ Name, Format string }
	var md struct{ MetaDataProperties, CredentialProperties []property }
	if json.Unmarshal([]byte(d.files[".metadata"]), &md) == nil {
		for _, p := range append(md.MetaDataProperties, md.CredentialProperties...) {
			var v any
			if s, ok := creds[p.Name].(string); ok && strings.EqualFold(p.Format, "json") && json.Unmarshal([]byte(s), &v) == nil {
				creds[p.Name] = v
			}
		}
	}
	name, label := filepath.Base(dir), firstString(creds, "label", "type")
	if onlyConnectivity && !isConnectivity(creds, creds["tags"], label) {
		r.ignored = append(r.ignored, fmt.Sprintf("%q (%s)", name, clip(cmp.Or(label, "unknown type"), 40, false)))
		return
	}
	r.credentials(creds, meta{name: name, source: source, plan: firstString(creds, "plan"), origin: origin{path: dir, folder: true}})
}

// isConnectivity reports whether a binding is one of the Connectivity service: its credentials
// hold connectivity_service, a label says connectivity, or its tags (a list, or a file's JSON text
// or comma-separated text) do.
func isConnectivity(creds map[string]any, tags any, labels ...string) bool {
	if s, ok := tags.(string); ok && json.Unmarshal([]byte(s), &tags) != nil {
		tags = strings.Split(s, ",")
	}
	switch list := tags.(type) {
	case []string:
		labels = append(labels, list...)
	case []any:
		for _, t := range list {
			if s, ok := t.(string); ok {
				labels = append(labels, s)
			}
		}
	}
	_, hasAPI := creds["connectivity_service"]
	return hasAPI || slices.ContainsFunc(labels, func(l string) bool { return strings.EqualFold(strings.TrimSpace(l), "connectivity") })
}

// maxFileBytes bounds what is read from one file: service keys are a few kilobytes.
const maxFileBytes = 16 << 20

// readFile reads a file of at most maxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err == nil && len(data) > maxFileBytes {
		err = fmt.Errorf("%s is larger than %d MiB, too large for a binding", path, maxFileBytes>>20)
	}
	return data, err
}

// osProblem describes a file system error without repeating the path.
func osProblem(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// baseName names a binding after its file: the base name without extension.
func baseName(path string) string {
	base := filepath.Base(path)
	if name := strings.TrimSuffix(base, filepath.Ext(base)); name != "" && name != "." && name != string(filepath.Separator) {
		return name
	}
	return "service-key"
}

// parseDocument parses a service key file or a VCAP_SERVICES document in a file.
func (r *Result) parseDocument(data []byte, m meta) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		r.fail(m, "the file is empty; expected a service key (JSON)")
		return
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		r.fail(m, jsonProblem(err))
		return
	}
	top, ok := doc.(map[string]any)
	if !ok {
		r.fail(m, "expected a JSON object (a service key), got "+kind(doc))
		return
	}
	if creds, ok := top["credentials"]; ok {
		credsMap, ok := creds.(map[string]any)
		if !ok {
			r.fail(m, "credentials: expected an object, got "+kind(creds))
			return
		}
		m.name = cmp.Or(firstString(top, "name", "binding_name", "instance_name"), m.name)
		m.plan = firstString(top, "plan")
		r.credentials(credsMap, m)
		return
	}
	if v, ok := top["VCAP_SERVICES"]; ok {
		if s, isString := v.(string); isString { // `cf env` style: the document as JSON text
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				r.fail(m, "VCAP_SERVICES: "+jsonProblem(err))
				return
			}
		}
		services, ok := v.(map[string]any)
		if !ok {
			r.fail(m, "VCAP_SERVICES: expected an object keyed by service label, got "+kind(v))
			return
		}
		r.parseVCAP(services, m)
		return
	}
	for _, k := range credentialKeys {
		if _, ok := top[k]; ok {
			r.credentials(top, m)
			return
		}
	}
	allLists := len(top) > 0
	for _, v := range top {
		if _, ok := v.([]any); !ok && v != nil {
			allLists = false
		}
	}
	if allLists { // a VCAP_SERVICES document
		r.parseVCAP(top, m)
		return
	}
	r.fail(m, `not a service key: expected the credentials object (with clientid and connectivity_service), `+
		`{"credentials": {…}}, or a VCAP_SERVICES document`)
}

// credentialKeys are keys that mark an object as a credentials object.
var credentialKeys = []string{
	"clientid", "clientsecret", "connectivity_service", "token_service_url", "certurl",
	"credential-type", "onpremise_proxy_host", "xsappname", "identityzone", "url",
}

// parseVCAP reads a VCAP_SERVICES document with go-cfenv. Each label is decoded on its own so
// that one malformed entry of another service does not hide the connectivity binding. Entries of
// other services are listed in ignored.
func (r *Result) parseVCAP(services map[string]any, m meta) {
	labels := make([]string, 0, len(services))
	for label := range services {
		labels = append(labels, label)
	}
	slices.Sort(labels)
	for _, label := range labels {
		doc, _ := json.Marshal(map[string]any{label: services[label]}) // cannot fail: it came from encoding/json
		// cfenv.New insists on VCAP_APPLICATION being JSON; this reader needs the services only.
		app, err := cfenv.New(map[string]string{"VCAP_APPLICATION": "{}", "VCAP_SERVICES": string(doc)})
		if err != nil {
			if strings.EqualFold(label, "connectivity") { // mapstructure's messages name fields and types, never values
				r.fail(meta{name: label, source: m.source}, fmt.Sprintf("the entries under label %q are not "+
					"Cloud Foundry service bindings: %s", label, strings.Join(strings.Fields(err.Error()), " ")))
			} else {
				r.ignored = append(r.ignored, fmt.Sprintf("%q (malformed)", label))
			}
			continue
		}
		for i, svc := range app.Services[label] {
			name := cmp.Or(svc.Name, svc.InstanceName, fmt.Sprintf("%s[%d]", label, i))
			if !isConnectivity(svc.Credentials, svc.Tags, label, svc.Label) {
				r.ignored = append(r.ignored, fmt.Sprintf("%q (%s)", name, label))
				continue
			}
			r.credentials(svc.Credentials, meta{name: name, source: m.source, plan: svc.Plan, origin: m.origin})
		}
	}
}

// credentials turns a credentials object into a binding and adds it to r: usable when valid,
// skipped when it has no api_access, broken otherwise.
func (r *Result) credentials(creds map[string]any, m meta) {
	var problems []string
	get := func(obj map[string]any, prefix, key string) string {
		switch v := obj[key].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			problems = append(problems, fmt.Sprintf("%s%s: expected a string, got %s", prefix, key, kind(v)))
			return ""
		}
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
			reason = fmt.Sprintf("plan %s has no api_access (no connectivity_service.scc_info_path), ", clip(m.plan, 40, false))
		}
		r.Skipped = append(r.Skipped, Skipped{Name: m.name, Source: m.source,
			Reason: reason + "the Cloud Connector API needs a Connectivity instance with plan api_access"})
		return
	}
	m.origin.own = m.name
	b := &Binding{Name: m.name, Source: m.source, Plan: m.plan, origin: m.origin,
		ClientID:            get(creds, "", "clientid"),
		ClientSecret:        Secret(get(creds, "", "clientsecret")),
		CredentialType:      get(creds, "", "credential-type"),
		TokenServiceURL:     get(creds, "", "token_service_url"),
		CertURL:             get(creds, "", "certurl"),
		Certificate:         pemText(get(creds, "", "certificate")),
		Key:                 Secret(pemText(get(creds, "", "key"))),
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
		return
	}
	r.Usable = append(r.Usable, b)
}

// pemText repairs PEM text whose line breaks were pasted as the two characters \n, a common
// accident with user-provided services and environment variables.
func pemText(s string) string {
	if strings.Contains(s, "-----BEGIN") && !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		return strings.ReplaceAll(s, `\n`, "\n")
	}
	return s
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

// kind names the JSON type of a decoded value.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// jsonProblem describes a JSON decoding error without quoting the document.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("not valid JSON (at byte %d): %v", syntax.Offset, err)
	}
	return "not valid JSON: " + err.Error()
}
