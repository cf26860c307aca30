package history

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// Benchmarks of the figures issue 13 asks for; docs/performance.md reports them. Each runs
// against SQLite and PostgreSQL (skipped without a server, as in the tests).
//
//	go test -run '^$' -bench . -benchtime 1x ./history/

func decoded(tb testing.TB, agents []simulator.Agent) []connectivity.Connector {
	tb.Helper()
	body, err := json.Marshal(agents)
	if err != nil {
		tb.Fatal(err)
	}
	cs, err := connectivity.DecodeConnectors(body)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

// benchStores are the backends for benchmarks: SQLite and PostgreSQL with their default
// durability, or without waiting for the disk on commit when fast (to generate data only).
func benchStores(b *testing.B, fast bool) map[string]func() Store {
	path := filepath.Join(b.TempDir(), "history.db")
	pg, extra := "", []string(nil)
	if fast {
		extra = []string{"&_sync=OFF"}
	}
	return map[string]func() Store{
		"sqlite": func() Store {
			st, err := openSQLite(b.Context(), path, extra...)
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
		"postgres": func() Store {
			if pg == "" {
				pg = postgresSchema(b)
				if fast {
					pg += "&synchronous_commit=off"
				}
			}
			return mustOpen(b, func(ctx context.Context) (Store, error) { return OpenPostgres(ctx, pg) })
		},
	}
}

// storeSize is the size of the SQLite file, or of the PostgreSQL tables with their indexes.
func storeSize(b *testing.B, st Store) int64 {
	s := sqlOf(st)
	if s.d.dollarParam {
		var n int64
		if err := s.db.QueryRow(`SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	path := s.describe[len("SQLite file "):]
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkUnchangedReads records 10,000 unchanged reads of the demo landscape (10 connectors)
// and reports how many bytes they added to the store (SQLite: the file after closing, so the
// WAL is checkpointed into it).
func BenchmarkUnchangedReads(b *testing.B) {
	cs := decoded(b, simulator.SampleLandscape())
	const reads = 10_000
	runs := 0 // with -count, each run records a subaccount of its own
	for name, open := range benchStores(b, false) {
		b.Run(name, func(b *testing.B) {
			runs++
			sub := "demo" + strconv.Itoa(runs)
			st := open()
			record(b, st, Read{Subaccount: sub, At: t0, Connectors: cs})
			before := storeSize(b, st)
			start := time.Now()
			for b.Loop() {
				for i := 1; i <= reads; i++ {
					record(b, st, Read{Subaccount: sub, At: at(i), Connectors: cs})
				}
			}
			elapsed := time.Since(start)
			if name == "sqlite" {
				st.Close()
				st = open()
			}
			b.ReportMetric(float64(storeSize(b, st)-before), "bytes/10k-reads")
			b.ReportMetric(float64(elapsed.Microseconds())/reads, "µs/read")
			st.Close()
		})
	}
}

// BenchmarkRecordLarge records reads of the 1,000 × 100 landscape (100,000 exposed systems), each
// with one connector upgraded; the first read (a baseline that stores every connector) is
// reported as baseline-ms.
func BenchmarkRecordLarge(b *testing.B) {
	cs := decoded(b, simulator.LargeLandscape(1000, 100))
	eachStore(b, "large", func(b *testing.B, st Store, sub string) {
		start := time.Now()
		record(b, st, Read{Subaccount: sub, At: t0, Connectors: cs})
		baseline := time.Since(start)
		next := append([]connectivity.Connector(nil), cs...)
		i := 0
		for b.Loop() {
			i++
			c := &next[i%len(next)]
			c.AgentVersion = "2.19." + strconv.Itoa(i)
			if rec := record(b, st, Read{Subaccount: sub, At: at(i), Connectors: next}); len(rec.Changes) != 1 {
				b.Fatalf("read %d: %d changes, want 1", i, len(rec.Changes))
			}
		}
		b.ReportMetric(float64(baseline.Milliseconds()), "baseline-ms")
	})
}

// eachStore runs bench on each backend (with its default durability), in a subaccount of each
// run's own, so that -count does not record over the run before.
func eachStore(b *testing.B, prefix string, bench func(b *testing.B, st Store, sub string)) {
	runs := 0
	for name, open := range benchStores(b, false) {
		b.Run(name, func(b *testing.B) {
			runs++
			st := open()
			defer st.Close()
			bench(b, st, prefix+strconv.Itoa(runs))
		})
	}
}

// yearReads yields n reads, five minutes apart, of 50 connectors with five systems each, where
// about one read in every changes something at random (a version, a restart, a security check,
// an exposed system or a finding).
func yearReads(tb testing.TB, n, every int, yield func(Read)) {
	cs := decoded(tb, simulator.LargeLandscape(50, 5))
	rng := rand.New(rand.NewPCG(13, 2026))
	var findings []Finding
	risks := []connectivity.Risk{connectivity.RiskOK, connectivity.RiskLow, connectivity.RiskMedium, connectivity.RiskHigh}
	for i := range n {
		now := t0.Add(time.Duration(i) * 5 * time.Minute)
		if rng.IntN(every) == 0 {
			c := &cs[rng.IntN(len(cs))]
			switch rng.IntN(5) {
			case 0:
				c.AgentVersion = fmt.Sprintf("2.%d.%d", 17+rng.IntN(3), rng.IntN(4))
			case 1:
				c.RecentStart, c.ConnectedSince = now, now.Add(time.Minute)
			case 2:
				sec := *c.Security
				sec.Checks = append([]connectivity.Check(nil), sec.Checks...)
				sec.Checks[rng.IntN(len(sec.Checks))].Status = risks[rng.IntN(len(risks))]
				c.Security = &sec
			case 3:
				c.ExposedSystems = append(append([]connectivity.ExposedSystem(nil), c.ExposedSystems...),
					connectivity.ExposedSystem{Protocol: "HTTPS", Host: fmt.Sprintf("new%d:443", i), Type: "nonSAPsys", Status: "exposed"})
			case 4:
				if len(findings) > 0 && rng.IntN(2) == 0 {
					findings = findings[1:]
				} else {
					findings = append(findings, Finding{Fingerprint: strconv.Itoa(i), Rule: "security.payload_trace", Severity: SeverityHigh, ClientID: c.ClientID, Title: "Payload trace on"})
				}
			}
		}
		yield(Read{Subaccount: "year", At: now, Connectors: cs, Findings: findings})
	}
}

// BenchmarkChangesYear answers queries over a simulated year of 5-minute reads of 50 connectors
// (105,120 reads; HISTORY_BENCH_READS changes it) where one read in twenty changes something
// (HISTORY_BENCH_EVERY changes that). The year is generated once per backend without
// waiting for the disk on commit, to generate faster (queries do not depend on it).
func BenchmarkChangesYear(b *testing.B) {
	n := 365 * 24 * 12
	if v, err := strconv.Atoi(os.Getenv("HISTORY_BENCH_READS")); err == nil && v > 1 {
		n = v
	}
	every := 20
	if v, err := strconv.Atoi(os.Getenv("HISTORY_BENCH_EVERY")); err == nil && v > 0 {
		every = v
	}
	end := t0.Add(time.Duration(n-1) * 5 * time.Minute)
	for name, open := range benchStores(b, true) {
		st := open()
		start := time.Now()
		rows := 0
		yearReads(b, n, every, func(r Read) { rows += len(record(b, st, r).Changes) })
		b.Logf("%s: generated %d reads with %d changes in %v", name, n, rows, time.Since(start).Round(time.Second))
		if _, err := st.Prune(b.Context(), t0); err != nil { // deletes nothing; gathers statistics
			b.Fatal(err)
		}
		for _, q := range []struct {
			name string
			q    Query
		}{
			{"previous-read", Query{}},
			{"last-24h", Query{Since: end.Add(-24 * time.Hour)}},
			{"last-7d-limit-50", Query{Since: end.Add(-7 * 24 * time.Hour), Limit: 50}},
			{"year-limit-50", Query{Since: t0, Limit: 50}},
			{"year-kind-all", Query{Since: t0, Kind: KindSystemExposed}},
		} {
			b.Run(name+"/"+q.name, func(b *testing.B) {
				total := 0
				for b.Loop() {
					total = changes(b, st, q.q).Total
				}
				b.ReportMetric(float64(total), "changes")
			})
		}
		st.Close()
	}
}

// BenchmarkRecordChangingFindings records reads of 30,000 findings where every read retitles
// 1,000 of them, raises the severity of 10, resolves 10 and adds 10, as a landscape whose
// versions move does (the findings are read back and compared on every read).
func BenchmarkRecordChangingFindings(b *testing.B) {
	const n = 30_000
	findings := make([]Finding, n)
	for i := range findings {
		findings[i] = Finding{Fingerprint: fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15), Rule: "security.unencrypted",
			Severity: SeverityMedium, ClientID: strconv.Itoa(i % 1000), Subject: fmt.Sprintf("HTTP sys%d.internal:80", i), Title: "Unencrypted HTTP to an internal system"}
	}
	eachStore(b, "findings", func(b *testing.B, st Store, sub string) {
		cur := slices.Clone(findings)
		record(b, st, Read{Subaccount: sub, At: t0, Findings: cur})
		i := 0
		for b.Loop() {
			i++
			for j := range 1000 {
				cur[(i*1000+j)%n].Title = "Unencrypted HTTP, read " + strconv.Itoa(i)
			}
			for j := range 10 {
				cur[(i*10+j)%n].Severity = SeverityHigh
				cur[(i*10+j+5000)%n].Fingerprint = fmt.Sprintf("new%d-%d", i, j)
			}
			if rec := record(b, st, Read{Subaccount: sub, At: at(i), Findings: cur}); len(rec.Changes) == 0 {
				b.Fatalf("read %d: no changes", i)
			}
		}
	})
}
