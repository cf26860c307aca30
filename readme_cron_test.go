package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestReadmeCronScript runs the README's cron script, as written, with the built binary over two
// subaccounts: it passes while both can be read, and fails (exit 1) once one of them cannot be,
// where a script looking only at the findings would have reported "no findings".
func TestReadmeCronScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "A cron script that alerts once per new finding"
	_, after, ok := strings.Cut(string(readme), marker)
	_, block, ok2 := strings.Cut(after, "```sh\n")
	script, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("README.md has no sh block after %q", marker)
	}
	dir := t.TempDir()
	for _, path := range []string{"/etc/btp/", "/var/lib/btp-connectivity-mcp/"} {
		if !strings.Contains(script, path) {
			t.Fatalf("the README's cron script no longer uses %s; update this test:\n%s", path, script)
		}
		script = strings.ReplaceAll(script, path, dir+"/")
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(stdioBin, filepath.Join(bin, "btp-connectivity-mcp")); err != nil {
		t.Fatal(err)
	}
	sim := assessSim(t, nil)
	tenants := map[string]*simulator.Tenant{}
	for _, name := range []string{"prod", "dev"} {
		tenant, err := sim.AddTenant(simulator.TenantOptions{Name: name, Subdomain: "acme-" + name, Landscape: simulator.CleanLandscape()})
		if err != nil {
			t.Fatal(err)
		}
		tenants[name] = tenant
		if err := os.WriteFile(filepath.Join(dir, name+"-key.json"), tenant.ServiceKeyJSON(simulator.SecretCredentials), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cron := func() (int, string) {
		cmd := exec.Command(sh, "-c", script)
		cmd.Env = stdioEnv("PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run()
		return cmd.ProcessState.ExitCode(), out.String()
	}
	if code, out := cron(); code != 0 || !strings.Contains(out, "PASS") {
		t.Fatalf("both subaccounts readable and clean: exit %d\n%s", code, out)
	}
	tenants["dev"].RotateSecret("") // the key file no longer works
	if code, out := cron(); code != 1 || !strings.Contains(out, "subaccount.unreachable  acme-dev") {
		t.Errorf("dev unreadable: exit %d, want 1 saying so\n%s", code, out)
	}
}
