package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// fleetRow is what one fleet size measured.
type fleetRow struct {
	n, connectors         int
	startup, cold, warm   time.Duration
	coldToken, coldAPI    int64
	warmRequests, peakRSS int64
	partial               bool
}

// measureFleets runs assess_connectors over fleets of each size in cfg.fleets and prints a table.
func measureFleets(w io.Writer, cfg config, binary string) error {
	fmt.Fprintf(w, "\nfleet: N subaccounts on one simulator (each its own client ID, token and demo landscape), bindings in VCAP_SERVICES_FILE_PATH, --max-parallel %d\n", cfg.maxParallel)
	rows := [][]string{{"subaccounts", "connectors", "start-up", "cold assess", "token req", "API req", "warm assess", "warm req", "peak RSS", "targets"}}
	for _, n := range cfg.fleets {
		r, err := measureFleet(cfg, binary, n)
		if err != nil {
			return fmt.Errorf("fleet of %d: %w", n, err)
		}
		var missed []string
		for _, c := range []struct {
			bad  bool
			what string
		}{{r.partial, "partial"}, {r.coldToken != int64(n), "tokens≠N"}, {r.coldAPI != int64(n), "API≠N"},
			{r.warmRequests != 0, "warm requests"}, {n == 500 && r.cold >= 3*time.Second, "≥3 s"}, {r.peakRSS >= 150<<20, "≥150 MiB"}} {
			if c.bad {
				missed = append(missed, c.what)
			}
		}
		rows = append(rows, []string{strconv.Itoa(n), strconv.Itoa(r.connectors), ms(r.startup), ms(r.cold),
			strconv.FormatInt(r.coldToken, 10), strconv.FormatInt(r.coldAPI, 10), ms(r.warm),
			strconv.FormatInt(r.warmRequests, 10), mib(r.peakRSS), cmp.Or(strings.Join(missed, ", "), "met")})
	}
	printTable(w, rows)
	fmt.Fprintln(w, "start-up: spawn → initialize response; cold: the first assess_connectors (a token and an API read per subaccount); warm: the same call again; requests summed over all tenants")
	return nil
}

// measureFleet starts one server bound to n simulated subaccounts and asks assess_connectors twice.
func measureFleet(cfg config, binary string, n int) (fleetRow, error) {
	r := fleetRow{n: n}
	sim, err := simulator.New(simulator.Options{APILatency: cfg.latency, TokenLatency: cfg.tokenDelay})
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
	counts := func() (token, api int64) { // since the last call, over every tenant (the default one too)
		for _, t := range append(tenants, sim.Tenant) {
			c := t.Counts()
			t.ResetCounts()
			token, api = token+c.TokenRequests, api+c.APIRequests
		}
		return token, api
	}
	// A VCAP_SERVICES of hundreds of bindings exceeds Linux's 128 KiB limit on one environment
	// string; Cloud Foundry's file-based bindings (VCAP_SERVICES_FILE_PATH) carry it instead.
	dir, err := os.MkdirTemp("", "btp-connectivity-mcp-fleet-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	vcap := filepath.Join(dir, "vcap_services.json")
	if err := os.WriteFile(vcap, []byte(sim.VCAPServices(simulator.SecretCredentials, tenants...)), 0o600); err != nil {
		return r, err
	}

	args := []string{"--cache-ttl", cfg.cacheTTL.String(), "--max-parallel", strconv.Itoa(cfg.maxParallel)}
	start := time.Now()
	s, err := startServer(binary, args, serverEnv("VCAP_SERVICES_FILE_PATH="+vcap, cfg.env), cfg.stderr)
	if err != nil {
		return r, err
	}
	defer s.stop()
	if err := s.initialize(); err != nil {
		return r, err
	}
	r.startup = s.answeredAt.Sub(start)
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
	if r.peakRSS, _, err = s.memory(); err != nil {
		return r, err
	}
	return r, s.stop()
}

// parseSizes parses "10,100,500".
func parseSizes(list string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-subaccounts wants positive numbers separated by commas, not %q", list)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}
