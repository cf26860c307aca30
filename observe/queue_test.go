package observe_test

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// While the store is behind, a subaccount's newer read takes the place of its older one in the
// queue: what waits is bounded by the subaccounts, and the store gets the newest facts.
func TestRecorderKeepsTheNewestReadWhileTheStoreIsBehind(t *testing.T) {
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
	p.Listen(r.Observe)

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
	if n := strings.Count(logs.String(), "the read before this one is not recorded"); n != 1 {
		t.Errorf("%d warnings of a read not recorded, want 1:\n%s", n, logs.String())
	}
}
