package connectivity_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// rotSim starts a simulator for the test.
func rotSim(t *testing.T, opts simulator.Options) *simulator.Server {
	t.Helper()
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// rotClient loads the binding at path (a service key file or a binding folder) and returns a
// client for it that trusts sim and logs to the returned sink.
func rotClient(t *testing.T, sim *simulator.Server, path string, interval time.Duration) (*connectivity.Client, *syncbuf.Buffer) {
	t.Helper()
	loaded := binding.Load(binding.Options{Paths: []string{path}})
	bs, err := loaded.Usable, loaded.Err()
	if err != nil || len(bs) != 1 {
		t.Fatalf("binding.Load(%s): %v (%d bindings)", path, err, len(bs))
	}
	logs := &syncbuf.Buffer{}
	c, err := connectivity.NewClient(bs[0], connectivity.Options{
		RootCAs:              sim.RootCAs(),
		BindingCheckInterval: interval,
		Logger:               slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, logs
}

func rotWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func rotCall(t *testing.T, c *connectivity.Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.CloudConnectors(ctx)
	return err
}

// rotEventually calls c until cond holds or a generous minute passes.
func rotEventually(t *testing.T, c *connectivity.Client, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		if err := rotCall(t, c); err != nil {
			t.Fatalf("%s: call failed: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A secret rotated in SAP BTP and written to the service key file: XSUAA refuses the old secret,
// the client reads the file again and succeeds without a restart. As long as the file is not
// rewritten, a refused secret costs exactly one token request per call.
func TestRotationSecretInServiceKeyFile(t *testing.T) {
	t.Parallel()
	const oldSecret, newSecret = "rotation-old-secret-4711", "rotation-new-secret-0815"
	sim := rotSim(t, simulator.Options{ClientSecret: oldSecret})
	path := filepath.Join(t.TempDir(), "conn-api.json")
	rotWrite(t, path, sim.ServiceKeyJSON(simulator.SecretCredentials))
	c, logs := rotClient(t, sim, path, -1) // only the refusal makes it look
	if err := rotCall(t, c); err != nil {
		t.Fatal(err)
	}

	sim.RotateSecret(newSecret)
	sim.RevokeTokens()
	for i := range 2 {
		sim.ResetCounts()
		err := rotCall(t, c)
		var authErr *connectivity.AuthError
		if !errors.As(err, &authErr) {
			t.Fatalf("call %d with the old file: error = %v, want *AuthError", i, err)
		}
		if n := sim.Counts(); n.TokenRequests != 1 {
			t.Errorf("call %d with the old file: %d token requests, want exactly 1", i, n.TokenRequests)
		}
	}

	rotWrite(t, path, sim.ServiceKeyJSON(simulator.SecretCredentials))
	sim.ResetCounts()
	if err := rotCall(t, c); err != nil {
		t.Fatalf("after the file was rewritten: %v", err)
	}
	if got := c.Binding().ClientSecret.Reveal(); got != newSecret {
		t.Errorf("binding in use has secret %q, want the rotated one", got)
	}
	if n := sim.Counts(); n.TokenRequests != 2 || n.APIRequests != 1 {
		t.Errorf("counts = %+v, want 2 token requests (refused, then with the new secret) and 1 API request", n)
	}
	log := logs.String()
	if !strings.Contains(log, "binding reloaded") {
		t.Errorf("no log record of the reload:\n%s", log)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if strings.Contains(log, s) {
			t.Errorf("the log shows a client secret:\n%s", log)
		}
	}
}

// An X.509 certificate rotated and written to the service key file is used at the next call.
func TestRotationCertificateInServiceKeyFile(t *testing.T) {
	t.Parallel()
	sim := rotSim(t, simulator.Options{TLS: true})
	path := filepath.Join(t.TempDir(), "conn-api.json")
	rotWrite(t, path, sim.ServiceKeyJSON(simulator.X509Credentials))
	c, logs := rotClient(t, sim, path, time.Hour)
	if err := rotCall(t, c); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := sim.RotateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	sim.RevokeTokens()
	rotWrite(t, path, sim.ServiceKeyJSON(simulator.X509Credentials))
	if err := rotCall(t, c); err != nil {
		t.Fatalf("after the certificate was rotated: %v", err)
	}
	if c.Binding().Certificate != certPEM {
		t.Error("the binding in use does not hold the rotated certificate")
	}
	if strings.Contains(logs.String(), keyBody(keyPEM)) {
		t.Error("the log shows the private key")
	}
}

// keyBody returns the base64 body of a PEM block, without its header lines.
func keyBody(pem string) string {
	var body strings.Builder
	for _, line := range strings.Split(pem, "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			body.WriteString(line)
		}
	}
	return body.String()[:64]
}

// A Kyma binding folder updated the way the kubelet updates a mounted secret (an atomic swap of
// the ..data link) is picked up by its changed files, before XSUAA refuses anything.
func TestRotationKymaFolderIsWatched(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		tls       bool
		kind      simulator.CredentialType
		projected bool
	}{
		{"client secret, projected secret volume", false, simulator.SecretCredentials, true},
		{"X.509, files rewritten in place", true, simulator.X509Credentials, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := rotSim(t, simulator.Options{TLS: tc.tls})
			dir := filepath.Join(t.TempDir(), "conn-api")
			write := func() {
				t.Helper()
				write := sim.WriteKymaBinding
				if tc.projected {
					write = sim.WriteKymaBindingProjected
				}
				if err := write(dir, tc.kind); err != nil {
					t.Fatal(err)
				}
			}
			write()
			c, _ := rotClient(t, sim, dir, 20*time.Millisecond)
			if err := rotCall(t, c); err != nil {
				t.Fatal(err)
			}
			old := *c.Binding()

			// Rotation in SAP BTP: the old credentials are refused from now on, but the token
			// already issued stays valid, so only the folder tells the client.
			if tc.kind == simulator.X509Credentials {
				if _, _, err := sim.RotateCertificate(); err != nil {
					t.Fatal(err)
				}
			} else {
				sim.RotateSecret("kyma-rotated-secret-2024")
			}
			write()
			sim.ResetCounts()
			rotEventually(t, c, "switch to the rotated binding", func() bool {
				b := c.Binding()
				return b.ClientSecret != old.ClientSecret || b.Certificate != old.Certificate
			})
			if err := rotCall(t, c); err != nil {
				t.Fatalf("with the rotated binding: %v", err)
			}
			if n := sim.Counts(); n.TokenRequests != 1 || n.TokenFailures != 0 {
				t.Errorf("counts = %+v, want one new token request, none refused", n)
			}
		})
	}
}

// A source caught half written, or removed, does not replace the binding in use; the next
// valid version does.
func TestRotationKeepsTheBindingWhenTheSourceIsBroken(t *testing.T) {
	t.Parallel()
	sim := rotSim(t, simulator.Options{})
	path := filepath.Join(t.TempDir(), "conn-api.json")
	rotWrite(t, path, sim.ServiceKeyJSON(simulator.SecretCredentials))
	c, logs := rotClient(t, sim, path, 10*time.Millisecond)
	if err := rotCall(t, c); err != nil {
		t.Fatal(err)
	}
	before := c.Binding()
	for i, broken := range []string{`{"clientid": "sb-x", "clientsecret": "tr`, ""} {
		if broken == "" {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		} else {
			rotWrite(t, path, []byte(broken))
		}
		time.Sleep(30 * time.Millisecond) // a lower bound: longer than the interval, so the next call looks
		for range 3 {
			if err := rotCall(t, c); err != nil {
				t.Fatalf("with a broken source (%q): %v", broken, err)
			}
		}
		// The calls did look at the broken source (each look logs it), and kept the binding.
		if n := strings.Count(logs.String(), "binding not reloaded"); n < i+1 {
			t.Fatalf("a broken source (%q) was not looked at: %d log records of it", broken, n)
		}
		if c.Binding() != before {
			t.Fatalf("a broken source (%q) replaced the binding", broken)
		}
	}
	if !strings.Contains(logs.String(), "binding not reloaded") {
		t.Errorf("no log record of the broken source:\n%s", logs.String())
	}

	sim.RotateSecret("after-repair-secret")
	rotWrite(t, path, sim.ServiceKeyJSON(simulator.SecretCredentials))
	rotEventually(t, c, "switch after the repair", func() bool {
		return c.Binding().ClientSecret.Reveal() == "after-repair-secret"
	})
}

// A binding that cannot be read again (VCAP_SERVICES) is never reloaded, and refused
// credentials still cost one token request.
func TestRotationNotForEnvironmentBindings(t *testing.T) {
	t.Parallel()
	sim := rotSim(t, simulator.Options{})
	loaded := binding.Load(binding.Options{Environ: []string{"VCAP_SERVICES=" + sim.VCAPServices(simulator.SecretCredentials)}})
	bs, err := loaded.Usable, loaded.Err()
	if err != nil || len(bs) != 1 {
		t.Fatalf("binding.Load: %v", err)
	}
	c, err := connectivity.NewClient(bs[0], connectivity.Options{BindingCheckInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sim.RotateSecret("")
	var authErr *connectivity.AuthError
	if err := rotCall(t, c); !errors.As(err, &authErr) {
		t.Fatalf("error = %v, want *AuthError", err)
	}
	if n := sim.Counts(); n.TokenRequests != 1 {
		t.Errorf("%d token requests, want 1", n.TokenRequests)
	}
}
