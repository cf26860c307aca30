package connectivity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	cfenv "github.com/cloudfoundry-community/go-cfenv"
)

// LoadOptions says where LoadBindings looks for bindings.
type LoadOptions struct {
	// Paths are service key files or binding folders, from --binding (repeatable); one binding
	// (subaccount) or more per path. When empty, the path in CONNECTIVITY_BINDING is used.
	Paths []string
	// Environ is the environment as os.Environ returns it ("KEY=value"). LoadBindings reads
	// CONNECTIVITY_BINDING, VCAP_SERVICES, VCAP_SERVICES_FILE_PATH and SERVICE_BINDING_ROOT from
	// it, never from the process environment.
	Environ []string
}

// LoadBindings finds the Connectivity service bindings to use. The first source present wins:
//
//  1. opts.Paths, else the path in CONNECTIVITY_BINDING: service key files (see ParseBinding)
//     or binding folders with one file per credential key (Kyma), or folders of such folders;
//  2. VCAP_SERVICES (or the file named by VCAP_SERVICES_FILE_PATH) on Cloud Foundry: entries
//     labelled or tagged connectivity, and user-provided services with a connectivity_service;
//  3. the binding folders under SERVICE_BINDING_ROOT (Kubernetes service binding specification,
//     SAP BTP service operator) whose type or label is connectivity or that hold connectivity_service.
//
// A source that is present but holds no usable binding is an error wrapping ErrNoBinding that
// says what it held instead; so is each path that holds none. Connectivity bindings without
// api_access are returned as Skipped; invalid bindings are reported as *BindingError values
// (joined), while the valid ones are still returned. With no source at all the error is ErrNoBinding.
func LoadBindings(opts LoadOptions) ([]*Binding, []Skipped, error) {
	env := cfenv.Env(opts.Environ)
	paths := opts.Paths
	if len(paths) == 0 && env["CONNECTIVITY_BINDING"] != "" {
		paths = []string{env["CONNECTIVITY_BINDING"]}
	}
	switch {
	case len(paths) > 0:
		var all bindingResult
		for _, path := range paths {
			r, source := bindingLoadPath(path)
			if len(r.bindings) == 0 && len(r.errs) == 0 {
				r.errs = append(r.errs, r.none(source))
			}
			all.add(r)
		}
		return all.bindings, all.skipped, errors.Join(all.errs...)
	case env["VCAP_SERVICES_FILE_PATH"] != "" || strings.TrimSpace(env["VCAP_SERVICES"]) != "":
		r, source := bindingLoadVCAP(env)
		return r.result(source)
	case env["SERVICE_BINDING_ROOT"] != "":
		r, source := bindingLoadDir(env["SERVICE_BINDING_ROOT"], "SERVICE_BINDING_ROOT ")
		return r.result(source)
	default:
		return nil, nil, ErrNoBinding
	}
}

// bindingMaxFileBytes bounds what is read from one file: service keys are a few kilobytes.
const bindingMaxFileBytes = 16 << 20

// bindingOriginKind says which kind of source a binding can be re-read from.
type bindingOriginKind int

const (
	bindingOriginNone   bindingOriginKind = iota // VCAP_SERVICES or ParseBinding: not re-read
	bindingOriginFile                            // a service key file
	bindingOriginFolder                          // a binding folder, one file per key
)

// bindingOrigin is where Reload reads a binding again.
type bindingOrigin struct {
	kind bindingOriginKind
	path string
	// ordinal counts the earlier valid bindings of the same name in the source.
	ordinal int
}

// bindingLoadPath loads a --binding path: a service key file or a folder.
func bindingLoadPath(path string) (bindingResult, string) {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		var r bindingResult
		source := "file " + path
		r.fail(bindingMeta{name: bindingBaseName(path), source: source}, "cannot read it: "+bindingOSProblem(err))
		return r, source
	case info.IsDir():
		return bindingLoadDir(path, "folder ")
	case !info.Mode().IsRegular():
		var r bindingResult
		source := "file " + path
		r.fail(bindingMeta{name: bindingBaseName(path), source: source}, "not a regular file or folder")
		return r, source
	default:
		return bindingLoadFile(path), "file " + path
	}
}

// bindingLoadFile reads and parses a service key file.
func bindingLoadFile(path string) bindingResult {
	m := bindingFileMeta(path)
	data, err := bindingReadFile(path)
	if err != nil {
		var r bindingResult
		r.fail(m, "cannot read it: "+bindingOSProblem(err))
		return r
	}
	return bindingParseDocument(data, m)
}

// bindingFileMeta describes the binding in a service key file.
func bindingFileMeta(path string) bindingMeta {
	return bindingMeta{name: bindingBaseName(path), source: "file " + path, origin: bindingOrigin{kind: bindingOriginFile, path: path}}
}

// bindingLoadVCAP reads the VCAP_SERVICES document of the environment.
func bindingLoadVCAP(env map[string]string) (r bindingResult, source string) {
	source = "VCAP_SERVICES"
	data := []byte(env["VCAP_SERVICES"])
	if path := env["VCAP_SERVICES_FILE_PATH"]; path != "" {
		source = "VCAP_SERVICES_FILE_PATH " + path
		var err error
		if data, err = bindingReadFile(path); err != nil {
			r.fail(bindingMeta{name: "VCAP_SERVICES", source: source}, "cannot read it: "+bindingOSProblem(err))
			return r, source
		}
	}
	m := bindingMeta{name: "VCAP_SERVICES", source: source}
	var services map[string]any
	if err := json.Unmarshal(data, &services); err != nil {
		r.fail(m, bindingJSONProblem(err))
		return r, source
	}
	return bindingParseVCAP(services, m), source
}

// bindingLoadDir loads a folder: a binding folder (one file per credential key), or a folder of
// binding folders such as $SERVICE_BINDING_ROOT, where folders of other services are ignored,
// and of service key files named *.json. prefix starts the source of each binding folder
// ("folder ", "SERVICE_BINDING_ROOT ").
func bindingLoadDir(dir, prefix string) (r bindingResult, source string) {
	source = prefix + dir
	f, err := bindingReadFolder(dir)
	switch {
	case err != nil:
		r.fail(bindingMeta{name: filepath.Base(dir), source: source}, "cannot read it: "+bindingOSProblem(err))
	case f.isBinding():
		bindingFromFolder(dir, f, source, false, &r)
	case len(f.subdirs) > 0 || f.hasKeyFiles():
		for _, name := range f.names {
			if content, ok := f.files[name]; ok && strings.EqualFold(filepath.Ext(name), ".json") {
				r.add(bindingParseDocument([]byte(content), bindingFileMeta(filepath.Join(dir, name))))
			}
		}
		for _, sub := range f.subdirs {
			path := filepath.Join(dir, sub)
			sf, err := bindingReadFolder(path)
			if err != nil {
				r.fail(bindingMeta{name: sub, source: prefix + path}, "cannot read it: "+bindingOSProblem(err))
				continue
			}
			if !sf.isBinding() {
				r.ignored = append(r.ignored, fmt.Sprintf("%q (not a binding folder)", sub))
				continue
			}
			bindingFromFolder(path, sf, prefix+path, true, &r)
		}
	default:
		r.fail(bindingMeta{name: filepath.Base(dir), source: source}, "the folder holds no binding: expected "+
			"one file per credential key (such as clientid and connectivity_service), binding folders, or *.json service keys")
	}
	return r, source
}

// bindingFolder is what a binding folder holds: file contents by name, and subfolder names.
type bindingFolder struct {
	files   map[string]string
	names   []string // of files, sorted
	subdirs []string
}

// hasKeyFiles reports whether the folder holds *.json files.
func (f bindingFolder) hasKeyFiles() bool {
	for _, name := range f.names {
		if strings.EqualFold(filepath.Ext(name), ".json") {
			return true
		}
	}
	return false
}

// isBinding reports whether the folder holds a binding rather than binding folders.
func (f bindingFolder) isBinding() bool {
	for _, k := range append([]string{"type", "label", ".metadata"}, bindingCredentialKeys...) {
		if _, ok := f.files[k]; ok {
			return true
		}
	}
	return false
}

// bindingReadFolder reads the files of a folder, following the symbolic links Kubernetes mounts
// secrets with and skipping its "..data" entries and other dot files except .metadata.
func bindingReadFolder(dir string) (bindingFolder, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return bindingFolder{}, err
	}
	f := bindingFolder{files: make(map[string]string)}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") && name != ".metadata" {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			return bindingFolder{}, err
		}
		switch {
		case info.IsDir():
			f.subdirs = append(f.subdirs, name)
		case info.Mode().IsRegular():
			data, err := bindingReadFile(path)
			if err != nil {
				return bindingFolder{}, err
			}
			f.files[name] = string(data)
			f.names = append(f.names, name)
		}
	}
	return f, nil
}

// bindingFromFolder turns a binding folder into a binding and adds it to r. With onlyConnectivity,
// a folder of another service is listed in r.ignored instead.
func bindingFromFolder(dir string, f bindingFolder, source string, onlyConnectivity bool, r *bindingResult) {
	creds := make(map[string]any, len(f.files))
	for k, v := range f.files {
		creds[k] = strings.TrimSpace(v) // files often end with a newline
	}
	for _, k := range bindingMetadataJSONKeys(f.files[".metadata"]) {
		if s, ok := creds[k].(string); ok {
			var v any
			if json.Unmarshal([]byte(s), &v) == nil {
				creds[k] = v
			}
		}
	}
	name := filepath.Base(dir)
	label := bindingFirstString(creds, "label", "type")
	if onlyConnectivity {
		_, hasAPI := creds["connectivity_service"]
		if !hasAPI && !strings.EqualFold(label, "connectivity") && !bindingHasTag(bindingTags(creds["tags"]), "connectivity") {
			if label == "" {
				label = "unknown type"
			}
			r.ignored = append(r.ignored, fmt.Sprintf("%q (%s)", name, bindingClipRaw(label)))
			return
		}
	}
	m := bindingMeta{name: name, source: source, plan: bindingFirstString(creds, "plan"),
		origin: bindingOrigin{kind: bindingOriginFolder, path: dir}}
	bindingFromCredentials(creds, m, r)
}

// bindingMetadataJSONKeys returns the keys that the SAP BTP service operator's .metadata file
// marks as JSON, or none when the file is absent or unreadable (it is optional).
func bindingMetadataJSONKeys(metadata string) []string {
	type property struct{ Name, Format string }
	var md struct {
		MetaDataProperties   []property `json:"metaDataProperties"`
		CredentialProperties []property `json:"credentialProperties"`
	}
	if metadata == "" || json.Unmarshal([]byte(metadata), &md) != nil {
		return nil
	}
	var keys []string
	for _, p := range append(md.MetaDataProperties, md.CredentialProperties...) {
		if strings.EqualFold(p.Format, "json") && p.Name != "" {
			keys = append(keys, p.Name)
		}
	}
	return keys
}

// bindingTags reads tags: a list, or a file's JSON text or comma-separated text.
func bindingTags(v any) []string {
	var tags []string
	switch v := v.(type) {
	case []any:
		for _, t := range v {
			if s, ok := t.(string); ok {
				tags = append(tags, s)
			}
		}
	case string:
		var list []any
		if json.Unmarshal([]byte(v), &list) == nil {
			return bindingTags(list)
		}
		tags = strings.Split(v, ",")
	}
	return tags
}

// bindingReadFile reads a file of at most bindingMaxFileBytes.
func bindingReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, bindingMaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > bindingMaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB, too large for a binding", path, bindingMaxFileBytes>>20)
	}
	return data, nil
}

// bindingOSProblem describes a file system error without repeating the path.
func bindingOSProblem(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// bindingBaseName names a binding after its file: the base name without extension.
func bindingBaseName(path string) string {
	base := filepath.Base(path)
	if name := strings.TrimSuffix(base, filepath.Ext(base)); name != "" && name != "." && name != string(filepath.Separator) {
		return name
	}
	return "service-key"
}

// bindingReload implements Binding.Reload.
func bindingReload(b *Binding) (*Binding, error) {
	var r bindingResult
	switch b.origin.kind {
	case bindingOriginFile:
		r = bindingLoadFile(b.origin.path)
	case bindingOriginFolder:
		f, err := bindingReadFolder(b.origin.path)
		if err != nil {
			return nil, &BindingError{Binding: b.Name, Source: b.Source, Problems: []string{"cannot read it again: " + bindingOSProblem(err)}}
		}
		bindingFromFolder(b.origin.path, f, b.Source, false, &r)
	default:
		return b, nil
	}
	for _, nb := range r.bindings {
		if nb.Name == b.Name && nb.origin.ordinal == b.origin.ordinal {
			return nb, nil
		}
	}
	var mine []error
	for _, err := range r.errs {
		var be *BindingError
		if errors.As(err, &be) && be.Binding == b.Name {
			mine = append(mine, err)
		}
	}
	if len(mine) == 0 {
		mine = r.errs
	}
	if len(mine) > 0 {
		return nil, errors.Join(mine...)
	}
	for _, s := range r.skipped {
		if s.Name == b.Name {
			return nil, fmt.Errorf("binding %q (%s) can no longer be used: %s", b.Name, b.Source, s.Reason)
		}
	}
	return nil, fmt.Errorf("binding %q is no longer in %s", b.Name, b.Source)
}
