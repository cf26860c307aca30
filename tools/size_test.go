package tools

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// Answers must fit a model's context. The limits of issue 10: each tool's answer without
// arguments on a 50-connector landscape at most 20 KiB of text, tools/list at most
// 3 KiB per tool (16 KiB held six tools; deep health and the dashboard link add to it).
const (
	maxAnswerBytes = 20 << 10
	maxToolBytes   = 3 << 10 // of tools/list, per tool
	// get_connector_health on 50 configured connectors (issue 19): each master's tunnels,
	// certificates, back ends and resources are its point.
	maxHealthBytes = 40 << 10
)

// sizeLandscapes are 50-connector landscapes: the large generator's mix of pairs, lone masters,
// versions and ratings, with and without a location attribute, with 10 systems per connector.
func sizeLandscapes() map[string][]simulator.Agent {
	return map[string][]simulator.Agent{
		"documented shape":                  simulator.LargeLandscape(50, 10),
		"with locations":                    simulator.LargeLandscapeWithLocations(50, 10),
		"demo (10 connectors, 42 findings)": simulator.SampleLandscape(),
	}
}

func TestAnswerSizes(t *testing.T) {
	t.Parallel()
	for name, landscape := range sizeLandscapes() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := newSimEnv(t, simEnvOptions{Landscape: landscape})
			// A second read, with history: findings seen before carry first_seen.
			env.callTool(t, "list_cloud_connectors", map[string]any{"refresh": true})
			for _, tool := range Names() {
				res := env.callTool(t, tool, nil)
				n := len(resultText(t, res))
				t.Logf("%s: %d bytes of text", tool, n)
				if res.IsError || n > maxAnswerBytes {
					t.Errorf("%s without arguments: %d bytes (error %v), want at most %d", tool, n, res.IsError, maxAnswerBytes)
				}
			}
		})
	}
}

func TestToolsListSize(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	res, err := env.client.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tools/list: %d tools, %d bytes", len(res.Tools), len(data))
	if limit := maxToolBytes * len(res.Tools); len(data) > limit {
		t.Errorf("tools/list is %d bytes for %d tools, want at most %d", len(data), len(res.Tools), limit)
	}
}

// TestConnectorHealthSize measures get_connector_health without arguments on 50 configured
// connectors (the five sample connectors ten times over: masters with a tunnel, four
// certificates, back ends and resources; shadows with their HA state).
func TestConnectorHealthSize(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{Landscape: simulator.SampleLandscape(), SCC: func(t *testing.T, id string) *sccadmin.Reader {
		var opts []simulator.SCCOptions
		for i := range 10 {
			for _, o := range simulator.SampleSCCs(time.Now(), id) {
				o.Name = fmt.Sprintf("%s %d", o.Name, i)
				opts = append(opts, o)
			}
		}
		return fleetReader(t, opts, nil)
	}})
	res := env.callTool(t, "get_connector_health", nil)
	n := len(resultText(t, res))
	t.Logf("get_connector_health on 50 connectors: %d bytes of text (%d per connector)", n, n/50)
	if res.IsError || n > maxHealthBytes {
		t.Errorf("get_connector_health on 50 connectors: %d bytes (error %v), want at most %d", n, res.IsError, maxHealthBytes)
	}
}
