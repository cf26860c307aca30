package connectivity_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The landscapes the benchmarks run on: the 10-connector demo landscape and 1,000 connectors
// with 100 exposed systems each (100,000 systems, about 17 MB of JSON).
var benchLandscapes = []struct {
	name   string
	agents func() []simulator.Agent
}{
	{"sample", simulator.SampleLandscape},
	{"large", func() []simulator.Agent { return simulator.LargeLandscape(1000, 100) }},
}

// body encodes agents as the Cloud Connector info endpoint sends them.
func body(tb testing.TB, agents []simulator.Agent) []byte {
	tb.Helper()
	data, err := json.Marshal(agents)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkDecodeConnectors measures decoding one response body, the work done once per
// snapshot.
func BenchmarkDecodeConnectors(b *testing.B) {
	for _, l := range benchLandscapes {
		b.Run(l.name, func(b *testing.B) {
			data := body(b, l.agents())
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := connectivity.DecodeConnectors(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchClient returns a client reading agents from a simulator on loopback.
func benchClient(b *testing.B, agents []simulator.Agent) *connectivity.Client {
	b.Helper()
	sim, err := simulator.New(simulator.Options{Landscape: agents})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	parsed := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "bench")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil {
		b.Fatal(err)
	}
	c, err := connectivity.NewClient(bindings[0], connectivity.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCloudConnectors measures a full read: HTTP on loopback with a cached token, and
// decoding (observe's benchmarks measure the cache).
func BenchmarkCloudConnectors(b *testing.B) {
	ctx := context.Background()
	for _, l := range benchLandscapes {
		b.Run(l.name, func(b *testing.B) {
			c := benchClient(b, l.agents())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.CloudConnectors(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
