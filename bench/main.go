// Command bench measures the btp-connectivity-mcp binary end to end, over stdio, against the
// simulator, and compares it with the curl recipe of SAP's documentation in the same run.
//
//	go run ./bench [-connectors 1000 -systems 100 -latency 50ms -n 200 -cold 20 -startups 30]
//	go run ./bench -binary ./btp-connectivity-mcp    # measure a binary built elsewhere
//
// It builds the server (unless -binary is given), starts an in-process simulator (fake XSUAA and
// Connectivity API on loopback, with the injected API latency), and runs the binary with a
// VCAP_SERVICES binding pointing at it (no VCAP_APPLICATION, no other binding source), speaking
// newline-delimited JSON-RPC on its stdin and stdout like an MCP client. It prints:
//
//   - start-up: time from spawning a process to reading its initialize response, over -startups
//     processes, and the requests and sockets seen before the first tool call (there must be none);
//   - for the demo landscape and for -connectors × -systems: warm tool calls (answered from the
//     cached snapshot, -n per question) and cold ones (refresh=true, a new API read each,
//     -cold per question), p50 and p99 of the round trip over the pipes;
//   - the same questions answered the curl-recipe way (token POST + GET, fresh each time) and the
//     ratio of its p50 to the server's;
//   - the requests the simulator counted in each phase, and the server's peak RSS (VmHWM).
package main

import (
	"bufio"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// config holds the command-line settings.
type config struct {
	binary, stderr                            string
	connectors, systems, warm, cold, startups int
	latency, tokenDelay, cacheTTL             time.Duration
	sample                                    bool
	fleets                                    []int // -subaccounts: fleet sizes, instead of the other measurements
	maxParallel                               int
	env                                       []string // extra KEY=VALUE for the server processes
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
	flag.StringVar(&cfg.stderr, "server-stderr", "", "append the servers' stderr (logs; GODEBUG=gctrace=1 output) to this `file`")
	flag.Func("subaccounts", "measure only fleets of these `sizes` (e.g. 10,100,500): assess_connectors over that many simulated subaccounts", func(v string) (err error) {
		cfg.fleets, err = parseSizes(v)
		return err
	})
	flag.IntVar(&cfg.maxParallel, "max-parallel", 32, "--max-parallel passed to the server in fleet mode")
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

// question is one question asked of the server: a tool and its arguments.
type question struct {
	label, tool string
	args        map[string]any
}

// questions returns the questions asked of the sample or of the large landscape.
func questions(large bool) []question {
	query := "s4h.internal"
	if large {
		query = "sys42.loc7.internal"
	}
	return []question{
		{"list_cloud_connectors", "list_cloud_connectors", map[string]any{}},
		{"get_security_status", "get_security_status", map[string]any{}},
		{"find_exposed_system filter", "find_exposed_system", map[string]any{"protocol": "HTTPS", "type": "abapSys"}},
		{"find_exposed_system query", "find_exposed_system", map[string]any{"query": query}},
		{"find_exposed_system query, 500 rows", "find_exposed_system", map[string]any{"query": "internal", "limit": 500}},
	}
}

// refreshed returns args with refresh=true.
func refreshed(args map[string]any) map[string]any {
	args = maps.Clone(args)
	args["refresh"] = true
	return args
}

func run(cfg config, out io.Writer) error {
	started := time.Now()
	binary := cfg.binary
	built := false
	if binary == "" {
		dir, err := os.MkdirTemp("", "btp-connectivity-mcp-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if binary, err = build(dir); err != nil {
			return err
		}
		built = true
	}
	binary, err := filepath.Abs(binary)
	if err != nil {
		return err
	}

	w := bufio.NewWriter(out)
	defer w.Flush()
	printMachine(w, binary, built)
	fmt.Fprintf(w, "simulator: latency %v on the Connectivity API, %v on the token endpoint; server flags: --cache-ttl %v\n",
		cfg.latency, cfg.tokenDelay, cfg.cacheTTL)
	if len(cfg.env) > 0 {
		fmt.Fprintf(w, "server environment: %s\n", strings.Join(cfg.env, " "))
	}
	w.Flush()

	if len(cfg.fleets) > 0 {
		return measureFleets(w, cfg, binary)
	}
	if err := measureStartup(w, cfg, binary); err != nil {
		return err
	}
	w.Flush()

	type landscape struct {
		name   string
		agents []simulator.Agent
		large  bool
	}
	var landscapes []landscape
	if cfg.sample {
		landscapes = append(landscapes, landscape{"demo (simulator.SampleLandscape)", simulator.SampleLandscape(), false})
	}
	if cfg.connectors > 0 {
		landscapes = append(landscapes, landscape{
			fmt.Sprintf("large (simulator.LargeLandscape(%d, %d))", cfg.connectors, cfg.systems),
			simulator.LargeLandscape(cfg.connectors, cfg.systems), true,
		})
	}
	for _, l := range landscapes {
		if err := measureLandscape(w, cfg, binary, l.name, l.agents, l.large); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		w.Flush()
	}
	fmt.Fprintf(w, "\ntotal bench time %.1f s\n", time.Since(started).Seconds())
	return nil
}

// build compiles the server from the module the bench belongs to.
func build(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(gomod))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the module (go env GOMOD): run from the checkout, or pass -binary")
	}
	root := filepath.Dir(mod)
	binary := filepath.Join(dir, "btp-connectivity-mcp")
	cmd := exec.Command("go", "build", "-o", binary, ".")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintf(os.Stderr, "bench: building %s …\n", root)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return binary, nil
}

// printMachine describes where the numbers come from.
func printMachine(w io.Writer, binary string, built bool) {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	goVersion := "unknown Go"
	if info, err := buildinfo.ReadFile(binary); err == nil {
		goVersion = info.GoVersion
	}
	how := "given with -binary"
	if built {
		how = "built by the bench"
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(data))[:3], " ")
	}
	fmt.Fprintf(w, "btp-connectivity-mcp bench, %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s/%s%s\n", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, load)
	fmt.Fprintf(w, "server: %s (%s, %s)\n", binary, how, goVersion)
}

// serverEnv is this process's environment without any binding source, plus extra and binding
// (KEY=VALUE).
func serverEnv(binding string, extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "VCAP_SERVICES", "VCAP_SERVICES_FILE_PATH", "VCAP_APPLICATION", "CONNECTIVITY_BINDING", "SERVICE_BINDING_ROOT":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, extra...)
	return append(env, binding)
}

// measureStartup spawns processes one after another and times each from spawn to the initialize
// response. It also checks that start-up, initialize and tools/list make no network I/O.
func measureStartup(w io.Writer, cfg config, binary string) error {
	sim, err := simulator.New(simulator.Options{APILatency: cfg.latency, TokenLatency: cfg.tokenDelay})
	if err != nil {
		return err
	}
	defer sim.Close()
	env := serverEnv("VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials), cfg.env)
	args := []string{"--cache-ttl", cfg.cacheTTL.String()}

	var startup, initOnly sample
	maxSockets := 0
	for range cfg.startups {
		start := time.Now()
		s, err := startServer(binary, args, env, cfg.stderr)
		if err != nil {
			return err
		}
		d, err := s.initialize()
		if err != nil {
			_ = s.stop()
			return fmt.Errorf("start-up: %w", err)
		}
		startup = append(startup, s.answeredAt.Sub(start))
		initOnly = append(initOnly, d)
		if _, _, err := s.request("tools/list", map[string]any{}); err != nil {
			_ = s.stop()
			return err
		}
		n, err := s.sockets()
		if err != nil {
			_ = s.stop()
			return err
		}
		maxSockets = max(maxSockets, n)
		if err := s.stop(); err != nil {
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

// result collects the measurements of one question.
type result struct {
	q          question
	warm, cold sample
}

// measureLandscape runs one server against one landscape and prints its table.
func measureLandscape(w io.Writer, cfg config, binary, name string, agents []simulator.Agent, large bool) error {
	sim, err := simulator.New(simulator.Options{Landscape: agents, APILatency: cfg.latency, TokenLatency: cfg.tokenDelay})
	if err != nil {
		return err
	}
	defer sim.Close()
	counts := func() simulator.Counts { // since the last call
		c := sim.Counts()
		sim.ResetCounts()
		return c
	}
	recipe := newCurlRecipe(sim.Credentials(simulator.SecretCredentials))

	s, err := startServer(binary, []string{"--cache-ttl", cfg.cacheTTL.String()}, serverEnv("VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials), cfg.env), cfg.stderr)
	if err != nil {
		return err
	}
	defer s.stop()
	if _, err := s.initialize(); err != nil {
		return err
	}

	// The first call reads the API (with a new token) and builds the snapshot.
	questions := questions(large)
	first, firstTime, err := s.callTool(questions[0].tool, questions[0].args)
	if err != nil {
		return err
	}
	firstCounts := counts()
	peakLoaded, _, err := s.memory()
	if err != nil {
		return err
	}

	results := make([]result, len(questions))
	for i, q := range questions {
		results[i].q = q
		for range cfg.warm {
			res, d, err := s.callTool(q.tool, q.args)
			if err != nil {
				return err
			}
			if res.StructuredContent.FetchedAt != first.StructuredContent.FetchedAt {
				return fmt.Errorf("a warm call was not answered from the first snapshot (fetched_at %s, want %s)",
					res.StructuredContent.FetchedAt, first.StructuredContent.FetchedAt)
			}
			results[i].warm = append(results[i].warm, d)
		}
	}
	warmCounts := counts()
	peakWarm, _, err := s.memory()
	if err != nil {
		return err
	}

	for i, q := range questions {
		for range cfg.cold {
			_, d, err := s.callTool(q.tool, refreshed(q.args))
			if err != nil {
				return err
			}
			results[i].cold = append(results[i].cold, d)
		}
	}
	coldCounts := counts()
	peak, current, err := s.memory()
	if err != nil {
		return err
	}
	if err := s.stop(); err != nil {
		return err
	}

	var curl sample
	bodyBytes := 0
	for range cfg.cold {
		d, n, err := recipe.ask()
		if err != nil {
			return fmt.Errorf("curl recipe: %w", err)
		}
		curl = append(curl, d)
		bodyBytes = n
	}
	curlCounts := counts()

	systems := 0
	for _, a := range agents {
		var list []json.RawMessage
		if json.Unmarshal([]byte(a.Attributes["exposed_systems"]), &list) == nil {
			systems += len(list)
		}
	}
	fmt.Fprintf(w, "\n== landscape %s: %d connectors, %d exposed systems, API answer %.1f MB\n",
		name, len(agents), systems, float64(bodyBytes)/1e6)
	fmt.Fprintf(w, "first tool call (token + API read + decode + answer): %s\n", ms(firstTime))
	rows := [][]string{{"question", "warm p50", "warm p99", "cold p50", "cold p99", "curl p50", "curl÷warm", "curl÷cold"}}
	for _, r := range results {
		rows = append(rows, []string{r.q.label,
			ms(r.warm.p50()), ms(r.warm.p99()), ms(r.cold.p50()), ms(r.cold.p99()), ms(curl.p50()),
			ratio(curl.p50(), r.warm.p50()), ratio(curl.p50(), r.cold.p50())})
	}
	printTable(w, rows)
	fmt.Fprintf(w, "curl recipe (token POST + GET on fresh connections, the body read to the end): p50 %s, p99 %s\n", ms(curl.p50()), ms(curl.p99()))
	fmt.Fprintf(w, "warm: %d calls per question from the cached snapshot; cold: %d calls per question with refresh=true (a new API read each); curl recipe: %d questions\n",
		cfg.warm, cfg.cold, cfg.cold)
	for _, q := range questions {
		fmt.Fprintf(w, "  %s: %s %s\n", q.label, q.tool, encode(q.args))
	}
	fmt.Fprintf(w, "requests (API / token): first call %d / %d; %d warm calls %d / %d; %d cold calls %d / %d; %d curl-recipe questions %d / %d\n",
		firstCounts.APIRequests, firstCounts.TokenRequests,
		cfg.warm*len(questions), warmCounts.APIRequests, warmCounts.TokenRequests,
		cfg.cold*len(questions), coldCounts.APIRequests, coldCounts.TokenRequests,
		cfg.cold, curlCounts.APIRequests, curlCounts.TokenRequests)
	fmt.Fprintf(w, "server peak RSS (VmHWM): %s after the first call, %s after the warm calls, %s after the cold calls (RSS then %s)\n",
		mib(peakLoaded), mib(peakWarm), mib(peak), mib(current))
	return nil
}

// printTable prints rows in columns.
func printTable(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// encode returns v as JSON.
func encode(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}
