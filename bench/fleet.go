package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// fleetRow is what one fleet size measured; requests are summed over every tenant.
type fleetRow struct {
	n, connectors                          int
	startup, cold, warm                    time.Duration
	coldToken, coldAPI, warmRequests, peak int64
	partial                                bool
}

// measureFleets asks assess_connectors of fleets of each size in cfg.fleets and prints a table
// with the targets (issue 12) that each row missed.
func measureFleets(w io.Writer, cfg config, binary string) error {
	fmt.Fprintf(w, "\nfleet: N subaccounts on one simulator (each its own client ID, token and demo landscape), bindings in VCAP_SERVICES_FILE_PATH, --max-parallel %d\n", cfg.maxParallel)
	rows := [][]string{{"subaccounts", "connectors", "start-up", "cold assess", "token req", "API req", "warm assess", "warm req", "peak RSS", "targets"}}
	for _, n := range cfg.fleets {
		r, err := measureFleet(cfg, binary, n)
		if err != nil {
			return fmt.Errorf("fleet of %d: %w", n, err)
		}
		var missed []string
		for what, bad := range map[string]bool{"partial": r.partial, "tokens≠N": r.coldToken != int64(n), "API≠N": r.coldAPI != int64(n),
			"warm requests": r.warmRequests != 0, "≥3 s": n <= 500 && r.cold >= 3*time.Second, "≥150 MiB": r.peak >= 150<<20} {
			if bad {
				missed = append(missed, what)
			}
		}
		slices.Sort(missed)
		rows = append(rows, []string{strconv.Itoa(n), strconv.Itoa(r.connectors), ms(r.startup), ms(r.cold), strconv.FormatInt(r.coldToken, 10),
			strconv.FormatInt(r.coldAPI, 10), ms(r.warm), strconv.FormatInt(r.warmRequests, 10), mib(r.peak), cmp.Or(strings.Join(missed, ", "), "met")})
	}
	printTable(w, rows)
	fmt.Fprintln(w, "start-up: spawn → initialize response; cold: the first assess_connectors (a token and an API read per subaccount); warm: the same call again")
	return nil
}

// measureFleet starts one server bound to n simulated subaccounts and asks assess_connectors twice.
func measureFleet(cfg config, binary string, n int) (r fleetRow, err error) {
	sim, err := newSim(cfg, nil)
	if err != nil {
		return r, err
	}
	defer sim.Close()
	tenants := make([]*simulator.Tenant, n)
	for i := range tenants {
		if tenants[i], err = sim.AddTenant(simulator.TenantOptions{Name: fmt.Sprintf("sub-%03d", i)}); err != nil {
			return r, err
		}
	}
	counts := func() (token, api int64) { // since the last call, the default tenant's included
		for _, t := range append(tenants, sim.Tenant) {
			c := t.Counts()
			t.ResetCounts()
			token, api = token+c.TokenRequests, api+c.APIRequests
		}
		return token, api
	}
	// Hundreds of bindings exceed Linux's 128 KiB limit on one environment string: Cloud
	// Foundry's file-based VCAP_SERVICES (VCAP_SERVICES_FILE_PATH) carries them instead.
	vcap := filepath.Join(os.TempDir(), fmt.Sprintf("btp-connectivity-mcp-bench-vcap-%d.json", os.Getpid()))
	if err := os.WriteFile(vcap, []byte(sim.VCAPServices(simulator.SecretCredentials, tenants...)), 0o600); err != nil {
		return r, err
	}
	defer os.Remove(vcap)

	start := time.Now()
	s, err := startFor(cfg, binary, "VCAP_SERVICES_FILE_PATH="+vcap, "--max-parallel", strconv.Itoa(cfg.maxParallel))
	if err != nil {
		return r, err
	}
	defer s.stop()
	r.n, r.startup = n, s.answeredAt.Sub(start)
	res, d, err := s.callTool("assess_connectors", map[string]any{})
	if err != nil {
		return r, err
	}
	r.cold, r.connectors, r.partial = d, res.StructuredContent.ConnectorsAssessed, res.StructuredContent.Partial
	r.coldToken, r.coldAPI = counts()
	if _, r.warm, err = s.callTool("assess_connectors", map[string]any{}); err != nil {
		return r, err
	}
	token, api := counts()
	r.warmRequests = token + api
	if r.peak, _, err = s.memory(); err != nil {
		return r, err
	}
	return r, s.stop()
}

// parseSizes parses "10,100,500".
func parseSizes(list string) (sizes []int, err error) {
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-subaccounts wants positive numbers separated by commas, not %q", list)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}
