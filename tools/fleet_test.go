package tools

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// fleetEnv is three subaccounts on one simulator: prod reads fine, dev has bad credentials (its
// secret was rotated in SAP), and lab is unreachable (its binding points at a closed port); plus
// a binding that was broken at start.
type fleetEnv struct {
	sim    *simulator.Server
	prod   *simulator.Tenant
	cfg    Config
	client *client.Client
}

func newFleetEnv(t *testing.T) *fleetEnv {
	t.Helper()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	prod, err := sim.AddTenant(simulator.TenantOptions{Name: "prod", Subdomain: "acme-prod-eu", Landscape: simulator.CleanLandscape()})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := sim.AddTenant(simulator.TenantOptions{Name: "dev", Subdomain: "acme-dev"})
	if err != nil {
		t.Fatal(err)
	}
	lab, err := sim.AddTenant(simulator.TenantOptions{Name: "lab", Subdomain: "acme-lab"})
	if err != nil {
		t.Fatal(err)
	}
	devKey := dev.ServiceKeyJSON(simulator.SecretCredentials)
	dev.RotateSecret("") // the key in hand no longer works
	labKey := strings.ReplaceAll(string(lab.ServiceKeyJSON(simulator.SecretCredentials)), sim.URL(), "http://127.0.0.1:1")

	var clients []*connectivity.Client
	for _, k := range []struct {
		name string
		key  []byte
	}{{"prod", prod.ServiceKeyJSON(simulator.SecretCredentials)}, {"dev", devKey}, {"lab", []byte(labKey)}} {
		parsed := binding.Parse(k.key, k.name)
		if len(parsed.Usable) != 1 {
			t.Fatalf("%s: %v", k.name, parsed.Err())
		}
		parsed.Usable[0].Name = k.name
		c, err := connectivity.NewClient(parsed.Usable[0], connectivity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	broken := []*binding.Error{{Name: "old", Source: "file /keys/old.json", Problems: []string{"has neither clientsecret nor certificate and key"}}}
	e := &fleetEnv{sim: sim, prod: prod, cfg: Config{
		Observations: observations(t, clients, broken, observe.Options{CacheTTL: time.Hour, MaxParallel: 2, SubaccountTimeout: 2 * time.Second}),
		CallTimeout:  longCallTimeout,
	}}
	e.cfg.History = memoryHistory(t, e.cfg.Observations)
	e.client, _ = startInProcess(t, NewServer(e.cfg))
	return e
}

func (e *fleetEnv) call(t *testing.T, name string, args map[string]any) (*mcp.CallToolResult, map[string]any) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	res, err := e.client.CallTool(t.Context(), req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out map[string]any
	if !res.IsError {
		if err := json.Unmarshal([]byte(resultText(t, res)), &out); err != nil {
			t.Fatal(err)
		}
	}
	return res, out
}

// failedSubaccounts returns errors[].subaccount → errors[].error of an answer.
func failedSubaccounts(out map[string]any) map[string]string {
	got := map[string]string{}
	errs, _ := out["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		got[m["subaccount"].(string)+"|"+m["binding"].(string)] = m["error"].(string)
	}
	return got
}

func TestFleetPartialAnswers(t *testing.T) {
	t.Parallel()
	e := newFleetEnv(t)
	wantFailed := map[string]string{
		"acme-dev|dev": "authentication with XSUAA failed: invalid_client (Bad credentials)",
		"acme-lab|lab": "did not answer",
		"old|old":      "the service binding is not usable",
	}
	for _, tool := range Names() {
		if tool == "list_subaccounts" {
			continue
		}
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			res, out := e.call(t, tool, nil)
			if res.IsError || out["partial"] != true {
				t.Fatalf("isError %v, partial %v: %s", res.IsError, out["partial"], resultText(t, res))
			}
			got := failedSubaccounts(out)
			for key, want := range wantFailed {
				if !strings.Contains(got[key], want) && !(key == "acme-lab|lab" && strings.Contains(got[key], "connection refused")) {
					t.Errorf("errors[%s] = %q, want %q", key, got[key], want)
				}
			}
			if len(got) != len(wantFailed) {
				t.Errorf("errors %v", got)
			}
		})
	}
	// The healthy subaccount's answer stands beside the failures.
	_, list := e.call(t, "list_cloud_connectors", nil)
	if totals := list["totals"].(map[string]any); totals["connectors"] != float64(2) {
		t.Errorf("totals %v, want the 2 connectors of prod", totals)
	}
	_, findings := e.call(t, "assess_connectors", nil)
	unreachable := 0
	for _, f := range findings["findings"].([]any) {
		if f.(map[string]any)["id"] == "subaccount.unreachable" {
			unreachable++
			if f.(map[string]any)["severity"] != "high" {
				t.Errorf("unreachable finding %v", f)
			}
		}
	}
	if unreachable != 3 || findings["worst_severity"] != "high" {
		t.Errorf("%d subaccount.unreachable findings, worst %v; want 3 and high", unreachable, findings["worst_severity"])
	}
}

func TestFleetSubaccountArgument(t *testing.T) {
	t.Parallel()
	e := newFleetEnv(t)
	for _, asked := range []string{"prod", "acme-prod-eu", "PROD"} {
		res, out := e.call(t, "list_cloud_connectors", map[string]any{"subaccount": asked})
		if res.IsError || out["partial"] != nil || out["total"] != float64(2) {
			t.Errorf("subaccount %q: %s", asked, resultText(t, res))
		}
	}
	// One subaccount that fails: the single-subaccount sentence, as an error.
	res, _ := e.call(t, "get_security_status", map[string]any{"subaccount": "dev"})
	if text := resultText(t, res); !res.IsError || !strings.HasPrefix(text, "authentication with XSUAA failed") {
		t.Errorf("dev alone: %v %s", res.IsError, text)
	}
	res, _ = e.call(t, "find_exposed_system", map[string]any{"subaccount": "nope"})
	if text := resultText(t, res); !res.IsError || !strings.Contains(text, `no subaccount "nope" is bound; valid values: prod, acme-prod-eu, dev, acme-dev, lab, acme-lab, old`) {
		t.Errorf("unknown subaccount: %s", text)
	}
	// list_subaccounts reports each, with what the reads above found.
	_, subs := e.call(t, "list_subaccounts", nil)
	byName := map[string]map[string]any{}
	for _, s := range subs["subaccounts"].([]any) {
		byName[s.(map[string]any)["name"].(string)] = s.(map[string]any)
	}
	if p := byName["prod"]; p["label"] != "acme-prod-eu" || p["credential"] != "secret" || p["connectors"] != float64(2) || p["last_read"] == nil || p["last_error"] != nil {
		t.Errorf("prod: %v", p)
	}
	if d := byName["dev"]; !strings.Contains(d["last_error"].(string), "Bad credentials") || d["last_read"] != nil {
		t.Errorf("dev: %v", d)
	}
	if o := byName["old"]; o["credential"] != "none" || !strings.Contains(o["last_error"].(string), "neither clientsecret") {
		t.Errorf("old: %v", o)
	}
}

func TestFleetAllFail(t *testing.T) {
	t.Parallel()
	e := newFleetEnv(t)
	e.prod.InjectFault(simulator.Fault{Status: 403})
	res, _ := e.call(t, "assess_connectors", map[string]any{"refresh": true})
	text := resultText(t, res)
	if !res.IsError || !strings.HasPrefix(text, "no subaccount could be read: ") {
		t.Fatalf("all failing: %v %s", res.IsError, text)
	}
	for _, name := range []string{"subaccount acme-prod-eu (binding prod)", "subaccount acme-dev (binding dev)", "subaccount acme-lab (binding lab)", "subaccount old (binding old)"} {
		if !strings.Contains(text, name) {
			t.Errorf("error lacks %q: %s", name, text)
		}
	}
}

func TestFleetProgress(t *testing.T) {
	t.Parallel()
	e := newFleetEnv(t)
	var mu sync.Mutex
	var progress []float64
	e.client.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			mu.Lock()
			defer mu.Unlock()
			f := n.Params.AdditionalFields
			progress = append(progress, number(f["progress"]))
			if number(f["total"]) != 4 || f["progressToken"] != "p-1" {
				t.Errorf("notification %v", n.Params.AdditionalFields)
			}
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name = "assess_connectors"
	req.Params.Meta = &mcp.Meta{ProgressToken: "p-1"}
	if _, err := e.client.CallTool(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // notifications may trail the answer; a generous bound
	for {
		mu.Lock()
		n := len(progress)
		mu.Unlock()
		if n == 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) != 4 || progress[len(progress)-1] != 4 {
		t.Errorf("progress %v, want 1..4 (done of 4 subaccounts)", progress)
	}
	// Without a progress token nothing is sent.
	progress = nil
	mu.Unlock()
	e.call(t, "list_cloud_connectors", map[string]any{"refresh": true})
	mu.Lock()
	if len(progress) != 0 {
		t.Errorf("progress without a token: %v", progress)
	}
}

// number reads a JSON number, whether it went through encoding (float64) or not (int).
func number(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case int:
		return float64(v)
	}
	return -1
}
