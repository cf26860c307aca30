package tools

import (
	"encoding/json"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// Answers must fit a model's context. The limits of issue 10: each tool's answer without
// arguments on a 50-connector landscape at most 20 KiB of text, tools/list at most
// 3 KiB per tool (16 KiB held six tools; deep health and the dashboard link add to it).
const (
	maxAnswerBytes = 20 << 10
	maxToolBytes   = 3 << 10 // of tools/list, per tool
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
