package binding_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// A broken binding at start does not hide the usable ones: Load reports it with its name, its
// source and the reason, and Err stays nil. Names come from NAME=PATH, entries and file names.
func TestLoadReportsEveryBinding(t *testing.T) {
	t.Parallel()
	good := bindingFixture("service-key.json")
	expiredCert, expiredKey := bindingTestCert(t, time.Now().Add(-time.Hour))
	expired := bindingWriteTemp(t, "expired.json", string(bindingX509Key(t, expiredCert, expiredKey, nil)))
	noCreds := bindingWriteTemp(t, "no-creds.json", string(bindingSecretKey(t, func(m map[string]any) { delete(m, "clientsecret") })))
	notJSON := bindingWriteTemp(t, "not-json.json", `{"clientid": `)
	withEquals := bindingWriteTemp(t, "a=b.json", string(bindingSecretKey(t, nil)))
	missing := filepath.Join(t.TempDir(), "missing.json")

	tests := []struct {
		name        string
		paths       []string
		wantUsable  []string // name@source
		wantBroken  []string // name: a piece of the sentence
		wantSkipped []string
	}{
		{name: "lite beside a good one", paths: []string{good, bindingFixture("lite-key.json")},
			wantUsable: []string{"service-key@file " + good}, wantSkipped: []string{"lite-key"}},
		{name: "unreadable file", paths: []string{good, missing},
			wantUsable: []string{"service-key@file " + good}, wantBroken: []string{"missing: cannot read it: no such file or directory"}},
		{name: "invalid JSON", paths: []string{notJSON, good},
			wantUsable: []string{"service-key@file " + good}, wantBroken: []string{"not-json: not valid JSON"}},
		{name: "expired certificate", paths: []string{good, expired},
			wantUsable: []string{"service-key@file " + good}, wantBroken: []string{"expired: certificate expired at"}},
		{name: "neither secret nor certificate", paths: []string{good, noCreds},
			wantUsable: []string{"service-key@file " + good}, wantBroken: []string{"no-creds: neither clientsecret nor certificate and key"}},
		{name: "NAME=PATH", paths: []string{"prod=" + good, "dev.eu10_1-x=" + withEquals},
			wantUsable: []string{"prod@file " + good, "dev.eu10_1-x@file " + withEquals}},
		{name: "a path with = that exists", paths: []string{withEquals},
			wantUsable: []string{"a=b@file " + withEquals}},
		{name: "NAME=PATH of a broken file", paths: []string{good, "bad=" + notJSON},
			wantUsable: []string{"service-key@file " + good}, wantBroken: []string{"bad: not valid JSON"}},
		{name: "not a name, and no such path", paths: []string{good, "my prod=" + missing},
			wantUsable: []string{"service-key@file " + good},
			wantBroken: []string{`missing: "my prod" is not a binding name: a NAME in --binding NAME=PATH is one or more letters, digits, '.', '_' or '-' (no spaces)`}},
		{name: "an empty name", paths: []string{good, "=" + missing},
			wantUsable: []string{"service-key@file " + good}, wantBroken: []string{`missing: "" is not a binding name`}},
		{name: "NAME=PATH holding several bindings", paths: []string{"cf=" + bindingFixture("vcap-services.json")},
			wantUsable: []string{
				"cf/my-conn-api@file " + bindingFixture("vcap-services.json"),
				"cf/other-subaccount-conn@file " + bindingFixture("vcap-services.json"),
			},
			wantSkipped: []string{"cf/my-conn-lite"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := binding.Load(binding.Options{Paths: tt.paths})
			if err := r.Err(); err != nil {
				t.Fatalf("Err = %v, want nil with a usable binding", err)
			}
			var usable, skipped []string
			for _, b := range r.Usable {
				usable = append(usable, b.Name+"@"+b.Source)
			}
			for _, s := range r.Skipped {
				skipped = append(skipped, s.Name)
			}
			if fmt.Sprint(usable) != fmt.Sprint(tt.wantUsable) || fmt.Sprint(skipped) != fmt.Sprint(tt.wantSkipped) {
				t.Errorf("usable %q, skipped %q; want %q, %q", usable, skipped, tt.wantUsable, tt.wantSkipped)
			}
			if len(r.Broken) != len(tt.wantBroken) {
				t.Fatalf("broken = %v, want %q", r.Broken, tt.wantBroken)
			}
			for i, e := range r.Broken {
				name, piece, _ := strings.Cut(tt.wantBroken[i], ": ")
				if e.Name != name || !strings.Contains(e.Error(), piece) || !strings.HasPrefix(e.Source, "file ") {
					t.Errorf("broken[%d] = %q (%s), want %q", i, e.Error(), e.Source, tt.wantBroken[i])
				}
			}
		})
	}
}

// Two bindings of one name are a start-up error naming both sources; NAME=PATH tells them apart.
func TestLoadRefusesAClashOfNames(t *testing.T) {
	t.Parallel()
	key := string(bindingSecretKey(t, nil))
	a, b := bindingWriteTemp(t, "conn.json", key), bindingWriteTemp(t, "conn.json", key)
	tests := []struct {
		name    string
		paths   []string
		wantErr []string
	}{
		{"same base name", []string{a, b}, []string{`two bindings are named "conn"`, "file " + a, "file " + b, "--binding NAME=PATH"}},
		{"a name given twice", []string{"x=" + a, "x=" + b}, []string{`two bindings are named "x"`}},
		{"a broken one clashes too", []string{a, filepath.Join(t.TempDir(), "conn.json")}, []string{`two bindings are named "conn"`}},
		{"told apart", []string{"prod=" + a, "dev=" + b}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := binding.Load(binding.Options{Paths: tt.paths}).Err()
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("Err = %v", err)
				}
				return
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Err = %v, want %q in it", err, want)
				}
			}
		})
	}
}

func TestBindingFacts(t *testing.T) {
	t.Parallel()
	notAfter := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	certPEM, keyPEM := bindingTestCert(t, notAfter)
	x509, _, err := parse(bindingX509Key(t, certPEM, keyPEM, nil), "x509")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                            string
		b                               *binding.Binding
		wantAuth, wantRegion, wantLabel string
		wantNotAfter                    time.Time
	}{
		{"x509", x509[0], "x509", "eu10", "x509", notAfter},
		{"subdomain first", &binding.Binding{Name: "n", ClientSecret: "s", ServiceURL: "https://connectivity.cf.us10-001.hana.ondemand.com",
			SubaccountSubdomain: "acme", SubaccountID: "id", IdentityZone: "zone"}, "secret", "us10-001", "acme", time.Time{}},
		{"then the id", &binding.Binding{Name: "n", SubaccountID: "id", IdentityZone: "zone", ServiceURL: "http://127.0.0.1:4000"},
			"no credentials", "", "id", time.Time{}},
		{"then the zone", &binding.Binding{Name: "n", IdentityZone: "zone", ServiceURL: "https://connectivity.cf.cn40.platform.sapcloud.cn"},
			"no credentials", "cn40", "zone", time.Time{}},
		{"then the name", &binding.Binding{Name: "n", ServiceURL: "https://cf.example"}, "no credentials", "", "n", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.b.Auth(); got != tt.wantAuth {
				t.Errorf("Auth = %q, want %q", got, tt.wantAuth)
			}
			if got := tt.b.Region(); got != tt.wantRegion {
				t.Errorf("Region = %q, want %q", got, tt.wantRegion)
			}
			if got := tt.b.Label(); got != tt.wantLabel {
				t.Errorf("Label = %q, want %q", got, tt.wantLabel)
			}
			if got := tt.b.NotAfter(); !got.Equal(tt.wantNotAfter) {
				t.Errorf("NotAfter = %v, want %v", got, tt.wantNotAfter)
			}
		})
	}
}

// A binding named with NAME=PATH keeps its name when its file is read again.
func TestReloadKeepsTheGivenName(t *testing.T) {
	t.Parallel()
	path := bindingWriteTemp(t, "vcap.json", bindingReadFixture(t, "vcap-services.json"))
	r := binding.Load(binding.Options{Paths: []string{"cf=" + path}})
	if r.Err() != nil || len(r.Usable) != 2 {
		t.Fatalf("Load: %v, %d", r.Err(), len(r.Usable))
	}
	nb, err := r.Usable[1].Reload()
	if err != nil || nb.Name != "cf/other-subaccount-conn" || *nb != *r.Usable[1] {
		t.Errorf("Reload = %v, %v", nb, err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	var be *binding.Error
	if _, err := r.Usable[1].Reload(); !errors.As(err, &be) || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("Reload of a broken file = %v", err)
	}
}
