package history

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// writerEnv makes the test binary act as one writer process: "store|subaccount|reads|id|writers",
// where store is what Open takes.
const writerEnv = "HISTORY_TEST_WRITER"

// writeReads records reads of its own subaccount, each a version change, and interleaves reads of
// a subaccount all writers share.
func writeReads(ctx context.Context, spec, sub string, reads, id, writers int) error {
	st, err := Open(ctx, spec)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range reads {
		c := connector("c-" + sub)
		c.AgentVersion = fmt.Sprintf("2.18.%d", i%2)
		if _, err := st.Record(ctx, Read{Subaccount: sub, At: at(i), Connectors: []connectivity.Connector{c}}); err != nil {
			return err
		}
		shared := connector(sub) // each writer's view of the shared subaccount differs
		if _, err := st.Record(ctx, Read{Subaccount: "shared", At: at(i*writers + id), Connectors: []connectivity.Connector{shared}}); err != nil {
			return err
		}
	}
	return nil
}

// TestConcurrentWriterProcesses runs several processes (this test binary re-executed) and this
// one recording into one new store at once: none sees an error, every change is stored.
func TestConcurrentWriterProcesses(t *testing.T) {
	t.Parallel()
	if spec := os.Getenv(writerEnv); spec != "" {
		f := strings.Split(spec, "|")
		reads, _ := strconv.Atoi(f[2])
		id, _ := strconv.Atoi(f[3])
		writers, _ := strconv.Atoi(f[4])
		if err := writeReads(t.Context(), f[0], f[1], reads, id, writers); err != nil {
			t.Fatalf("writer %s: %v", f[1], err)
		}
		return
	}
	for _, spec := range []struct{ name, store string }{
		{"sqlite", filepath.Join(t.TempDir(), "state", "history.db")},
		{"postgres", ""},
	} {
		t.Run(spec.name, func(t *testing.T) {
			t.Parallel()
			if spec.store == "" {
				spec.store = postgresSchema(t)
			}
			concurrentWriters(t, spec.store)
		})
	}
}

func concurrentWriters(t *testing.T, spec string) {
	const processes, reads = 4, 60
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	errs := make([]error, processes+1)
	outs := make([]bytes.Buffer, processes)
	for p := range processes {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestConcurrentWriterProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|proc%d|%d|%d|%d", writerEnv, spec, p, reads, p, processes+1))
		cmd.Stdout, cmd.Stderr = &outs[p], &outs[p]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[p] = cmd.Wait() })
	}
	wg.Go(func() { errs[processes] = writeReads(ctx, spec, "parent", reads, processes, processes+1) })
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			out := ""
			if p < processes {
				out = outs[p].String()
			}
			t.Errorf("writer %d: %v\n%s", p, err, out)
		}
	}

	st := mustOpen(t, func(ctx context.Context) (Store, error) { return Open(ctx, spec) })
	for p := range processes + 1 {
		sub := "parent"
		if p < processes {
			sub = fmt.Sprintf("proc%d", p)
		}
		set := changes(t, st, Query{Subaccount: sub, Since: at(0)})
		if set.Total != reads-1 || !set.Covered {
			t.Errorf("%s: %d changes (covered %v), want %d: one per read after the first", sub, set.Total, set.Covered, reads-1)
		}
	}
	if set := changes(t, st, Query{Subaccount: "shared", Since: at(0)}); !set.To.Equal(at(reads*(processes+1) - 1)) {
		t.Errorf("shared subaccount: last read %v, want the newest any writer recorded", set.To)
	}
}
