package deploy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// crd is what the test reads of a CustomResourceDefinition kept in testdata.
type crd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind     string `json:"kind"`
			ListKind string `json:"listKind"`
			Plural   string `json:"plural"`
			Singular string `json:"singular"`
		} `json:"names"`
		Scope    string `json:"scope"`
		Versions []struct {
			Name    string `json:"name"`
			Served  bool   `json:"served"`
			Storage bool   `json:"storage"`
			Schema  struct {
				OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// crdSchema validates the objects of one served version of a custom resource.
type crdSchema struct {
	compiled *jsonschema.Schema
	raw      map[string]any // the schema as published, for its x-kubernetes-validations
}

// loadCRDs compiles every served version of the CustomResourceDefinitions in testdata, by
// "apiVersion kind" (such as "gateway.kyma-project.io/v2 APIRule").
func loadCRDs(fs files) (map[string]crdSchema, []error) {
	out := map[string]crdSchema{}
	var errs []error
	for path, data := range fs {
		if !strings.HasPrefix(path, "testdata/") {
			continue
		}
		var c crd
		if err := yaml.UnmarshalStrict(data, &c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		for _, v := range c.Spec.Versions {
			if !v.Served {
				continue
			}
			var raw map[string]any
			if err := json.Unmarshal(v.Schema.OpenAPIV3Schema, &raw); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", path, v.Name, err))
				continue
			}
			// The API server refuses fields a structural schema does not declare (kubectl's
			// default strict field validation); JSON Schema allows them unless told.
			strict, err := json.Marshal(closeObjects(raw))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(strict))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", path, v.Name, err))
				continue
			}
			url := "file:///" + path + "/" + v.Name + ".json"
			c2 := jsonschema.NewCompiler()
			c2.DefaultDraft(jsonschema.Draft7)
			if err := c2.AddResource(url, doc); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", path, v.Name, err))
				continue
			}
			compiled, err := c2.Compile(url)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", path, v.Name, err))
				continue
			}
			out[c.Spec.Group+"/"+v.Name+" "+c.Spec.Names.Kind] = crdSchema{compiled: compiled, raw: raw}
		}
	}
	return out, errs
}

// closeObjects returns a copy of a structural schema in which every object with declared
// properties refuses others, unless it keeps unknown fields or says what other properties hold.
func closeObjects(s any) any {
	switch v := s.(type) {
	case map[string]any:
		out := make(map[string]any, len(v)+1)
		for k, e := range v {
			if k == "x-kubernetes-validations" || k == "enum" || k == "required" {
				out[k] = e
				continue
			}
			out[k] = closeObjects(e)
		}
		_, props := v["properties"]
		_, additional := v["additionalProperties"]
		if props && !additional && v["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = closeObjects(e)
		}
		return out
	}
	return s
}

// validateCustom validates one custom resource object against its schema, the x-kubernetes-
// validations rules the test knows, and its metadata against ObjectMeta.
func validateCustom(s crdSchema, doc []byte) []error {
	jsonDoc, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return []error{err}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(jsonDoc))
	if err != nil {
		return []error{err}
	}
	var errs []error
	if err := s.compiled.Validate(inst); err != nil {
		errs = append(errs, fmt.Errorf("refused by the published schema: %s", oneLine(err)))
	}
	errs = append(errs, celRules(s.raw, inst, "")...)
	var whole struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(jsonDoc, &whole); err != nil || len(whole.Metadata) == 0 {
		return append(errs, fmt.Errorf("no metadata (%v)", err))
	}
	var meta metav1.ObjectMeta
	if err := yaml.UnmarshalStrict(whole.Metadata, &meta); err != nil {
		errs = append(errs, fmt.Errorf("metadata: %w", err))
	}
	return errs
}

// oneLine joins a validation error's lines.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// matchesRule is a CEL rule of the form self.matches('regexp').
var matchesRule = regexp.MustCompile(`^self\.matches\('(.*)'\)$`)

// oneAuthRule is APIRule v2's rule that a rule has exactly one of noAuth (true), jwt and extAuth.
const oneAuthRule = `((has(self.extAuth)?1:0)+(has(self.jwt)?1:0)+((has(self.noAuth)&&self.noAuth==true)?1:0))==1`

// celRules checks the x-kubernetes-validations rules of schema s against inst, walking both
// together. A rule the test cannot evaluate is reported, so that a new rule is never skipped
// silently.
func celRules(s map[string]any, inst any, at string) []error {
	var errs []error
	if rules, ok := s["x-kubernetes-validations"].([]any); ok {
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			text, _ := rule["rule"].(string)
			msg, _ := rule["message"].(string)
			if err := celRule(text, inst); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s (%w)", cmp.Or(at, "/"), msg, err))
			}
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		if obj, ok := inst.(map[string]any); ok {
			for name, sub := range props {
				subSchema, ok := sub.(map[string]any)
				value, present := obj[name]
				if ok && present {
					errs = append(errs, celRules(subSchema, value, at+"/"+name)...)
				}
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		if list, ok := inst.([]any); ok {
			for i, e := range list {
				errs = append(errs, celRules(items, e, fmt.Sprintf("%s/%d", at, i))...)
			}
		}
	}
	if more, ok := s["additionalProperties"].(map[string]any); ok {
		if obj, ok := inst.(map[string]any); ok {
			for name, value := range obj {
				errs = append(errs, celRules(more, value, at+"/"+name)...)
			}
		}
	}
	return errs
}

// celRule evaluates one rule the test knows on a value.
func celRule(rule string, v any) error {
	if m := matchesRule.FindStringSubmatch(rule); m != nil {
		re, err := regexp.Compile(strings.ReplaceAll(m[1], `\\`, `\`))
		if err != nil {
			return fmt.Errorf("rule %s: %w", rule, err)
		}
		s, ok := v.(string)
		if !ok || !re.MatchString(s) {
			return fmt.Errorf("%v does not match %s", v, re)
		}
		return nil
	}
	if rule == oneAuthRule {
		obj, ok := v.(map[string]any)
		if !ok {
			return errors.New("not an object")
		}
		n := 0
		for _, k := range []string{"extAuth", "jwt"} {
			if _, has := obj[k]; has {
				n++
			}
		}
		if obj["noAuth"] == true {
			n++
		}
		if n != 1 {
			return fmt.Errorf("%d of noAuth: true, jwt and extAuth are set", n)
		}
		return nil
	}
	return fmt.Errorf("the test cannot evaluate the CEL rule %s; teach celRule", rule)
}
