package history

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// churn records reads of subs subaccounts, perDay a day for days days from start, whose findings
// change at random (appear, resolve, change severity, return), and returns the findings open at
// the end of each day as the test computes them.
func churn(tb testing.TB, st Store, subs, days, perDay int, start time.Time, seed uint64) []DayCount {
	rng := rand.New(rand.NewPCG(seed, 20))
	sevs := []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}
	open := make([]map[string]string, subs) // fingerprint → severity
	for i := range open {
		open[i] = map[string]string{}
	}
	want := make([]DayCount, days)
	n := 0
	for d := range days {
		for r := range perDay {
			at := start.AddDate(0, 0, d).Add(time.Duration(r) * 24 * time.Hour / time.Duration(perDay)).Add(time.Minute)
			for s := range subs {
				if d > 0 || r > 0 || s == 0 { // subaccount 0 starts first; the others a read later
					for range rng.IntN(3) {
						n++
						fp := strconv.Itoa(rng.IntN(40)) // a small space: findings return
						switch sev, ok := open[s][fp]; {
						case !ok:
							open[s][fp] = sevs[rng.IntN(len(sevs))]
						case rng.IntN(3) == 0:
							open[s][fp] = sevs[(slicesIndex(sevs, sev)+1)%len(sevs)]
						default:
							delete(open[s], fp)
						}
					}
				}
				if d == 0 && r == 0 && s > 0 {
					continue
				}
				var fs []Finding
				for fp, sev := range open[s] {
					fs = append(fs, Finding{Fingerprint: fp, Rule: "r", Severity: sev, ClientID: "c", Title: "t"})
				}
				record(tb, st, Read{Subaccount: fmt.Sprintf("sa%d", s), Label: "l", At: at, Findings: fs})
			}
		}
		want[d].Day = start.AddDate(0, 0, d)
		for s := range subs {
			if d == 0 && perDay == 1 && s > 0 {
				continue // not read yet on the first day
			}
			for _, sev := range open[s] {
				want[d].add(sev, 1)
			}
		}
	}
	return want
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestOpenByDay(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, time.September, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := mustOpen(t, b.store(t))
			want := churn(t, st, 3, 20, 1, start, 1)
			tr, ok := st.(Trends)
			if !ok {
				t.Fatalf("%T does not answer trends", st)
			}
			for _, tc := range []struct {
				name     string
				from, to time.Time
				want     []DayCount
			}{
				{"every day", start, start.AddDate(0, 0, 19), want},
				{"the middle", start.AddDate(0, 0, 5).Add(7 * time.Hour), start.AddDate(0, 0, 9), want[5:10]},
				{"one day", start.AddDate(0, 0, 19), start.AddDate(0, 0, 19), want[19:]},
				{"before history", start.AddDate(0, 0, -3), start.AddDate(0, 0, 1), append(make([]DayCount, 3), want[:2]...)},
			} {
				got, err := tr.OpenByDay(t.Context(), TrendQuery{From: tc.from, To: tc.to})
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Days) != len(tc.want) {
					t.Fatalf("%s: %d days, want %d", tc.name, len(got.Days), len(tc.want))
				}
				for i, d := range got.Days {
					w := tc.want[i]
					w.Day = tc.from.UTC().Truncate(24*time.Hour).AddDate(0, 0, i)
					if d != w {
						t.Errorf("%s: day %d: got %+v, want %+v", tc.name, i, d, w)
					}
				}
				if !got.OldestRead.Equal(start.Add(time.Minute)) {
					t.Errorf("%s: oldest read %v, want %v", tc.name, got.OldestRead, start.Add(time.Minute))
				}
			}
			one, err := tr.OpenByDay(t.Context(), TrendQuery{From: start, To: start.AddDate(0, 0, 19), Subaccount: "sa0"})
			if err != nil {
				t.Fatal(err)
			}
			if one.Days[19].Critical+one.Days[19].High+one.Days[19].Medium+one.Days[19].Low+one.Days[19].Info == 0 {
				t.Error("subaccount sa0 has no open findings on the last day")
			}
			if _, err := tr.OpenByDay(t.Context(), TrendQuery{From: start, To: start.AddDate(0, 0, -1)}); err == nil {
				t.Error("From after To: no error")
			}
		})
	}
}

// BenchmarkOpenByDayYear answers the dashboard's 90-day trend over a year of history: 20
// subaccounts read every 2 hours (87,600 reads; HISTORY_BENCH_TREND_SUBACCOUNTS changes the
// count), each read changing up to two findings at random. The year is generated once per backend
// without waiting for the disk on commit.
//
//	go test -run '^$' -bench OpenByDayYear -benchtime 20x ./history/
func BenchmarkOpenByDayYear(b *testing.B) {
	subs := 20
	if v, err := strconv.Atoi(os.Getenv("HISTORY_BENCH_TREND_SUBACCOUNTS")); err == nil && v > 0 {
		subs = v
	}
	start := time.Date(2025, time.December, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 364)
	for name, open := range benchStores(b, true) {
		st := open()
		began := time.Now()
		churn(b, st, subs, 365, 12, start, 7)
		set := changes(b, st, Query{Since: start})
		b.Logf("%s: generated a year of %d subaccounts (%d changes) in %v", name, subs, set.Total, time.Since(began).Round(time.Second))
		if _, err := st.Prune(b.Context(), start.AddDate(-1, 0, 0)); err != nil { // deletes nothing; gathers statistics
			b.Fatal(err)
		}
		for _, days := range []int{90, 365} {
			b.Run(fmt.Sprintf("%s/last-%dd", name, days), func(b *testing.B) {
				for b.Loop() {
					if _, err := st.(Trends).OpenByDay(b.Context(), TrendQuery{From: end.AddDate(0, 0, 1-days), To: end}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		st.Close()
	}
}
