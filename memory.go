package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// followLiveHeap keeps the Go runtime's soft memory limit at half again the live heap, and at
// least floor, checking every interval until ctx ends. The collector would let the heap grow to
// twice what is live before a cycle; the limit keeps it nearer, so that a server holding one large
// landscape stays small. It follows the live heap, so that a fleet whose observations need more
// is not held below what it uses (where the collector would run without pause).
func followLiveHeap(ctx context.Context, floor int64, interval time.Duration) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}} // as of the last collection
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		metrics.Read(live)
		debug.SetMemoryLimit(memoryLimit(live[0].Value.Uint64(), floor))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// memoryLimit is the soft memory limit for a live heap of live bytes: half again as much, and
// at least floor.
func memoryLimit(live uint64, floor int64) int64 {
	return max(floor, int64(min(live, 1<<60))*3/2)
}
