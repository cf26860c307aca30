package tools

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// decodeAgents decodes agents as the connectivity client decodes the API's answer (which shares
// a master's systems with its shadow).
func decodeAgents(tb testing.TB, agents []simulator.Agent) []connectivity.Connector {
	tb.Helper()
	data, err := json.Marshal(agents)
	if err != nil {
		tb.Fatal(err)
	}
	connectors, err := connectivity.DecodeConnectors(data)
	if err != nil {
		tb.Fatal(err)
	}
	return connectors
}

// indexFixtures are connectors with shared, partly shared, non-ASCII and empty system lists.
func indexFixtures(t *testing.T) map[string][]connectivity.Connector {
	extra := []connectivity.Connector{
		{ClientID: "u", ExposedSystems: []connectivity.ExposedSystem{
			{Host: "ÄÖÜ.Example:443", Description: "Straße İstanbul"}, {Host: "", Description: ""}, {Host: "aa", Description: "bb"},
		}},
		{ClientID: "v"},
	}
	extra = append(extra, connectivity.Connector{ClientID: "w", ExposedSystems: extra[0].ExposedSystems})     // shared, as a shadow's
	extra = append(extra, connectivity.Connector{ClientID: "x", ExposedSystems: extra[0].ExposedSystems[:1]}) // a prefix
	extra = append(extra, connectivity.Connector{ClientID: "y", ExposedSystems: extra[0].ExposedSystems[1:]}) // a suffix
	return map[string][]connectivity.Connector{
		"large":                  decodeAgents(t, simulator.LargeLandscape(40, 30)),
		"sample":                 decodeAgents(t, simulator.SampleLandscape()),
		"non-ASCII and shared":   extra,
		"no connectors":          nil,
		"connectors, no systems": decodeAgents(t, simulator.LargeLandscape(3, 0)),
	}
}

// TestSystemIndexMatcher checks the search over distinct systems against a search of each
// system's own lower-cased host and description.
func TestSystemIndexMatcher(t *testing.T) {
	t.Parallel()
	queries := []string{
		"", "sys", "sys3.loc4.internal:", "internal", "of location 7", "bbaa", "bb\x00", "\x00", "b\x00a",
		"aa\x00bb", "äö", "straße", "nothing", "1", "abapsys system 1 of location 12",
	}
	for name, connectors := range indexFixtures(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			index := observe.NewSystemIndex(connectivity.NewSnapshot(time.Now(), connectors, nil))
			for _, q := range queries {
				matches := index.Matcher(q)
				for i, c := range connectors {
					for j, sys := range c.ExposedSystems {
						want := strings.Contains(strings.ToLower(sys.Host), q) || strings.Contains(strings.ToLower(sys.Description), q)
						if got := matches(i, j); got != want {
							t.Fatalf("query %q, %s system %d: matcher %v, want %v", q, c.ClientID, j, got, want)
						}
					}
				}
			}
		})
	}
}

// BenchmarkSystemIndex measures indexing a snapshot's systems, done once per snapshot on the
// first find_exposed_system call (before, when the snapshot was built).
func BenchmarkSystemIndex(b *testing.B) {
	for _, l := range benchLandscapes {
		b.Run(l.name, func(b *testing.B) {
			snap := connectivity.NewSnapshot(time.Now(), decodeAgents(b, l.agents()), nil)
			b.ReportAllocs()
			for b.Loop() {
				observe.NewSystemIndex(snap)
			}
		})
	}
}
