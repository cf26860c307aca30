package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, minMemoryLimit},
		{23 << 20, minMemoryLimit}, // 1,000 connectors × 100 systems
		{minMemoryLimit * 2 / 3, minMemoryLimit},
		{60 << 20, 90 << 20}, // a fleet of 500 subaccounts needs more
		{1 << 62, 3 << 59},   // never overflows
	} {
		if got := memoryLimit(tc.live, minMemoryLimit); got != tc.want {
			t.Errorf("memoryLimit(%d MiB) = %d MiB, want %d MiB", tc.live>>20, got>>20, tc.want>>20)
		}
	}
}
