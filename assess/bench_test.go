package assess_test

import (
	"runtime"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// BenchmarkRunLarge assesses simulator.LargeLandscape(1000, 100) (30,922 findings) and reports,
// besides the allocations of one assessment, the heap its result keeps live (retained-B): what
// an observation holds for its findings.
func BenchmarkRunLarge(b *testing.B) {
	snap := snapshotOf(b, simulator.LargeLandscape(1000, 100), "large")
	live := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC() // the first cycle may leave objects a finalizer revived
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := live()
	kept := run(b, snap, assess.Policy{})
	retained := live() - before
	runtime.KeepAlive(kept)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		run(b, snap, assess.Policy{})
	}
	b.ReportMetric(float64(retained), "retained-B")
}
