package tools

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestResultsMatchOutputSchemas is the guarantee the adapter does not check at run time: every
// tool answers every fixture landscape of the simulator, with and without filters, with
// structured content that matches its listed output schema and the same JSON as its text
// (callTool checks both; see checkStructured). Resources are checked against the schema of the
// tool whose output they hold.
func TestResultsMatchOutputSchemas(t *testing.T) {
	t.Parallel()
	landscapes := []struct {
		name   string
		agents []simulator.Agent
	}{
		{"sample", simulator.SampleLandscape()},
		{"clean", simulator.CleanLandscape()},
		{"empty", []simulator.Agent{}},
		{"reference agent alone", []simulator.Agent{simulator.ReferenceAgent()}},
		{"large, one system each", largeLandscape()},
		{"large, many systems each", simulator.LargeLandscape(60, 40)},
		{"small, no systems", simulator.LargeLandscape(3, 0)},
	}
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"list_cloud_connectors", nil},
		{"list_cloud_connectors", map[string]any{"limit": 1}},
		{"get_security_status", nil},
		{"get_security_status", map[string]any{"min_risk": "medium_risk", "limit": 2}},
		{"find_exposed_system", nil},
		{"find_exposed_system", map[string]any{"query": "internal", "protocol": "https", "limit": 500}},
		{"find_exposed_system", map[string]any{"query": "no such system"}},
		{"assess_connectors", nil},
		{"assess_connectors", map[string]any{"min_severity": "high", "limit": 1}},
		{"list_subaccounts", nil},
		{"list_subaccounts", map[string]any{"refresh": true}},
		{"what_changed", nil},
		{"what_changed", map[string]any{"since": "7d", "refresh": true, "limit": 1}},
		{"get_connector_health", nil},
		{"get_connector_health", map[string]any{"connector": "sgp-dc", "refresh": true}},
	}
	resources := map[string]string{connectorsURI: "list_cloud_connectors", findingsURI: "assess_connectors"}
	for _, l := range landscapes {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t, simEnvOptions{Landscape: l.agents, SCC: func(t *testing.T, id string) *sccadmin.Reader {
				return fleetReader(t, simulator.SampleSCCs(time.Now(), id), nil)
			}})
			covered := map[string]bool{}
			for _, c := range calls {
				if res := e.callTool(t, c.tool, c.args); res.IsError {
					t.Errorf("%s(%v) failed: %s", c.tool, c.args, resultText(t, res))
				}
				covered[c.tool] = true
			}
			for uri, tool := range resources {
				text, err := assessRead(t, e.client, uri)
				if err != nil {
					t.Fatalf("read %s: %v", uri, err)
				}
				if err := schemas.Validate(e.tools[tool].Tool.RawOutputSchema, json.RawMessage(text)); err != nil {
					t.Errorf("%s does not match the output schema of %s: %v", uri, tool, err)
				}
			}
			for name := range e.tools {
				if !covered[name] {
					t.Errorf("tool %s is not called on this landscape", name)
				}
			}
		})
	}
}
