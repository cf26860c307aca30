package binding_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// FuzzParse checks that Parse never panics, that every usable binding it returns passes
// Validate, and that no message shows a client secret or private key of the document. The seed
// corpus is testdata/fuzz/FuzzParse plus the JSON fixtures under testdata/bindings.
func FuzzParse(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "bindings", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range fixtures {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		texts := bindingFuzzTexts(t, data)
		joined := strings.Join(texts, "\n")
		for _, secret := range bindingFuzzSecrets(data) {
			if len(secret) < 6 || !strings.Contains(joined, secret) {
				continue
			}
			// The text may come from elsewhere (a message, another field holding the same
			// text): it leaks only if it goes away once the secret's one occurrence is replaced.
			var enc bytes.Buffer
			e := json.NewEncoder(&enc)
			e.SetEscapeHTML(false)
			_ = e.Encode(secret)
			escaped := bytes.TrimSuffix(bytes.TrimSpace(enc.Bytes()), []byte(`"`))[1:]
			if bytes.Count(data, escaped) != 1 {
				continue
			}
			masked := bytes.Replace(data, escaped, bytes.Repeat([]byte("Z"), len(escaped)), 1)
			if !strings.Contains(strings.Join(bindingFuzzTexts(t, masked), "\n"), secret) {
				t.Fatalf("a secret of the document shows in the output:\n%s", joined)
			}
		}
	})
}

// bindingFuzzTexts parses data, checks the invariants and returns every text a caller might show.
func bindingFuzzTexts(t *testing.T, data []byte) []string {
	r := binding.Parse(data, "fuzz input")
	var texts []string
	if err := r.Err(); err != nil {
		texts = append(texts, err.Error())
	} else if len(r.Usable) == 0 {
		t.Fatalf("no binding and no error")
	}
	for _, e := range r.Broken {
		texts = append(texts, e.Error())
	}
	for _, b := range r.Usable {
		if b == nil || b.ClientID == "" {
			t.Fatalf("returned binding without clientid: %#v", b)
		}
		if verr := b.Validate(); verr != nil {
			t.Fatalf("returned binding is invalid: %v", verr)
		}
		out, jerr := json.Marshal(b)
		if jerr != nil {
			t.Fatalf("json.Marshal: %v", jerr)
		}
		texts = append(texts, b.String(), fmt.Sprintf("%+v %#v", b, *b), string(out))
	}
	for _, s := range r.Skipped {
		texts = append(texts, s.String())
	}
	return texts
}

// bindingFuzzSecrets returns the clientsecret and key values anywhere in a JSON document,
// including in JSON text inside strings.
func bindingFuzzSecrets(data []byte) []string {
	var doc any
	if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &doc) != nil {
		return nil
	}
	var secrets []string
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 20 {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "clientsecret" || k == "key") {
					secrets = append(secrets, s)
				}
				walk(x, depth+1)
			}
		case []any:
			for _, x := range v {
				walk(x, depth+1)
			}
		case string:
			var inner any
			if json.Unmarshal([]byte(v), &inner) == nil {
				walk(inner, depth+1)
			}
		}
	}
	walk(doc, 0)
	return secrets
}
