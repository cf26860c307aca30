package observe_test

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// While the store is slow to open, every read waits in order and is recorded, as long as what
// waits fits the budget; past it, a subaccount's newer read takes the place of its newest waiting
// one, so that the store gets the newest facts and what waits stays bounded.
func TestRecorderWhileTheStoreIsBehind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		budget     int // 0: RecordBudget
		changes    bool
		superseded int
	}{
		{name: "within the budget every read is recorded", changes: true},
		{name: "past the budget the newest read takes the place of the one waiting", budget: 1, superseded: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, p, _ := pipeline(t, observe.Options{})
			store := memoryStore(t)
			release := make(chan struct{})
			var logs syncbuf.Buffer
			r := observe.NewRecorder("memory", func(context.Context) (history.Store, error) {
				<-release // the store is slow to open: everything published meanwhile waits
				return store, nil
			}, slog.New(slog.NewTextHandler(&logs, nil)))
			t.Cleanup(func() { r.Close(0) })
			if tc.budget > 0 {
				observe.SetRecordBudget(r, tc.budget)
			}
			p.Listen(r.Observe)

			start := time.Now().Add(-time.Second)
			p.Observe(t.Context(), p.Subaccounts(), false, nil)
			sim.SetLandscape(simulator.CleanLandscape())
			last := p.Observe(t.Context(), p.Subaccounts(), true, nil).Parts[0].Obs
			close(release)
			if err := r.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			r.Flush(t.Context())

			present, err := store.Present(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range last.Result.Findings {
				want = append(want, f.Fingerprint)
			}
			slices.Sort(want)
			if got := slices.Sorted(maps.Keys(present[last.Subaccount.Identity()])); !slices.Equal(got, want) {
				t.Errorf("recorded findings %v, want those of the newest read %v", got, want)
			}
			changes, err := store.Changes(t.Context(), history.Query{Since: start})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(changes.Changes) > 0; got != tc.changes {
				t.Errorf("changes between the two reads recorded: %v, want %v (%+v)", got, tc.changes, changes.Changes)
			}
			if n := strings.Count(logs.String(), "the read before this one is not recorded"); n != tc.superseded {
				t.Errorf("%d warnings of a read not recorded, want %d:\n%s", n, tc.superseded, logs.String())
			}
		})
	}
}
