package connectivity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	cfenv "github.com/cloudfoundry-community/go-cfenv"
)

// ParseBinding parses the contents of a service key file. It accepts the bare credentials
// object (what `cf service-key` prints), the same wrapped as {"credentials": {…}} (what
// `btp get services/binding` prints), a whole VCAP_SERVICES document, or an object holding one
// under "VCAP_SERVICES" (as in default-env.json). source says where data came from; it becomes
// Binding.Source, and its base name without extension names a bare service key.
//
// It returns the valid bindings, the Connectivity bindings that cannot serve the API (plan lite,
// for example) as Skipped, and an error: *BindingError values (joined) for malformed data or
// invalid bindings, or an error wrapping ErrNoBinding when data holds no usable binding.
// Entries of other services in a VCAP_SERVICES document are ignored.
func ParseBinding(data []byte, source string) ([]*Binding, []Skipped, error) {
	m := bindingMeta{name: bindingBaseName(strings.TrimPrefix(source, "file ")), source: source}
	r := bindingParseDocument(data, m)
	return r.result(source)
}

// bindingMeta is what a source knows about a binding besides its credentials.
type bindingMeta struct {
	name, source, plan string
	origin             bindingOrigin
}

// bindingResult collects what one source yields.
type bindingResult struct {
	bindings []*Binding
	skipped  []Skipped
	ignored  []string // other services, described for the error when nothing is usable
	errs     []error
}

// add appends what another source yielded.
func (r *bindingResult) add(o bindingResult) {
	r.bindings = append(r.bindings, o.bindings...)
	r.skipped = append(r.skipped, o.skipped...)
	r.ignored = append(r.ignored, o.ignored...)
	r.errs = append(r.errs, o.errs...)
}

// fail records a problem with the source as a whole.
func (r *bindingResult) fail(m bindingMeta, problem string) {
	r.errs = append(r.errs, &BindingError{Binding: m.name, Source: m.source, Problems: []string{problem}})
}

// result returns the bindings, the skipped ones and the error for source: the binding errors, or,
// when there are none and no binding either, an explanation wrapping ErrNoBinding.
func (r *bindingResult) result(source string) ([]*Binding, []Skipped, error) {
	if len(r.bindings) == 0 && len(r.errs) == 0 {
		return nil, r.skipped, r.none(source)
	}
	return r.bindings, r.skipped, errors.Join(r.errs...)
}

// none explains why source holds no usable binding.
func (r *bindingResult) none(source string) error {
	var why []string
	for _, s := range r.skipped {
		why = append(why, fmt.Sprintf("skipped %q: %s", s.Name, s.Reason))
	}
	if len(r.ignored) > 0 {
		why = append(why, "ignored other services: "+strings.Join(r.ignored, ", "))
	}
	if len(why) == 0 {
		why = append(why, "it holds no services")
	}
	return fmt.Errorf("%s has no usable connectivity binding (%s): %w", source, strings.Join(why, "; "), ErrNoBinding)
}

// bindingParseDocument parses a service key file or a VCAP_SERVICES document in a file.
func bindingParseDocument(data []byte, m bindingMeta) (r bindingResult) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		r.fail(m, "the file is empty; expected a service key (JSON)")
		return r
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		r.fail(m, bindingJSONProblem(err))
		return r
	}
	top, ok := doc.(map[string]any)
	if !ok {
		r.fail(m, fmt.Sprintf("expected a JSON object (a service key), got %s", bindingKind(doc)))
		return r
	}
	if creds, ok := top["credentials"]; ok {
		credsMap, ok := creds.(map[string]any)
		if !ok {
			r.fail(m, fmt.Sprintf("credentials: expected an object, got %s", bindingKind(creds)))
			return r
		}
		if s := bindingFirstString(top, "name", "binding_name", "instance_name"); s != "" {
			m.name = s
		}
		m.plan = bindingFirstString(top, "plan")
		bindingFromCredentials(credsMap, m, &r)
		return r
	}
	if v, ok := top["VCAP_SERVICES"]; ok {
		if s, isString := v.(string); isString { // `cf env` style: the document as JSON text
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				r.fail(m, "VCAP_SERVICES: "+bindingJSONProblem(err))
				return r
			}
		}
		services, ok := v.(map[string]any)
		if !ok {
			r.fail(m, fmt.Sprintf("VCAP_SERVICES: expected an object keyed by service label, got %s", bindingKind(v)))
			return r
		}
		return bindingParseVCAP(services, m)
	}
	for _, k := range bindingCredentialKeys {
		if _, ok := top[k]; ok {
			bindingFromCredentials(top, m, &r)
			return r
		}
	}
	if len(top) > 0 && bindingAllLists(top) {
		return bindingParseVCAP(top, m)
	}
	r.fail(m, `not a service key: expected the credentials object (with clientid and connectivity_service), `+
		`{"credentials": {…}}, or a VCAP_SERVICES document`)
	return r
}

// bindingCredentialKeys are keys that mark an object as a credentials object.
var bindingCredentialKeys = []string{
	"clientid", "clientsecret", "connectivity_service", "token_service_url", "certurl",
	"credential-type", "onpremise_proxy_host", "xsappname", "identityzone", "url",
}

// bindingAllLists reports whether every value is a list (or null), as in VCAP_SERVICES.
func bindingAllLists(m map[string]any) bool {
	for _, v := range m {
		if _, ok := v.([]any); !ok && v != nil {
			return false
		}
	}
	return true
}

// bindingParseVCAP reads a VCAP_SERVICES document with go-cfenv. Each label is decoded on its
// own so that one malformed entry of another service does not hide the connectivity binding.
// Entries of other services are listed in ignored.
func bindingParseVCAP(services map[string]any, m bindingMeta) (r bindingResult) {
	labels := make([]string, 0, len(services))
	for label := range services {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	for _, label := range labels {
		doc, err := json.Marshal(map[string]any{label: services[label]})
		if err != nil { // cannot happen: the value came from encoding/json
			r.fail(m, fmt.Sprintf("label %q: %v", label, err))
			continue
		}
		// cfenv.New insists on VCAP_APPLICATION being JSON; this reader needs the services only.
		app, err := cfenv.New(map[string]string{"VCAP_APPLICATION": "{}", "VCAP_SERVICES": string(doc)})
		if err != nil {
			// mapstructure's messages name fields and types, never values.
			problem := fmt.Sprintf("the entries under label %q are not Cloud Foundry service bindings: %s",
				label, strings.Join(strings.Fields(err.Error()), " "))
			if strings.EqualFold(label, "connectivity") {
				r.fail(bindingMeta{name: label, source: m.source}, problem)
			} else {
				r.ignored = append(r.ignored, fmt.Sprintf("%q (malformed)", label))
			}
			continue
		}
		for i, svc := range app.Services[label] {
			name := svc.Name
			if name == "" {
				name = svc.InstanceName
			}
			if name == "" {
				name = fmt.Sprintf("%s[%d]", label, i)
			}
			_, hasAPI := svc.Credentials["connectivity_service"]
			if !hasAPI && !strings.EqualFold(label, "connectivity") && !strings.EqualFold(svc.Label, "connectivity") &&
				!bindingHasTag(svc.Tags, "connectivity") {
				r.ignored = append(r.ignored, fmt.Sprintf("%q (%s)", name, label))
				continue
			}
			bindingFromCredentials(svc.Credentials, bindingMeta{name: name, source: m.source, plan: svc.Plan, origin: m.origin}, &r)
		}
	}
	return r
}

// bindingFromCredentials turns a credentials object into a binding and adds it to r: as a binding
// when valid, as Skipped when it has no api_access, as a *BindingError otherwise.
func bindingFromCredentials(creds map[string]any, m bindingMeta, r *bindingResult) {
	var problems []string
	get := func(key string) string {
		v, ok := creds[key]
		if !ok || v == nil {
			return ""
		}
		if s, ok := v.(string); ok {
			return s
		}
		problems = append(problems, fmt.Sprintf("%s: expected a string, got %s", key, bindingKind(v)))
		return ""
	}

	var api map[string]any
	switch v := creds["connectivity_service"].(type) {
	case nil:
	case map[string]any:
		api = v
	case string: // Kyma: JSON text in a file
		if err := json.Unmarshal([]byte(v), &api); err != nil {
			problems = append(problems, "connectivity_service: expected a JSON object, got text that is not one")
		}
	default:
		problems = append(problems, fmt.Sprintf("connectivity_service: expected an object, got %s", bindingKind(v)))
	}
	if len(problems) == 0 {
		if p, ok := api["scc_info_path"]; !ok || p == nil || p == "" {
			r.skipped = append(r.skipped, Skipped{Name: m.name, Source: m.source, Reason: bindingSkipReason(m.plan)})
			return
		}
	}

	b := &Binding{Name: m.name, Source: m.source, Plan: m.plan, origin: m.origin}
	b.ClientID = get("clientid")
	b.ClientSecret = Secret(get("clientsecret"))
	b.CredentialType = get("credential-type")
	b.TokenServiceURL = get("token_service_url")
	if b.TokenServiceURL == "" {
		b.TokenServiceURL = get("url") // the XSUAA URL; the same as token_service_url in SAP's bindings
	}
	b.CertURL = get("certurl")
	b.Certificate = bindingPEM(get("certificate"))
	b.Key = Secret(bindingPEM(get("key")))
	b.SubaccountID = get("subaccount_id")
	b.SubaccountSubdomain = get("subaccount_subdomain")
	b.IdentityZone = get("identityzone")
	getAPI := func(key string) string {
		switch v := api[key].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			problems = append(problems, fmt.Sprintf("connectivity_service.%s: expected a string, got %s", key, bindingKind(v)))
			return ""
		}
	}
	b.ServiceURL = getAPI("url")
	b.SCCInfoPath = getAPI("scc_info_path")
	var be *BindingError
	if errors.As(b.Validate(), &be) {
		problems = append(problems, be.Problems...)
	}
	if len(problems) > 0 {
		r.errs = append(r.errs, &BindingError{Binding: b.Name, Source: b.Source, Problems: problems})
		return
	}
	for _, other := range r.bindings {
		if other.Name == b.Name {
			b.origin.ordinal++
		}
	}
	r.bindings = append(r.bindings, b)
}

// bindingSkipReason explains why a binding without scc_info_path is skipped.
func bindingSkipReason(plan string) string {
	if plan != "" && !strings.EqualFold(plan, "api_access") {
		return fmt.Sprintf("plan %s has no api_access (no connectivity_service.scc_info_path), "+
			"the Cloud Connector API needs a Connectivity instance with plan api_access", bindingClipRaw(plan))
	}
	return "no api_access (no connectivity_service.scc_info_path), " +
		"the Cloud Connector API needs a Connectivity instance with plan api_access"
}

// bindingPEM repairs PEM text whose line breaks were pasted as the two characters \n, a common
// accident with user-provided services and environment variables.
func bindingPEM(s string) string {
	if strings.Contains(s, "-----BEGIN") && !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		return strings.ReplaceAll(s, `\n`, "\n")
	}
	return s
}

// bindingFirstString returns the first of keys whose value in m is a non-empty string.
func bindingFirstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// bindingHasTag reports whether tags contains tag, ignoring case.
func bindingHasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return true
		}
	}
	return false
}

// bindingKind names the JSON type of a decoded value.
func bindingKind(v any) string {
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
	default:
		return fmt.Sprintf("%T", v)
	}
}

// bindingJSONProblem describes a JSON decoding error without quoting the document.
func bindingJSONProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("not valid JSON (at byte %d): %v", syntax.Offset, err)
	}
	return "not valid JSON: " + err.Error()
}

// bindingClipRaw shortens a value from a binding document for a message, without quotes.
func bindingClipRaw(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
