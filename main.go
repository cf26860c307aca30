// Command btp-connectivity-mcp is an MCP server (stdio, or Streamable HTTP with --http) that
// answers questions about the SAP BTP Cloud Connectors of one or many subaccounts from the
// Connectivity service REST API (plan api_access).
//
//	btp-connectivity-mcp [flags]                       serve MCP over stdio
//	btp-connectivity-mcp --http ADDR [flags]           serve MCP over Streamable HTTP at /mcp
//	btp-connectivity-mcp call TOOL [--args JSON] [flags]  run one tool and print its result
//	btp-connectivity-mcp check [--fail-on SEVERITY] [--format text|json|sarif|html] [--new-only [--cursor NAME]] [flags]
//	                                                   assess once; exit 1 on findings at or above SEVERITY
//
// With --demo it serves an embedded simulator instead of SAP, so no account is needed.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/report"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/tools"
)

// minMemoryLimit is the least soft memory limit the server sets for one subaccount unless
// GOMEMLIMIT is set: about twice what 1,000 connectors with 100 exposed systems keep live
// (docs/performance.md).
const minMemoryLimit = 44 << 20

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

const usage = `btp-connectivity-mcp — an MCP server for SAP BTP Cloud Connector health and security.

Usage:
  btp-connectivity-mcp [flags]                         serve MCP over stdio
  btp-connectivity-mcp --http ADDR [flags]             serve MCP over Streamable HTTP at /mcp
  btp-connectivity-mcp call TOOL [--args JSON] [flags] run one tool, print its result
  btp-connectivity-mcp check [--fail-on high] [--format text|json|sarif|html] [--new-only [--cursor NAME]] [flags]
                                                       assess every Cloud Connector once, for cron or CI:
                                                       exit 0 no finding at or above --fail-on, 1 there is one,
                                                       2 usage error, 3 the assessment could not run
  btp-connectivity-mcp --demo                          serve an embedded simulator (no SAP account)

The service binding (Connectivity service, plan api_access) is found in this order:
  --binding [NAME=]PATH  a service key file or Kyma binding folder, NAME naming the subaccount
                         (repeatable; env CONNECTIVITY_BINDING)
  VCAP_SERVICES          Cloud Foundry
  SERVICE_BINDING_ROOT   Kyma / Kubernetes service bindings

Tools: %s

Flags:
`

// options are the command-line settings shared by every mode.
type options struct {
	bindings    stringList
	demo        bool
	logLevel    slog.Level
	cacheTTL    time.Duration
	timeout     time.Duration
	showVer     bool
	toolArgs    string // call only
	failOn      string // check only
	format      string // check only
	minSCC      string // --min-scc-version
	minJava     int    // --min-java
	accepted    string // --accepted-risks
	maxParallel int    // --max-parallel
	history     string // --history: a file, a postgres:// URL or "off"
	retention   time.Duration
	watch       time.Duration // --watch-interval
	newOnly     bool          // check only
	cursor      string        // check --new-only: the alert cursor
	http        httpOptions
	scc         sccOptions // deep health
	extraArgs   []string
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("btp-connectivity-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.bindings, "binding", "service key `[NAME=]PATH` (JSON file or Kyma binding folder), NAME (letters, digits, '.', '_', '-') naming the subaccount; repeat for several subaccounts")
	fs.BoolVar(&o.demo, "demo", false, "serve the embedded simulator instead of SAP (no account needed)")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log `level` on stderr: debug, info, warn, error")
	fs.DurationVar(&o.cacheTTL, "cache-ttl", connectivity.DefaultCacheTTL, "how long one read of the Connectivity service answers questions (0 disables)")
	fs.DurationVar(&o.timeout, "timeout", tools.DefaultCallTimeout, "deadline of one tool call, retries included")
	fs.BoolVar(&o.showVer, "version", false, "print the version and exit")
	fs.IntVar(&o.maxParallel, "max-parallel", observe.DefaultMaxParallel, "subaccounts read at once")
	fs.StringVar(&o.history, "history", os.Getenv("CONNECTIVITY_HISTORY"), "history store: a SQLite `file`, a postgres:// URL, or off (env CONNECTIVITY_HISTORY; default: a bound PostgreSQL service, else $XDG_STATE_HOME/btp-connectivity-mcp/history.db; in memory with --demo)")
	fs.DurationVar(&o.retention, "history-retention", 400*24*time.Hour, "how long history keeps changes")
	fs.DurationVar(&o.watch, "watch-interval", tools.DefaultWatchInterval, "how often subscribed resources are re-read (never below --cache-ttl)")
	fs.BoolVar(&o.newOnly, "new-only", false, "with check: fail only on findings not yet reported to --cursor (needs history)")
	fs.StringVar(&o.cursor, "cursor", defaultCursor, "with check --new-only: the `name` of this consumer of alerts; each finding is reported to it once, whoever else reads (letters, digits, '.', '_', '-')")
	fs.StringVar(&o.toolArgs, "args", "{}", "with call: the tool's arguments as a JSON object")
	fs.StringVar(&o.failOn, "fail-on", string(assess.High), "with check: exit 1 when a finding is at least this `severity`: critical, high, medium, low, info")
	fs.StringVar(&o.format, "format", "text", "with check: output `format`, text (a table), json (the assess_connectors result), sarif (SARIF 2.1.0) or html (the dashboard as one file)")
	fs.StringVar(&o.minSCC, "min-scc-version", "", "Cloud Connector `version` below which assess_connectors reports version.outdated in every subaccount (default: derived per subaccount, see docs/assessment.md)")
	fs.IntVar(&o.minJava, "min-java", assess.DefaultMinJava, "Java `major` version below which assess_connectors reports version.java")
	fs.StringVar(&o.accepted, "accepted-risks", os.Getenv("CONNECTIVITY_ACCEPTED_RISKS"), "YAML or JSON `file` of accepted risks (env CONNECTIVITY_ACCEPTED_RISKS; see docs/assessment.md)")
	registerHTTPFlags(fs, &o.http)
	registerSCCFlags(fs, &o.scc)
	fs.Usage = func() {
		fmt.Fprintf(stderr, usage, strings.Join(tools.Names(), ", "))
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may stand before and after positional arguments. --help prints
// the usage; a mistake prints only itself and where the usage is, so it does not scroll away.
func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o, stderr)
	usage := fs.Usage
	fs.Usage = func() {} // the flag package calls it on every mistake too
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			usage()
			return nil, err
		} else if err != nil {
			fmt.Fprintf(stderr, "btp-connectivity-mcp: %v\nRun btp-connectivity-mcp --help for the usage and every flag.\n", err)
			return nil, err
		}
		if fs.NArg() == 0 {
			return o, nil
		}
		o.extraArgs = append(o.extraArgs, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its streams and exit code explicit, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if o.showVer {
		fmt.Fprintln(stdout, "btp-connectivity-mcp", version)
		return 0
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	mode := "serve"
	if len(o.extraArgs) > 0 {
		mode = o.extraArgs[0]
	}
	var callArgs map[string]any
	switch mode {
	case "serve":
	case "call":
		// Usage mistakes are reported before any binding is read or the demo simulator starts.
		if callArgs, err = callUsage(o); err != nil {
			fmt.Fprintf(stderr, "%v\nusage: btp-connectivity-mcp call TOOL [--args JSON]; tools: %s\n", err, strings.Join(tools.Names(), ", "))
			return 2
		}
	case "check":
		if err := checkUsage(o); err != nil {
			fmt.Fprintf(stderr, "%v\nusage: btp-connectivity-mcp check [--fail-on critical|high|medium|low|info] [--format text|json|sarif|html] [--new-only [--cursor NAME]]\n", err)
			return 2
		}
	default:
		fmt.Fprintf(stderr, "unknown command %q; run with --help\n", mode)
		return 2
	}
	if o.minSCC != "" {
		if _, err := assess.ParseVersion(o.minSCC); err != nil {
			fmt.Fprintln(stderr, "--min-scc-version:", err)
			return 2
		}
	}
	if o.minJava < 1 {
		fmt.Fprintf(stderr, "--min-java must be a Java major version such as 17, got %d\n", o.minJava)
		return 2
	}
	var accepted *assess.AcceptedRisks
	if o.accepted != "" {
		if accepted, err = assess.LoadAcceptedRisks(o.accepted, time.Now()); err != nil {
			fmt.Fprintf(stderr, "btp-connectivity-mcp: %v\nFix the file or leave out --accepted-risks (and CONNECTIVITY_ACCEPTED_RISKS); see docs/assessment.md.\n", err)
			if mode == "check" {
				return 2
			}
			return 1
		}
	}

	if err := loadSCC(o, logger); err != nil {
		fmt.Fprintf(stderr, "btp-connectivity-mcp: %v\nFix the file or leave out --scc-config (and %s); see README, Deep health.\n", err, sccadmin.EnvConfig)
		if mode == "check" {
			return 2
		}
		return 1
	}

	subaccounts, cleanup, err := buildPipeline(o, assess.Policy{MinSCCVersion: o.minSCC, MinJavaMajor: o.minJava, Accepted: accepted,
		Deep: assess.DeepPolicy{CertWarnDays: o.scc.certWarnDays}}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "btp-connectivity-mcp:", err)
		if mode == "check" {
			return checkNotRun
		}
		return 1
	}
	defer cleanup()
	if os.Getenv("GOMEMLIMIT") == "" { // GOMEMLIMIT wins
		// Each subaccount has a client of its own, with its connections, and an observation:
		// 128 KiB more each (500 subaccounts: the collector then leaves the cold fleet alone).
		go followLiveHeap(ctx, minMemoryLimit+int64(len(subaccounts.Subaccounts()))<<17, 250*time.Millisecond)
	}
	hist := openHistory(o, logger)
	defer hist.Close() // writes what waits for the store, then closes it
	if hist.Recorder != nil {
		subaccounts.Listen(hist.Observe)
	}
	cfg := tools.Config{Observations: subaccounts, History: hist.Recorder, Version: version, CallTimeout: o.timeout, Logger: logger,
		WatchInterval: o.watch, Context: ctx, SCC: o.scc.reader}

	if mode != "serve" && cfg.History != nil { // one-shot runs need what is new: a bounded wait for the store
		wait, cancel := context.WithTimeout(ctx, cmp.Or(o.timeout, tools.DefaultCallTimeout))
		cfg.History.Wait(wait)
		cancel()
	}
	switch mode {
	case "call":
		return callTool(ctx, cfg, o.extraArgs[1], callArgs, stdout, stderr)
	case "check":
		return runCheck(ctx, cfg, o, stdout, stderr)
	}
	if o.http.addr != "" {
		return serveHTTP(ctx, o, cfg, hist, stderr)
	}
	srv := tools.NewServer(cfg)
	stdio := server.NewStdioServer(srv)
	stdio.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	logger.Info("serving MCP on stdio", "version", version, "tools", len(tools.Names()))
	if err := stdio.Listen(ctx, stdin, stdout); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("stdio server stopped", "error", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// buildPipeline finds the bindings (or starts the simulator for --demo) and returns the
// observation pipeline over them (the one place sources are registered). No network I/O happens
// here: the first tool call reads the API. Broken bindings are logged and left out while at
// least one binding is usable.
func buildPipeline(o *options, policy assess.Policy, logger *slog.Logger) (*observe.Pipeline, func(), error) {
	copts := connectivity.Options{Logger: logger, UserAgent: "btp-connectivity-mcp/" + version, Observe: o.http.observer()}
	var found *binding.Result
	cleanup := func() {}
	if o.demo {
		sim, err := simulator.New(simulator.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("starting the demo simulator: %w", err)
		}
		cleanup = sim.Close
		sim.SetLandscapes(simulator.DemoLandscapes()...) // one change a read: refresh=true shows history at work
		found = binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "demo simulator")
		if o.scc.reader == nil && len(found.Usable) > 0 { // deep health too: the sample connectors' admin APIs
			reader, stop, err := demoSCCs(o, found.Usable[0].SubaccountID)
			if err != nil {
				sim.Close()
				return nil, nil, err
			}
			o.scc.reader, cleanup = reader, func() { stop(); sim.Close() }
		}
		logger.Info("demo mode: serving the embedded Cloud Connector simulator, not SAP", "url", sim.URL())
	} else {
		found = binding.Load(binding.Options{Paths: o.bindings, Environ: os.Environ()})
	}
	for _, s := range found.Skipped {
		logger.Info("binding skipped", "name", s.Name, "source", s.Source, "reason", s.Reason)
	}
	if err := found.Err(); err != nil {
		cleanup()
		return nil, nil, err
	}
	for _, e := range found.Broken {
		logger.Warn("binding not usable: serving the others", "name", e.Name, "source", e.Source, "error", e)
	}
	var bound []observe.Bound
	for _, b := range found.Usable {
		c, err := connectivity.NewClient(b, copts)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		logger.Info("using binding", "binding", b.String())
		bound = append(bound, observe.Bound{Client: c, Sources: sourcesOf(o.scc.reader, b)})
	}
	for _, e := range found.Broken {
		bound = append(bound, observe.Bound{Broken: e})
	}
	p, err := observe.New(bound, observe.Options{CacheTTL: o.cacheTTL, MaxParallel: o.maxParallel, Policy: policy})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return p, func() { p.Close(); cleanup() }, nil
}

// callTool runs one tool through the same adapter the server uses and prints its text result.
// Exit code 0 on success, 1 when the tool reports an error, 2 for usage errors.
// openedHistory is the history of the run, and how to end it.
type openedHistory struct {
	*observe.Recorder // nil when history is off
	stop              context.CancelFunc
}

// openHistory opens the history store --history names: off, a file, a postgres:// URL; by
// default a PostgreSQL service bound in VCAP_SERVICES, else the default file (in memory with
// --demo). It is opened in the background: start-up and answers never wait for a database. A
// store that cannot be used is reported, never fatal: every other tool still answers. Retention
// runs in the background, daily.
func openHistory(o *options, logger *slog.Logger) *openedHistory {
	spec := o.history
	var bound *history.PostgresBinding // a PostgreSQL service in VCAP_SERVICES, opened over verified TLS
	switch {
	case spec != "":
	case o.demo:
		spec = ":memory:"
	default:
		if pg, ok := history.BoundPostgres(os.Getenv("VCAP_SERVICES")); ok {
			spec, bound = "bound:"+pg.Name, &pg
			logger.Info("history in the bound PostgreSQL service", "service", pg.Name)
		} else if spec = history.DefaultPath(os.Getenv); spec == "" {
			spec = "off"
			logger.Warn("history is off: neither XDG_STATE_HOME nor HOME is set; pass --history PATH")
		}
	}
	h := &openedHistory{stop: func() {}}
	if spec == "off" {
		return h
	}
	pruneCtx, stop := context.WithCancel(context.Background())
	h.stop = stop
	describe := "the history store " + spec
	if strings.HasPrefix(spec, "postgres") {
		describe = "the PostgreSQL history store"
	}
	h.Recorder = observe.NewRecorder(describe, func(ctx context.Context) (history.Store, error) {
		var store history.Store
		var err error
		if spec == ":memory:" {
			store, err = history.OpenMemory(pruneCtx)
		} else if bound != nil {
			store, err = bound.Open(pruneCtx)
		} else {
			store, err = history.Open(ctx, spec)
		}
		if err != nil {
			logger.Warn("history unavailable: every other tool still answers", "error", err)
			return nil, err
		}
		logger.Info("history", "store", store.Describe(), "retention", o.retention)
		go prune(pruneCtx, store, o.retention, logger)
		return store, nil
	}, logger)
	return h
}

// prune deletes history older than retention now and daily, until ctx ends.
func prune(ctx context.Context, store history.Store, retention time.Duration, logger *slog.Logger) {
	for {
		if n, err := store.Prune(ctx, time.Now().Add(-retention)); err != nil && ctx.Err() == nil {
			logger.Warn("history retention failed", "error", err)
		} else if n > 0 {
			logger.Info("history retention", "changes_deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// Close writes what is queued for the store (for a few seconds at most), stops retention and
// closes the store.
func (h *openedHistory) Close() {
	if h.Recorder == nil {
		return
	}
	h.Recorder.Close(5 * time.Second)
	h.stop()
	if store := h.Store(); store != nil {
		store.Close()
	}
}

// callUsage checks the arguments of the call command and returns the tool's arguments.
func callUsage(o *options) (map[string]any, error) {
	if len(o.extraArgs) != 2 {
		return nil, errors.New("call takes one tool name")
	}
	if !slices.Contains(tools.Names(), o.extraArgs[1]) {
		return nil, fmt.Errorf("unknown tool %q", o.extraArgs[1])
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(o.toolArgs), &args); err != nil || args == nil {
		return nil, fmt.Errorf("--args must be a JSON object such as '{\"limit\": 10}', got %q", o.toolArgs)
	}
	return args, nil
}

// callTool runs one tool through the same adapter the server uses and prints its text result.
// Exit code 0 on success, 1 when the tool reports an error.
func callTool(ctx context.Context, cfg tools.Config, name string, args map[string]any, stdout, stderr io.Writer) int {
	tool, _ := tools.Lookup(cfg, name)
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := tool.Handler(ctx, req)
	if err != nil {
		fmt.Fprintln(stderr, "btp-connectivity-mcp:", err)
		return 1
	}
	out := stdout
	if res.IsError {
		out = stderr
	}
	for _, c := range res.Content {
		if text, ok := mcp.AsTextContent(c); ok {
			fmt.Fprintln(out, text.Text)
		}
	}
	if res.IsError {
		return 1
	}
	return 0
}

// checkNotRun is the exit code of check when the assessment could not run (no binding, the
// Connectivity service unreachable or refusing): distinct from 1, which means findings.
const checkNotRun = 3

// checkUsage validates the arguments of the check command.
func checkUsage(o *options) error {
	if len(o.extraArgs) != 1 {
		return fmt.Errorf("check takes no arguments, got %q", strings.Join(o.extraArgs[1:], " "))
	}
	o.failOn = strings.ToLower(strings.TrimSpace(o.failOn))
	if assess.Severity(o.failOn).Rank() < 0 {
		return fmt.Errorf("--fail-on must be one of critical, high, medium, low, info; got %q", o.failOn)
	}
	if !slices.Contains([]string{"text", "json", "sarif", "html"}, o.format) {
		return fmt.Errorf("--format must be text, json, sarif or html, got %q", o.format)
	}
	if err := checkCursor(o.cursor); err != nil {
		return err
	}
	return nil
}

// runCheck assesses every Cloud Connector once and prints the result: exit 0 when no finding is
// at or above --fail-on, 1 when one is, checkNotRun when the assessment could not run.
//
// With --new-only it fails only on findings its consumer (the alert cursor --cursor) has not been
// told yet, and moves the cursor once the report is written.
func runCheck(ctx context.Context, cfg tools.Config, o *options, stdout, stderr io.Writer) int {
	out, dash, err := tools.RunCheck(ctx, cfg, o.format == "html", time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "btp-connectivity-mcp check:", err)
		return checkNotRun
	}
	counts, what := out.Counts, ""
	var reported func() error // moves the alert cursor
	if o.newOnly {
		if reported, err = unreportedOnly(ctx, cfg, o.cursor, &out); err != nil {
			fmt.Fprintln(stderr, "btp-connectivity-mcp check --new-only:", err)
			return checkNotRun
		}
		counts, what = *out.NewCounts, "new "
	}
	code, verdict := 0, fmt.Sprintf("PASS: no %sfinding at or above %s (--fail-on %s)\n", what, o.failOn, o.failOn)
	var fails []string
	if n := countAtLeast(counts, assess.Severity(o.failOn)); n > 0 {
		fails = append(fails, fmt.Sprintf("%d %sfinding(s) at or above %s (--fail-on %s)", n, what, o.failOn, o.failOn))
	}
	if unread := unreadBelow(out.Findings, assess.Severity(o.failOn)); len(unread) > 0 {
		// Nothing can be said of a subaccount that was not read: never a pass, whatever --fail-on.
		fails = append(fails, fmt.Sprintf("%d subaccount(s) could not be read: %s", len(unread), strings.Join(unread, ", ")))
	}
	if len(fails) > 0 {
		code, verdict = 1, "FAIL: "+strings.Join(fails, "; ")+"\n"
	}
	// The report is written whole, then checked: the cursor moves only past a report that was.
	var doc bytes.Buffer
	switch o.format {
	case "json":
		enc := json.NewEncoder(&doc)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err = enc.Encode(out)
	case "sarif":
		err = report.WriteSARIF(&doc, out, version)
	case "html": // the dashboard of the same read: every finding, the trend and changes
		err = report.HTML(&doc, *dash)
	default: // the verdict follows the table; with json, sarif and html, stdout holds only the document
		if err = report.Text(&doc, out); err == nil {
			doc.WriteString(verdict)
			verdict = ""
		}
	}
	if err == nil {
		_, err = stdout.Write(doc.Bytes())
	}
	if err != nil {
		fmt.Fprintln(stderr, "btp-connectivity-mcp check: writing the result:", err)
		return checkNotRun
	}
	fmt.Fprint(stderr, verdict)
	if reported != nil {
		if err := reported(); err != nil {
			fmt.Fprintf(stderr, "btp-connectivity-mcp check --new-only: %v; the next run reports these findings again\n", err)
		}
	}
	return code
}

// unreadBelow returns the subaccounts that could not be read whose (not accepted) finding is below
// threshold, so that countAtLeast did not count it.
func unreadBelow(findings []schemas.Finding, threshold assess.Severity) []string {
	var out []string
	for _, f := range findings {
		if f.ID == assess.RuleSubaccountUnreachable && f.Accepted == nil && !assess.Severity(f.Severity).AtLeast(threshold) {
			out = append(out, f.Subaccount)
		}
	}
	return out
}

// countAtLeast returns how many findings counted in c (accepted ones never count) are at least
// as severe as threshold.
func countAtLeast(c schemas.SeverityCounts, threshold assess.Severity) int {
	n := 0
	for s, count := range map[assess.Severity]int{assess.Critical: c.Critical, assess.High: c.High, assess.Medium: c.Medium, assess.Low: c.Low, assess.Info: c.Info} {
		if s.AtLeast(threshold) {
			n += count
		}
	}
	return n
}
