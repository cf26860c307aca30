package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	s := sample{5, 1, 4, 2, 3}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 3}, {99, 5}, {100, 5}, {1, 1}, {20, 1}, {21, 2}} {
		if got := s.percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := (sample{}).p50(); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
	if s[0] != 5 {
		t.Error("percentile sorted the sample in place")
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		123 * time.Microsecond:    "0.123 ms",
		1234 * time.Microsecond:   "1.23 ms",
		12345 * time.Microsecond:  "12.3 ms",
		123456 * time.Microsecond: "123 ms",
		0:                         "-",
	} {
		if got := ms(d); got != want {
			t.Errorf("ms(%v) = %q, want %q", d, got, want)
		}
	}
	if got := ratio(50*time.Millisecond, 500*time.Microsecond); got != "100×" {
		t.Errorf("ratio = %q", got)
	}
}

// TestBenchRuns builds the server once and runs a small bench and a small fleet end to end.
func TestBenchRuns(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	binary, err := build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  config
		want []string
	}{
		{"landscapes", config{connectors: 20, systems: 5, warm: 3, cold: 2, startups: 2, sample: true}, []string{
			"start-up, 2 processes",
			"0 API requests, 0 token requests, at most 0 open sockets",
			"landscape demo",
			"landscape large (simulator.LargeLandscape(20, 5)): 20 connectors, 100 exposed systems",
			"find_exposed_system query",
			"curl recipe",
			"first call 1 / 1; 15 warm calls 0 / 0; 10 cold calls 10 / 0; 2 curl-recipe questions 2 / 2",
			"server peak RSS (VmHWM)",
		}},
		{"fleet", config{fleets: []int{1, 3}, maxParallel: 2}, []string{
			"--max-parallel 2",
			"\n1            10          ",
			"\n3            30          ",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			tc.cfg.binary, tc.cfg.cacheTTL = binary, time.Minute
			if err := run(tc.cfg, &out); err != nil {
				t.Fatalf("bench: %v\n%s", err, out.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if tc.cfg.fleets != nil && strings.Count(out.String(), "  met\n") != len(tc.cfg.fleets) {
				t.Errorf("a fleet missed its targets:\n%s", out.String())
			}
		})
	}
}
