package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// secretsCanary is the client secret of the simulated binding: distinctive, so that any trace of
// it in the output is found.
const secretsCanary = "s3cr3t-CANARY-5a1e$e7_Q=zz"

// secretsScenario is a fault (or other event) and a call made under it.
type secretsScenario struct {
	name  string
	setup func(t *testing.T, s *secretsRun)
	tool  string
	args  map[string]any
}

// secretsRun is one binary serving against one simulator.
type secretsRun struct {
	sim      *simulator.Server
	kind     simulator.CredentialType
	keyPath  string
	secrets  []string // client secrets handed out, current and rotated
	keys     []string // private keys (PEM) handed out
	certFile string   // SSL_CERT_FILE, for TLS
}

// rotate gives the binding new credentials in SAP BTP and writes them to the --binding file.
func (s *secretsRun) rotate(t *testing.T) {
	t.Helper()
	if s.kind == simulator.X509Credentials {
		_, key, err := s.sim.RotateCertificate()
		if err != nil {
			t.Fatal(err)
		}
		s.keys = append(s.keys, key)
	} else {
		secret := secretsCanary + "-rotated"
		s.sim.RotateSecret(secret)
		s.secrets = append(s.secrets, secret)
	}
	if err := os.WriteFile(s.keyPath, s.sim.ServiceKeyJSON(s.kind), 0o600); err != nil {
		t.Fatal(err)
	}
}

func secretsScenarios() []secretsScenario {
	fault := func(f ...simulator.Fault) func(*testing.T, *secretsRun) {
		return func(_ *testing.T, s *secretsRun) {
			s.sim.RevokeTokens() // the call needs a new token, so token faults apply too
			for _, f := range f {
				s.sim.InjectFault(f)
			}
		}
	}
	token := simulator.TargetToken
	return []secretsScenario{
		{name: "healthy", tool: "list_cloud_connectors"},
		{name: "API 503", setup: fault(simulator.Fault{Status: 503}), tool: "get_security_status"},
		{name: "API 429 Retry-After", setup: fault(simulator.Fault{Status: 429, RetryAfter: "30"}), tool: "find_exposed_system"},
		{name: "API hung", setup: fault(simulator.Fault{Hang: true}), tool: "list_cloud_connectors"},
		{name: "API truncated", setup: fault(simulator.Fault{Truncate: true}), tool: "list_cloud_connectors"},
		{name: "API HTML", setup: fault(simulator.Fault{Body: "<html><body>Bad Gateway</body></html>"}), tool: "get_security_status"},
		{name: "API not JSON", setup: fault(simulator.Fault{Body: "not json"}), tool: "find_exposed_system"},
		{name: "API object", setup: fault(simulator.Fault{Body: `{"error":"x"}`}), tool: "list_cloud_connectors"},
		{name: "API oversize", setup: fault(simulator.Fault{OversizeBytes: 33 << 20}), tool: "list_cloud_connectors"},
		{name: "API refuses every token", setup: fault(simulator.Fault{Status: 401}), tool: "list_cloud_connectors"},
		{name: "API 403", setup: fault(simulator.Fault{Status: 403}), tool: "list_cloud_connectors"},
		{name: "token 401", setup: fault(simulator.Fault{Target: token, Status: 401}), tool: "list_cloud_connectors"},
		{name: "token 400", setup: fault(simulator.Fault{Target: token, Status: 400}), tool: "get_security_status"},
		{name: "token 500", setup: fault(simulator.Fault{Target: token, Status: 500}), tool: "find_exposed_system"},
		{name: "token hung", setup: fault(simulator.Fault{Target: token, Hang: true}), tool: "list_cloud_connectors"},
		{name: "token truncated", setup: fault(simulator.Fault{Target: token, Truncate: true}), tool: "list_cloud_connectors"},
		{name: "token HTML", setup: fault(simulator.Fault{Target: token, Body: "<html>maintenance</html>"}), tool: "list_cloud_connectors"},
		{name: "token not JSON", setup: fault(simulator.Fault{Target: token, Body: "access_token=abc&token_type=bearer"}), tool: "list_cloud_connectors"},
		{name: "token oversize", setup: fault(simulator.Fault{Target: token, OversizeBytes: 2 << 20}), tool: "list_cloud_connectors"},
		{name: "token revoked", setup: func(_ *testing.T, s *secretsRun) { s.sim.RevokeTokens() }, tool: "get_security_status"},
		{name: "credentials rotated, file not yet", setup: func(t *testing.T, s *secretsRun) {
			if s.kind == simulator.X509Credentials {
				if _, _, err := s.sim.RotateCertificate(); err != nil {
					t.Fatal(err)
				}
			} else {
				s.sim.RotateSecret("wrong-" + secretsCanary)
				s.secrets = append(s.secrets, "wrong-"+secretsCanary)
			}
			s.sim.RevokeTokens()
		}, tool: "list_cloud_connectors"},
		{name: "credentials rotated and written", setup: func(t *testing.T, s *secretsRun) { s.rotate(t); s.sim.RevokeTokens() }, tool: "list_cloud_connectors"},
		{name: "bad arguments", tool: "find_exposed_system", args: map[string]any{"client_id": secretsCanary, "query": map[string]any{"x": 1}}},
		{name: "healthy again", tool: "find_exposed_system", args: map[string]any{"query": "s4h"}},
	}
}

// TestSecretsNeverLeak runs every fault scenario through the binary at --log-level debug, with a
// client secret and with an X.509 binding, and searches everything the binary wrote (stdout with
// every tool result, stderr with every log record) for the secrets, the private keys and every
// access token the simulator issued.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	for _, kind := range []simulator.CredentialType{simulator.SecretCredentials, simulator.X509Credentials} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			tls := kind == simulator.X509Credentials
			sim, err := simulator.New(simulator.Options{TLS: tls, ClientSecret: secretsCanary})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			s := &secretsRun{sim: sim, kind: kind, secrets: []string{secretsCanary}}
			creds := sim.Credentials(kind)
			if key, ok := creds["key"].(string); ok {
				s.keys = append(s.keys, key)
			}
			s.keyPath = writeServiceKey(t, sim, kind, "")
			env := stdioEnv()
			if tls {
				s.certFile = filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(s.certFile, sim.CACertificatePEM(), 0o600); err != nil {
					t.Fatal(err)
				}
				env = stdioEnv("SSL_CERT_FILE=" + s.certFile)
			}
			flags := []string{"--binding", s.keyPath, "--log-level", "debug", "--timeout", "1500ms", "--cache-ttl", "0"}
			p := startServer(t, env, flags...)

			outcomes := map[string]bool{}
			for _, sc := range secretsScenarios() {
				if sc.setup != nil {
					sc.setup(t, s)
				}
				args := sc.args
				if args == nil {
					args = map[string]any{}
				}
				r := p.callTool(t, sc.tool, args)
				// A failed read answers from the last good one, marked stale (age_seconds).
				outcomes[sc.name] = r.IsError || strings.Contains(r.Content[0].Text, `"age_seconds":`)
				t.Logf("%-34s isError=%-5v %.160s", sc.name, r.IsError, r.Content[0].Text)
				sim.ClearFaults()
			}
			for _, name := range []string{"healthy", "token revoked", "credentials rotated and written", "healthy again"} {
				if outcomes[name] { // failed, or answered from an older read
					t.Errorf("scenario %q failed; it must succeed", name)
				}
			}
			for _, name := range []string{"API 503", "API hung", "token 401", "token hung", "credentials rotated, file not yet"} {
				if !outcomes[name] {
					t.Errorf("scenario %q succeeded; the fault did not apply", name)
				}
			}
			_ = p.stdin.Close()
			if code := p.waitExit(t, time.Minute); code != 0 {
				t.Errorf("exit code %d", code)
			}

			// The call command too, once healthy and once refused, at debug level.
			var extra bytes.Buffer
			for _, refuse := range []bool{false, true} {
				if refuse {
					sim.RevokeTokens()
					sim.InjectFault(simulator.Fault{Target: simulator.TargetToken, Status: 401})
				}
				cmd := exec.Command(stdioBin, append(flags, "call", "get_security_status")...)
				cmd.Env = env
				cmd.Stdout, cmd.Stderr = &extra, &extra
				err := cmd.Run()
				if (err != nil) != refuse {
					t.Errorf("call (refused %v): %v\n%s", refuse, err, extra.String())
				}
				sim.ClearFaults()
			}

			stderr := p.stderr.String()
			all := p.stdout.String() + stderr + extra.String()
			if !strings.Contains(stderr, "level=DEBUG") {
				t.Fatalf("no debug records on stderr; the test would prove little:\n%.2000s", stderr)
			}
			secretsCheck(t, all, s, sim.IssuedTokens())
		})
	}
}

// secretsCheck fails if out holds a secret, a piece of a private key or a token.
func secretsCheck(t *testing.T, out string, s *secretsRun, tokens []string) {
	t.Helper()
	if len(tokens) < 3 {
		t.Errorf("only %d tokens issued; the scenarios did not run as meant", len(tokens))
	}
	find := func(what, needle string) {
		t.Helper()
		if needle == "" {
			return
		}
		if i := strings.Index(out, needle); i >= 0 {
			t.Errorf("the output shows %s at byte %d: …%s…", what, i, out[max(0, i-80):i])
		}
	}
	for _, secret := range s.secrets {
		find("the client secret", secret)
		find("the client secret, form-encoded", strings.NewReplacer("$", "%24", "=", "%3D").Replace(secret))
	}
	for _, key := range s.keys {
		var body strings.Builder
		for _, line := range strings.Split(key, "\n") {
			if line == "" || strings.HasPrefix(line, "-----") {
				continue
			}
			find("a line of the private key", line)
			body.WriteString(line)
		}
		find("the private key", body.String())
	}
	find("a private key header", "PRIVATE KEY-----")
	for _, tok := range tokens {
		find("an access token", tok)
		if i := strings.LastIndex(tok, "."); i > 0 && len(tok)-i > 16 {
			find("an access token's signature", tok[i+1:])
		}
	}
}
