// Command bench measures the btp-connectivity-mcp binary end to end, over stdio, against the
// simulator, and compares it with the curl recipe of SAP's documentation in the same run.
//
//	go run ./bench [-connectors 1000 -systems 100 -latency 50ms -n 200 -cold 20 -startups 30]
//	go run ./bench -binary ./btp-connectivity-mcp    # measure a binary built elsewhere
//	go run ./bench -subaccounts 10,100,500           # fleets: assess_connectors over N subaccounts
//
// It builds the server (unless -binary is given), binds it to an in-process simulator with the
// injected latency and speaks JSON-RPC on its stdio like an MCP client. It prints the start-up
// time, the requests before the first tool call (there must be none), the p50 and p99 of warm and
// cold (refresh=true) tool calls next to the curl recipe, the requests counted and the peak RSS.
package main

import (
	"cmp"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// config holds the command-line settings.
type config struct {
	binary                                    string
	stderr                                    io.Writer // -server-stderr
	connectors, systems, warm, cold, startups int
	latency, tokenDelay, cacheTTL             time.Duration
	sample, changing                          bool
	env                                       []string // extra KEY=VALUE for the server processes
	fleets                                    []int    // -subaccounts: fleet sizes, instead of the other measurements
	maxParallel                               int
	history                                   string // -history
}

func main() {
	var cfg config
	flag.StringVar(&cfg.binary, "binary", "", "measure this server binary instead of building one from the module")
	flag.IntVar(&cfg.connectors, "connectors", 1000, "connectors in the large landscape (0 skips it)")
	flag.IntVar(&cfg.systems, "systems", 100, "exposed systems per connector in the large landscape")
	flag.DurationVar(&cfg.latency, "latency", 50*time.Millisecond, "latency the simulator adds to every Connectivity API answer")
	flag.DurationVar(&cfg.tokenDelay, "token-latency", -1, "latency the simulator adds to every token answer (default: the same as -latency)")
	flag.IntVar(&cfg.warm, "n", 200, "warm tool calls per question")
	flag.IntVar(&cfg.cold, "cold", 20, "cold tool calls (refresh=true) per question, and curl-recipe questions per landscape")
	flag.IntVar(&cfg.startups, "startups", 30, "processes spawned to measure start-up")
	flag.BoolVar(&cfg.sample, "sample", true, "also measure the 10-connector demo landscape")
	flag.DurationVar(&cfg.cacheTTL, "cache-ttl", 10*time.Minute, "--cache-ttl passed to the server, long enough that warm calls never expire")
	flag.Func("server-env", "set `KEY=VALUE` in the servers' environment only (repeatable), e.g. GOMEMLIMIT=64MiB", func(kv string) error {
		if !strings.Contains(kv, "=") {
			return errors.New("want KEY=VALUE")
		}
		cfg.env = append(cfg.env, kv)
		return nil
	})
	flag.Func("server-stderr", "append the servers' stderr (logs; GODEBUG=gctrace=1 output) to this `file`", func(path string) (err error) {
		cfg.stderr, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		return err
	})
	flag.Func("subaccounts", "measure only fleets of these `sizes` (e.g. 10,100,500): assess_connectors over that many simulated subaccounts", func(v string) error {
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return errors.New("want positive numbers separated by commas")
			}
			cfg.fleets = append(cfg.fleets, n)
		}
		return nil
	})
	flag.BoolVar(&cfg.changing, "changing", false, "each cold call reads a changed landscape (one connector's version differs from the read before), so that every read is decoded in part and assessed anew")
	flag.IntVar(&cfg.maxParallel, "max-parallel", 32, "--max-parallel passed to the server in fleet mode")
	flag.StringVar(&cfg.history, "history", "", "--history passed to the servers (default: a SQLite file in a temporary folder, as a deployment records every read; off measures without history)")
	flag.Parse()
	if cfg.tokenDelay < 0 {
		cfg.tokenDelay = cfg.latency
	}
	if cfg.warm < 1 || cfg.cold < 1 || cfg.startups < 1 || cfg.connectors < 0 || cfg.systems < 0 || cfg.latency < 0 {
		fmt.Fprintln(os.Stderr, "bench: -n, -cold and -startups must be at least 1; -connectors, -systems and -latency not negative")
		os.Exit(2)
	}
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg config, w io.Writer) (err error) {
	started, how := time.Now(), "given with -binary"
	if cfg.history == "" {
		dir, err := os.MkdirTemp("", "btp-connectivity-mcp-bench-history-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.history = filepath.Join(dir, "history.db") // each server appends its reads; ids differ per landscape
	}
	if cfg.binary == "" {
		dir, err := os.MkdirTemp("", "btp-connectivity-mcp-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if cfg.binary, err = build(dir); err != nil {
			return err
		}
		how = "built by the bench"
	}
	if cfg.binary, err = filepath.Abs(cfg.binary); err != nil {
		return err
	}
	printMachine(w, cfg.binary, how)
	fmt.Fprintf(w, "simulator: latency %v on the Connectivity API, %v on the token endpoint; server flags: --cache-ttl %v\n",
		cfg.latency, cfg.tokenDelay, cfg.cacheTTL)
	if len(cfg.env) > 0 {
		fmt.Fprintf(w, "server environment: %s\n", strings.Join(cfg.env, " "))
	}
	if len(cfg.fleets) > 0 {
		return measureFleets(w, cfg)
	}
	if err := measureStartup(w, cfg); err != nil {
		return err
	}
	if cfg.sample {
		if err := measureLandscape(w, cfg, "demo (simulator.SampleLandscape)", simulator.SampleLandscape(), false); err != nil {
			return fmt.Errorf("demo landscape: %w", err)
		}
	}
	if cfg.connectors > 0 {
		name := fmt.Sprintf("large (simulator.LargeLandscape(%d, %d))", cfg.connectors, cfg.systems)
		if err := measureLandscape(w, cfg, name, simulator.LargeLandscape(cfg.connectors, cfg.systems), true); err != nil {
			return fmt.Errorf("large landscape: %w", err)
		}
	}
	fmt.Fprintf(w, "\ntotal bench time %.1f s\n", time.Since(started).Seconds())
	return nil
}

// build compiles the server of the module the bench belongs to into dir.
func build(dir string) (string, error) {
	binary := filepath.Join(dir, "btp-connectivity-mcp")
	fmt.Fprintln(os.Stderr, "bench: building the server …")
	cmd := exec.Command("go", "build", "-o", binary, "github.com/btp-connectivity-mcp/btp-connectivity-mcp")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build (run from the checkout, or pass -binary): %w", err)
	}
	return binary, nil
}

// printMachine describes where the numbers come from.
func printMachine(w io.Writer, binary, how string) {
	cpu, goVersion, load := "unknown CPU", "unknown Go", ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		_, rest, _ := strings.Cut(string(data), "model name")
		line, _, _ := strings.Cut(rest, "\n")
		cpu = cmp.Or(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), ":")), cpu)
	}
	if info, err := buildinfo.ReadFile(binary); err == nil {
		goVersion = info.GoVersion
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(data))[:3], " ")
	}
	fmt.Fprintf(w, "btp-connectivity-mcp bench, %s\nmachine: %d CPUs (%s), %s/%s%s\nserver: %s (%s, %s)\n",
		time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, load, binary, how, goVersion)
}

// sim starts a simulator with the configured latency whose default tenant serves agents.
func (cfg config) sim(agents []simulator.Agent) (*simulator.Server, error) {
	return simulator.New(simulator.Options{Landscape: agents, APILatency: cfg.latency, TokenLatency: cfg.tokenDelay})
}

// measureStartup spawns processes one after another and times each from spawn to the initialize
// response. It also checks that start-up, initialize and tools/list make no network I/O.
func measureStartup(w io.Writer, cfg config) error {
	sim, err := cfg.sim(nil)
	if err != nil {
		return err
	}
	defer sim.Close()
	var startup, initOnly sample
	maxSockets, binding := 0, "VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials)
	for range cfg.startups {
		s, err := start(cfg, binding)
		if err != nil {
			return err
		}
		startup, initOnly = append(startup, s.startup), append(initOnly, s.initTime)
		_, _, err = s.request("tools/list", map[string]any{})
		n, err2 := s.sockets()
		maxSockets = max(maxSockets, n)
		if err := errors.Join(err, err2, s.stop()); err != nil {
			return err
		}
	}
	counts := sim.Counts()
	fmt.Fprintf(w, "\nstart-up, %d processes (spawn → initialize response): p50 %s, p99 %s (initialize request alone: p50 %s)\n",
		cfg.startups, ms(startup.p50()), ms(startup.p99()), ms(initOnly.p50()))
	fmt.Fprintf(w, "before the first tool call (start-up, initialize, tools/list): %d API requests, %d token requests, at most %d open sockets\n",
		counts.APIRequests, counts.TokenRequests, maxSockets)
	if counts.APIRequests+counts.TokenRequests != 0 || maxSockets != 0 {
		return errors.New("the server did network I/O before the first tool call")
	}
	return nil
}

// measureLandscape runs one server against one landscape and prints its table.
func measureLandscape(w io.Writer, cfg config, name string, agents []simulator.Agent, large bool) error {
	query := map[bool]string{false: "s4h.internal", true: "sys42.loc7.internal"}[large]
	qs := []struct { // the questions asked of the server: a tool and its arguments
		label, tool string
		args        map[string]any
	}{
		{"list_cloud_connectors", "list_cloud_connectors", map[string]any{}},
		{"get_security_status", "get_security_status", map[string]any{}},
		{"find_exposed_system filter", "find_exposed_system", map[string]any{"protocol": "HTTPS", "type": "abapSys"}},
		{"find_exposed_system query", "find_exposed_system", map[string]any{"query": query}},
		{"find_exposed_system query, 500 rows", "find_exposed_system", map[string]any{"query": "internal", "limit": 500}},
	}
	sim, err := cfg.sim(agents)
	if err != nil {
		return err
	}
	defer sim.Close()
	s, err := start(cfg, "VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials))
	if err != nil {
		return err
	}
	defer s.stop()
	var counts [4]simulator.Counts // first call, warm calls, cold calls, curl recipe
	var peaks [3]int64             // after the first call, the warm calls, the cold calls
	var current int64
	phase := func(i int) (err error) {
		counts[i] = sim.Counts()
		sim.ResetCounts()
		if i < len(peaks) {
			peaks[i], current, err = s.memory()
		}
		return err
	}
	// The first call reads the API (with a new token) and builds the snapshot.
	first, firstTime, err := s.callTool(qs[0].tool, qs[0].args)
	if err := errors.Join(err, phase(0)); err != nil {
		return err
	}
	times := make([][2]sample, len(qs)) // per question: warm, cold
	changes := 0                        // of the landscape, with -changing
	for p, calls := range []int{cfg.warm, cfg.cold} {
		for i, q := range qs {
			args := maps.Clone(q.args)
			if p == 1 {
				args["refresh"] = true
			}
			for range calls {
				if p == 1 && cfg.changing {
					changes++
					agents[changes%len(agents)].Attributes["agent_version"] = "2.18." + strconv.Itoa(changes)
					sim.SetLandscape(agents)
				}
				res, d, err := s.callTool(q.tool, args)
				if err != nil {
					return err
				}
				if p == 0 && res.StructuredContent.FetchedAt != first.StructuredContent.FetchedAt {
					return fmt.Errorf("a warm call was not answered from the first snapshot (fetched_at %s, want %s)",
						res.StructuredContent.FetchedAt, first.StructuredContent.FetchedAt)
				}
				times[i][p] = append(times[i][p], d)
			}
		}
		if err := phase(p + 1); err != nil {
			return err
		}
	}
	if err := s.stop(); err != nil {
		return err
	}
	curl, bodyBytes, err := curlRecipe(sim.Credentials(simulator.SecretCredentials), cfg.cold)
	if err != nil {
		return fmt.Errorf("curl recipe: %w", err)
	}
	_ = phase(3)

	systems := 0
	for _, a := range agents {
		systems += strings.Count(a.Attributes["exposed_systems"], `"protocol":`)
	}
	fmt.Fprintf(w, "\n== landscape %s: %d connectors, %d exposed systems, API answer %.1f MB\n", name, len(agents), systems, float64(bodyBytes)/1e6)
	fmt.Fprintf(w, "first tool call (token + API read + decode + answer): %s\n", ms(firstTime))
	rows := [][]string{{"question", "warm p50", "warm p99", "cold p50", "cold p99", "curl p50", "curl÷warm", "curl÷cold"}}
	for i, q := range qs {
		warm, cold := times[i][0], times[i][1]
		rows = append(rows, []string{q.label, ms(warm.p50()), ms(warm.p99()), ms(cold.p50()), ms(cold.p99()), ms(curl.p50()),
			ratio(curl.p50(), warm.p50()), ratio(curl.p50(), cold.p50())})
	}
	printTable(w, rows)
	fmt.Fprintf(w, "curl recipe (token POST + GET on fresh connections, the body read to the end): p50 %s, p99 %s\n", ms(curl.p50()), ms(curl.p99()))
	fmt.Fprintf(w, "warm: %d calls per question from the cached snapshot; cold: %d calls per question with refresh=true (a new API read each); curl recipe: %d questions\n",
		cfg.warm, cfg.cold, cfg.cold)
	for _, q := range qs {
		args, _ := json.Marshal(q.args)
		fmt.Fprintf(w, "  %s: %s %s\n", q.label, q.tool, args)
	}
	fmt.Fprintf(w, "requests (API / token): first call %d / %d; %d warm calls %d / %d; %d cold calls %d / %d; %d curl-recipe questions %d / %d\n",
		counts[0].APIRequests, counts[0].TokenRequests, cfg.warm*len(qs), counts[1].APIRequests, counts[1].TokenRequests,
		cfg.cold*len(qs), counts[2].APIRequests, counts[2].TokenRequests, cfg.cold, counts[3].APIRequests, counts[3].TokenRequests)
	fmt.Fprintf(w, "server peak RSS (VmHWM): %s after the first call, %s after the warm calls, %s after the cold calls (RSS then %s)\n",
		mib(peaks[0]), mib(peaks[1]), mib(peaks[2]), mib(current))
	return nil
}

// curlRecipe asks n questions the way SAP's "Calling the Connectivity Service REST API" page
// shows with curl: a token POST with the binding's client credentials (creds, the simulator's
// secret ones), then a GET of the Cloud Connector info with the token, reading the whole body.
// Like separate curl runs it shares nothing between questions (new connections, a new token) and
// does not parse the answer. It returns each question's time and the size of the answer.
func curlRecipe(creds map[string]any, n int) (times sample, size int64, err error) {
	svc := creds["connectivity_service"].(map[string]any)
	info := svc["url"].(string) + svc["scc_info_path"].(string)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {creds["clientid"].(string)}, "client_secret": {creds["clientsecret"].(string)}}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	for range n {
		start := time.Now()
		resp, err := client.PostForm(creds["token_service_url"].(string)+"/oauth/token", form)
		if err != nil {
			return nil, 0, fmt.Errorf("token request: %w", err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
			return nil, 0, fmt.Errorf("token request: HTTP %d, no access token (%v)", resp.StatusCode, err)
		}
		req, _ := http.NewRequest(http.MethodGet, info, nil) // the simulator's URL is valid
		req.Header = http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer " + tok.AccessToken}}
		if resp, err = client.Do(req); err != nil {
			return nil, 0, fmt.Errorf("info request: %w", err)
		}
		size, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, 0, fmt.Errorf("info request: HTTP %d (%v)", resp.StatusCode, err)
		}
		times = append(times, time.Since(start))
	}
	return times, size, nil
}

// printTable prints rows in columns.
func printTable(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// sample is a set of measured durations.
type sample []time.Duration

// percentile returns the nearest-rank percentile p (0 < p ≤ 100): the smallest measurement that
// at least p% of the measurements do not exceed.
func (s sample) percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(s))
	return sorted[min(max(int(math.Ceil(p/100*float64(len(s)))), 1), len(s))-1]
}

func (s sample) p50() time.Duration { return s.percentile(50) }
func (s sample) p99() time.Duration { return s.percentile(99) }

// sig3 formats v (not below 0.0001) with three significant digits, no exponent, and unit; "-"
// for a v that is not positive and finite.
func sig3(v float64, unit string) string {
	switch {
	case !(v > 0) || math.IsInf(v, 0):
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f%s", v, unit)
	}
	return fmt.Sprintf("%#.3g%s", v, unit)
}

// ms formats a duration in milliseconds with three significant digits.
func ms(d time.Duration) string { return sig3(float64(d)/float64(time.Millisecond), " ms") }

// ratio formats a/b as "12.3×".
func ratio(a, b time.Duration) string { return sig3(float64(a)/float64(b), "×") }

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
