package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// sample is a set of measured durations.
type sample []time.Duration

// percentile returns the nearest-rank percentile p (0 < p ≤ 100): the smallest measurement that
// at least p% of the measurements do not exceed.
func (s sample) percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(s))
	return sorted[min(max(int(math.Ceil(p/100*float64(len(s)))), 1), len(s))-1]
}

func (s sample) p50() time.Duration { return s.percentile(50) }
func (s sample) p99() time.Duration { return s.percentile(99) }

// sig3 formats v (not below 0.0001) with three significant digits, no exponent, and unit; "-"
// for a v that is not positive and finite.
func sig3(v float64, unit string) string {
	switch {
	case !(v > 0) || math.IsInf(v, 0):
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f%s", v, unit)
	}
	return fmt.Sprintf("%#.3g%s", v, unit)
}

// ms formats a duration in milliseconds with three significant digits.
func ms(d time.Duration) string { return sig3(float64(d)/float64(time.Millisecond), " ms") }

// ratio formats a/b as "12.3×".
func ratio(a, b time.Duration) string { return sig3(float64(a)/float64(b), "×") }

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
