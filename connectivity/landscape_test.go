package connectivity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestLandscapeCoalescesAndCaches(t *testing.T) {
	sim, c := newSim(t, simulator.Options{APILatency: 50 * time.Millisecond}, simulator.SecretCredentials, connectivity.Options{})
	l := connectivity.NewLandscape(c, time.Minute)

	var wg sync.WaitGroup
	snaps := make([]*connectivity.Snapshot, 100)
	for i := range snaps {
		wg.Go(func() {
			s, err := l.Snapshot(context.Background(), false)
			if err != nil {
				t.Error(err)
			}
			snaps[i] = s
		})
	}
	wg.Wait()
	if n := sim.Counts(); n.APIRequests != 1 || n.TokenRequests != 1 {
		t.Fatalf("100 concurrent snapshots: counts = %+v, want 1 API and 1 token request", n)
	}
	for _, s := range snaps {
		if s != snaps[0] {
			t.Fatal("concurrent callers got different snapshots")
		}
	}

	// Within the TTL the snapshot is reused; refresh reads again.
	if s, _ := l.Snapshot(context.Background(), false); s != snaps[0] {
		t.Error("cached snapshot not reused")
	}
	s, err := l.Snapshot(context.Background(), true)
	if err != nil || s == snaps[0] || !s.FetchedAt.After(snaps[0].FetchedAt) {
		t.Errorf("refresh: %v, same snapshot %v", err, s == snaps[0])
	}
	if n := sim.Counts(); n.APIRequests != 2 {
		t.Errorf("API requests = %d, want 2 after one refresh", n.APIRequests)
	}
}

func TestLandscapeTTL(t *testing.T) {
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	uncached := connectivity.NewLandscape(c, 0)
	for range 3 {
		if _, err := uncached.Snapshot(context.Background(), false); err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.Counts(); n.APIRequests != 3 {
		t.Errorf("TTL 0: API requests = %d, want 3", n.APIRequests)
	}

	sim.ResetCounts()
	short := connectivity.NewLandscape(c, 30*time.Millisecond)
	first, _ := short.Snapshot(context.Background(), false)
	time.Sleep(40 * time.Millisecond)
	second, _ := short.Snapshot(context.Background(), false)
	if first == second || sim.Counts().APIRequests != 2 {
		t.Errorf("an expired snapshot was reused (API requests %d)", sim.Counts().APIRequests)
	}
}

func TestLandscapeSnapshotNamesSubaccounts(t *testing.T) {
	_, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	s, err := connectivity.NewLandscape(c, time.Minute).Snapshot(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Subaccounts) != len(s.Connectors) || s.Subaccounts[0] == "" {
		t.Errorf("subaccounts = %v", s.Subaccounts)
	}
}

func TestLandscapeCancelledCallerStopsTheFetch(t *testing.T) {
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
	l := connectivity.NewLandscape(c, time.Minute)
	sim.InjectFault(simulator.Fault{Target: simulator.TargetAPI, Hang: true, Times: 1})

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := l.Snapshot(ctx, false)
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("error = %v after %v, want a prompt context.Canceled", err, time.Since(start))
	}
	// The abandoned fetch does not poison the next caller.
	if _, err := l.Snapshot(context.Background(), false); err != nil {
		t.Fatalf("next caller: %v", err)
	}
}

// A caller that joins a fetch started by a caller with a shorter deadline waits up to its own
// deadline: the shared fetch is not cut short by the first caller's deadline.
func TestLandscapeJoinerWaitsUpToItsOwnDeadline(t *testing.T) {
	const firstTimeout, joinerTimeout = 1500 * time.Millisecond, 3 * time.Second
	tests := []struct {
		name  string
		fault simulator.Fault
		check func(t *testing.T, err error, waited time.Duration)
	}{
		{"the API hangs once", simulator.Fault{Target: simulator.TargetAPI, Hang: true, Times: 1}, func(t *testing.T, err error, _ time.Duration) {
			if err != nil {
				t.Errorf("joiner: %v, want the snapshot read after the first caller's deadline", err)
			}
		}},
		{"the API hangs", simulator.Fault{Target: simulator.TargetAPI, Hang: true}, func(t *testing.T, err error, waited time.Duration) {
			if !errors.Is(err, context.DeadlineExceeded) || waited < joinerTimeout {
				t.Errorf("joiner: %v after %v, want DeadlineExceeded after its own %v", err, waited, joinerTimeout)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{})
			l := connectivity.NewLandscape(c, time.Minute)
			sim.InjectFault(tc.fault)

			first := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), firstTimeout)
				defer cancel()
				_, err := l.Snapshot(ctx, false)
				first <- err
			}()
			waitUntil(t, "the first caller's fetch", func() bool { return sim.Counts().APIRequests == 1 })

			ctx, cancel := context.WithTimeout(context.Background(), joinerTimeout)
			defer cancel()
			start := time.Now()
			_, err := l.Snapshot(ctx, false)
			tc.check(t, err, time.Since(start))
			if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("first caller: %v, want DeadlineExceeded", err)
			}
		})
	}
}
