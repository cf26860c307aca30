package history

import (
	"strconv"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// BenchmarkUnchangedHealthReads is BenchmarkUnchangedReads with the deep health of five
// configured connectors in every read (each with two tunnels, three certificates and an
// alert): the bytes 10,000 unchanged reads add to the store, and the time per read.
//
//	go test -run '^$' -bench UnchangedHealthReads -benchtime 1x ./history/
func BenchmarkUnchangedHealthReads(b *testing.B) {
	var hs []HealthState
	for i := range 5 {
		h := health()
		h.Connector = "scc" + strconv.Itoa(i)
		h.Tunnels = append(h.Tunnels, TunnelState{Subaccount: "sb-id", State: "Connected", CertExpiry: t0.AddDate(0, 6, 0)})
		h.Certificates = append(h.Certificates, CertificateState{Key: "System", NotAfter: t0.AddDate(1, 0, 0)},
			CertificateState{Key: "CA", NotAfter: t0.AddDate(3, 0, 0)})
		hs = append(hs, h)
	}
	demo := decoded(b, simulator.SampleLandscape())
	const reads = 10_000
	runs := 0
	for name, open := range benchStores(b, false) {
		b.Run(name, func(b *testing.B) {
			runs++
			sub := "health" + strconv.Itoa(runs)
			st := open()
			first := Read{Subaccount: sub, At: t0, Connectors: demo, Health: hs}
			record(b, st, first)
			before := storeSize(b, st)
			start := time.Now()
			for b.Loop() {
				for i := 1; i <= reads; i++ {
					r := first
					r.At = at(i)
					if rec := record(b, st, r); len(rec.Changes) != 0 {
						b.Fatalf("read %d: %v, want no changes", i, kinds(rec.Changes))
					}
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
