package main

import (
	"cmp"
	"errors"
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

// measureFleets asks assess_connectors of fleets of each size in cfg.fleets and prints a table
// with the targets (issue 12) that each row missed.
func measureFleets(w io.Writer, cfg config) error {
	fmt.Fprintf(w, "\nfleet: N subaccounts on one simulator (each its own client ID, token and demo landscape), bindings in VCAP_SERVICES_FILE_PATH, --max-parallel %d\n", cfg.maxParallel)
	rows := [][]string{{"subaccounts", "connectors", "start-up", "cold assess", "token req", "API req", "warm assess", "warm req", "peak RSS", "targets"}}
	for _, n := range cfg.fleets {
		row, err := measureFleet(cfg, n)
		if err != nil {
			return fmt.Errorf("fleet of %d: %w", n, err)
		}
		rows = append(rows, row)
	}
	printTable(w, rows)
	fmt.Fprintln(w, "start-up: spawn → initialize response; cold: the first assess_connectors (a token and an API read per subaccount); warm: the same call again")
	return nil
}

// measureFleet starts one server bound to n simulated subaccounts, asks assess_connectors twice
// and returns its row of the table; requests are summed over every tenant.
func measureFleet(cfg config, n int) ([]string, error) {
	sim, err := cfg.sim(nil)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	tenants := make([]*simulator.Tenant, n)
	for i := range tenants {
		if tenants[i], err = sim.AddTenant(simulator.TenantOptions{Name: fmt.Sprintf("sub-%03d", i)}); err != nil {
			return nil, err
		}
	}
	requests := func() (token, api int64) { // since the last call, the default tenant's included
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
		return nil, err
	}
	defer os.Remove(vcap)
	s, err := start(cfg, "VCAP_SERVICES_FILE_PATH="+vcap, "--max-parallel", strconv.Itoa(cfg.maxParallel))
	if err != nil {
		return nil, err
	}
	defer s.stop()
	res, cold, err := s.callTool("assess_connectors", map[string]any{})
	if err != nil {
		return nil, err
	}
	coldToken, coldAPI := requests()
	_, warm, err := s.callTool("assess_connectors", map[string]any{})
	token, api := requests()
	peak, _, err2 := s.memory()
	if err := errors.Join(err, err2, s.stop()); err != nil {
		return nil, err
	}
	var missed []string
	for what, bad := range map[string]bool{"partial": res.StructuredContent.Partial, "tokens≠N": coldToken != int64(n), "API≠N": coldAPI != int64(n),
		"warm requests": token+api != 0, "≥3 s": n <= 500 && cold >= 3*time.Second, "≥150 MiB": peak >= 150<<20} {
		if bad {
			missed = append(missed, what)
		}
	}
	slices.Sort(missed)
	return []string{strconv.Itoa(n), strconv.Itoa(res.StructuredContent.ConnectorsAssessed), ms(s.startup), ms(cold), strconv.FormatInt(coldToken, 10),
		strconv.FormatInt(coldAPI, 10), ms(warm), strconv.FormatInt(token+api, 10), mib(peak), cmp.Or(strings.Join(missed, ", "), "met")}, nil
}
