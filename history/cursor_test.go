package history

import (
	"maps"
	"slices"
	"testing"
)

// TestAlertCursors follows two consumers of alerts (a cron job's cursor "check" and another one,
// "ci") through reads recorded by anyone: each consumer is told of a finding once, whoever read
// it first, and again when it resolves and comes back or changes severity.
func TestAlertCursors(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := mustOpen(t, b.store(t))
			unreported := func(cursor string, fps ...string) []string {
				t.Helper()
				got, err := st.Unreported(t.Context(), cursor, "sa", fps)
				if err != nil {
					t.Fatalf("Unreported(%s): %v", cursor, err)
				}
				return slices.Sorted(maps.Keys(got))
			}
			mark := func(cursor string, minutes int) {
				t.Helper()
				if err := st.MarkReported(t.Context(), cursor, "sa", at(minutes)); err != nil {
					t.Fatalf("MarkReported(%s, %d): %v", cursor, minutes, err)
				}
			}
			f1, f2 := finding("f1", SeverityMedium), finding("f2", SeverityCritical)
			steps := []struct {
				name   string
				do     func()
				cursor string
				ask    []string
				want   []string
			}{
				{"a consumer that reported nothing is told everything, even what no read recorded",
					func() { record(t, st, read(0, []Finding{f1}, connector("c1"))) }, "check", []string{"f1", "f9"}, []string{"f1", "f9"}},
				{"once reported, not again", func() { mark("check", 0) }, "check", []string{"f1"}, nil},
				{"a finding first seen by an interactive read after the cursor is news",
					func() { record(t, st, read(5, []Finding{f1, f2}, connector("c1"))) }, "check", []string{"f1", "f2"}, []string{"f2"}},
				{"another consumer has its own cursor", func() { mark("ci", 5) }, "check", []string{"f1", "f2"}, []string{"f2"}},
				{"the other consumer was told", nil, "ci", []string{"f1", "f2"}, nil},
				{"reported at the read that found it", func() {
					record(t, st, read(10, []Finding{f1, f2}, connector("c1")))
					mark("check", 10)
				}, "check", []string{"f1", "f2"}, nil},
				{"a cursor never moves backwards", func() { mark("check", 1) }, "check", []string{"f2"}, nil},
				{"resolved and back between two reports: news again", func() {
					record(t, st, read(15, []Finding{f1}, connector("c1")))
					record(t, st, read(20, []Finding{f1, f2}, connector("c1")))
				}, "check", []string{"f1", "f2"}, []string{"f2"}},
				{"a severity change is news at its new severity", func() {
					mark("check", 20)
					record(t, st, read(25, []Finding{finding("f1", SeverityHigh), f2}, connector("c1")))
				}, "check", []string{"f1", "f2"}, []string{"f1"}},
				{"a new title alone is not", func() {
					mark("check", 25)
					retitled := f2
					retitled.Title = "Payload trace still on"
					record(t, st, read(30, []Finding{finding("f1", SeverityHigh), retitled}, connector("c1")))
				}, "check", []string{"f1", "f2"}, nil},
				{"resolved in the store but in the consumer's read: news (the store lags)", func() {
					record(t, st, read(35, nil, connector("c1")))
				}, "check", []string{"f1"}, []string{"f1"}},
			}
			for _, s := range steps {
				if s.do != nil {
					s.do()
				}
				if got := unreported(s.cursor, s.ask...); !slices.Equal(got, s.want) {
					t.Errorf("%s: Unreported(%s, %v) = %v, want %v", s.name, s.cursor, s.ask, got, s.want)
				}
			}
			if got, err := st.Unreported(t.Context(), "check", "other", []string{"f1"}); err != nil || !got["f1"] {
				t.Errorf("another subaccount: %v, %v; want f1 unreported", got, err)
			}
			if err := st.MarkReported(t.Context(), "", "sa", at(40)); err == nil {
				t.Error("MarkReported without a cursor name: no error")
			}
			if n, err := st.Prune(t.Context(), at(60)); err != nil {
				t.Fatalf("Prune: %d, %v", n, err)
			}
			if got := unreported("ci", "f1"); !slices.Equal(got, []string{"f1"}) {
				t.Errorf("after pruning everything: %v, want f1 unreported", got)
			}
		})
	}
}
