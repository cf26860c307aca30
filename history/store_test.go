package history

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// backend makes a fresh, empty store for a test and returns the function that opens it (again:
// a restart).
type backend struct {
	name  string
	store func(t testing.TB) func(context.Context) (Store, error)
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t testing.TB) func(context.Context) (Store, error) {
			path := filepath.Join(t.TempDir(), "state", "history.db")
			return func(ctx context.Context) (Store, error) { return OpenSQLite(ctx, path) }
		}},
		{"postgres", func(t testing.TB) func(context.Context) (Store, error) {
			u := postgresSchema(t)
			return func(ctx context.Context) (Store, error) { return OpenPostgres(ctx, u) }
		}},
	}
}

func mustOpen(t testing.TB, open func(context.Context) (Store, error)) Store {
	t.Helper()
	st, err := open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// postgresSchema creates a schema of its own for the test in the test PostgreSQL server and
// returns a URL whose search_path points at it; the schema is dropped afterwards. Without a
// server the test is skipped, except in CI (CI=true), where it fails.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv("HISTORY_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required in CI: %v", base, err)
		}
		t.Skipf("no PostgreSQL at %s (set HISTORY_TEST_POSTGRES): %v", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "history_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func record(t testing.TB, st Store, r Read) Recorded {
	t.Helper()
	rec, err := st.Record(t.Context(), r)
	if err != nil {
		t.Fatalf("Record(%s at %v): %v", r.Subaccount, r.At, err)
	}
	return rec
}

func changes(t testing.TB, st Store, q Query) ChangeSet {
	t.Helper()
	set, err := st.Changes(t.Context(), q)
	if err != nil {
		t.Fatalf("Changes(%+v): %v", q, err)
	}
	return set
}

func kinds(cs []Change) []Kind {
	var out []Kind
	for _, c := range cs {
		out = append(out, c.Kind)
	}
	return out
}

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func TestStore(t *testing.T) {
	t.Parallel()
	upgraded := connector("c1")
	upgraded.AgentVersion = "2.18.2"
	worse := upgraded
	worse.Security = &connectivity.SecurityStatus{Summary: connectivity.RiskHigh, Checks: []connectivity.Check{
		{Key: "ciphers", Status: connectivity.RiskLow}, {Key: "payload_trace", Status: connectivity.RiskHigh}}}
	f1, f2 := finding("f1", SeverityMedium), finding("f2", SeverityLow)

	scenarios := []struct {
		name string
		run  func(t *testing.T, st Store, reopen func() Store)
	}{
		{"first read is a baseline", func(t *testing.T, st Store, _ func() Store) {
			rec := record(t, st, read(0, []Finding{f1}, connector("c1")))
			if !rec.PreviousReadAt.IsZero() || len(rec.Changes) != 0 || rec.Stale {
				t.Errorf("Record = %+v, want a baseline without changes", rec)
			}
			set := changes(t, st, Query{})
			if len(set.Changes) != 0 || set.Covered || !set.OldestRead.Equal(at(0)) || !set.To.Equal(at(0)) {
				t.Errorf("Changes = %+v, want none, not covered (no previous read), oldest and to = first read", set)
			}
		}},
		{"unchanged read only moves the last read", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(0, []Finding{f1}, connector("c1")))
			rec := record(t, st, read(5, []Finding{f1}, connector("c1")))
			if !rec.PreviousReadAt.Equal(at(0)) || len(rec.Changes) != 0 {
				t.Errorf("Record = %+v, want previous read 0 and no changes", rec)
			}
			set := changes(t, st, Query{})
			if len(set.Changes) != 0 || !set.From.Equal(at(0)) || !set.To.Equal(at(5)) || !set.Covered {
				t.Errorf("Changes = %+v, want none from 0 to 5, covered", set)
			}
		}},
		{"changes since the previous read, worst first", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(0, []Finding{f1}, connector("c1")))
			record(t, st, read(5, []Finding{f1}, upgraded))
			rec := record(t, st, read(10, []Finding{f1, f2}, worse, connector("c2")))
			want := []Kind{KindSecurityChanged, KindFindingNew, KindConnectorAppeared}
			if !slices.Equal(sortedKinds(rec.Changes), sortedKinds(toChanges(want))) {
				t.Errorf("Record changes = %v, want %v", kinds(rec.Changes), want)
			}
			set := changes(t, st, Query{})
			// security_changed to high_risk (high), then finding_new low and connector_appeared low
			if got := kinds(set.Changes); len(got) != 3 || got[0] != KindSecurityChanged || set.Total != 3 {
				t.Errorf("Changes = %v (total %d), want security_changed first of 3", got, set.Total)
			}
			c := set.Changes[0]
			if c.Field != "payload_trace" || c.Old != "ok" || c.New != "high_risk" || c.Severity != SeverityHigh ||
				!c.ObservedAt.Equal(at(10)) || !c.PreviousReadAt.Equal(at(5)) || c.Subaccount != "sa" || c.ClientID != "c1" {
				t.Errorf("worst change = %+v", c)
			}
			all := changes(t, st, Query{Since: at(0)})
			if got := kinds(all.Changes); len(got) != 4 || got[3] != KindVersionChanged || !all.Covered {
				t.Errorf("Changes since 0 = %v covered=%v, want 4 ending with the info version_changed, covered", got, all.Covered)
			}
		}},
		{"filters and limit", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(0, nil, connector("c1"), connector("c2")))
			c2 := connector("c2")
			c2.AgentVersion = "2.19.0"
			record(t, st, read(5, nil, upgraded, c2))
			other := read(6, nil, connector("x"))
			other.Subaccount = "other"
			record(t, st, other)
			other.At, other.Connectors = at(7), nil
			record(t, st, other)
			for _, tc := range []struct {
				q     Query
				total int
			}{
				{Query{Since: at(0)}, 3},
				{Query{Since: at(0), ClientID: "c2"}, 1},
				{Query{Since: at(0), Kind: KindVersionChanged}, 2},
				{Query{Since: at(0), Subaccount: "other"}, 1},
				{Query{Since: at(0), Limit: 1}, 3},
				{Query{Since: at(6)}, 1},
			} {
				set := changes(t, st, tc.q)
				wantLen := tc.total
				if tc.q.Limit > 0 {
					wantLen = tc.q.Limit
				}
				if set.Total != tc.total || len(set.Changes) != wantLen {
					t.Errorf("%+v: total %d, %d changes; want %d, %d", tc.q, set.Total, len(set.Changes), tc.total, wantLen)
				}
			}
			if set := changes(t, st, Query{Since: at(0), Limit: 1}); set.Changes[0].Kind != KindConnectorDisappeared {
				t.Errorf("worst = %v, want the master that disappeared", set.Changes[0].Kind)
			}
		}},
		{"coverage is honest", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(10, nil, connector("c1")))
			record(t, st, read(20, nil, upgraded))
			if set := changes(t, st, Query{Since: at(0)}); set.Covered || !set.OldestRead.Equal(at(10)) || len(set.Changes) != 1 {
				t.Errorf("since before the first read: %+v, want not covered, oldest 10, one change", set)
			}
			if set := changes(t, st, Query{Since: at(10)}); !set.Covered || !set.From.Equal(at(10)) {
				t.Errorf("since the first read: %+v, want covered", set)
			}
			if set := changes(t, st, Query{Since: at(0), Subaccount: "unknown"}); set.Covered || len(set.Changes) != 0 {
				t.Errorf("unknown subaccount: %+v, want nothing, not covered", set)
			}
		}},
		{"first seen and new", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(0, []Finding{f1}, connector("c1")))
			assertFirstSeen(t, st, map[string]FirstSeen{"f1": {at(0), true}})
			record(t, st, read(5, []Finding{f1, f2}, connector("c1")))
			assertFirstSeen(t, st, map[string]FirstSeen{"f1": {at(0), false}, "f2": {at(5), true}})
			higher := finding("f1", SeverityHigh)
			rec := record(t, st, read(10, []Finding{higher}, connector("c1")))
			if got := sortedKinds(rec.Changes); !slices.Equal(got, []Kind{KindFindingChanged, KindFindingResolved}) {
				t.Errorf("changes = %v, want finding_changed and finding_resolved", got)
			}
			assertFirstSeen(t, st, map[string]FirstSeen{"f1": {at(0), false}, "f2": {at(5), false}})
			record(t, st, read(15, []Finding{higher, f2}, connector("c1")))
			assertFirstSeen(t, st, map[string]FirstSeen{"f1": {at(0), false}, "f2": {at(5), true}})
		}},
		{"findings are compared in byte order, whatever the database's collation", func(t *testing.T, st Store, _ func() Store) {
			// "B" sorts before "a" byte by byte, after it in most languages.
			before := read(0, []Finding{finding("B", SeverityLow), finding("a", SeverityLow), finding("b1", SeverityLow)}, connector("c1"))
			after := read(5, []Finding{finding("A2", SeverityMedium), finding("a", SeverityHigh), finding("b1", SeverityLow)}, connector("c1"))
			record(t, st, before)
			rec := record(t, st, after)
			if want := Diff(before, after); !reflect.DeepEqual(rec.Changes, want) {
				t.Errorf("changes = %+v, want %+v", rec.Changes, want)
			}
			assertFirstSeen(t, st, map[string]FirstSeen{"A2": {at(5), true}, "B": {at(0), false}, "a": {at(0), false}, "b1": {at(0), false}})
		}},
		{"a stale read does not move the state back", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(0, nil, connector("c1")))
			record(t, st, read(10, nil, upgraded))
			if rec := record(t, st, read(5, nil, connector("c1"))); !rec.Stale || len(rec.Changes) != 0 {
				t.Errorf("Record of an older read = %+v, want stale", rec)
			}
			if rec := record(t, st, read(15, nil, upgraded)); len(rec.Changes) != 0 {
				t.Errorf("after a stale read: %v, want no changes", kinds(rec.Changes))
			}
		}},
		{"history survives a restart", func(t *testing.T, st Store, reopen func() Store) {
			record(t, st, read(0, []Finding{f1}, connector("c1"), connector("c2")))
			record(t, st, read(5, []Finding{f1}, upgraded, connector("c2")))
			st.Close()
			st = reopen()
			if set := changes(t, st, Query{}); len(set.Changes) != 1 || set.Changes[0].Kind != KindVersionChanged {
				t.Errorf("after reopening: %v, want the version change", kinds(set.Changes))
			}
			rec := record(t, st, read(10, nil, upgraded))
			if got := sortedKinds(rec.Changes); !slices.Equal(got, []Kind{KindConnectorDisappeared, KindFindingResolved}) {
				t.Errorf("first read after reopening: %v, want c2 gone and f1 resolved", got)
			}
			assertFirstSeen(t, st, map[string]FirstSeen{"f1": {at(0), false}})
		}},
		{"prune", func(t *testing.T, st Store, _ func() Store) {
			record(t, st, read(0, []Finding{f1}, connector("c1")))
			record(t, st, read(5, nil, upgraded))
			record(t, st, read(10, nil, worse))
			gone := read(1, nil, connector("g"))
			gone.Subaccount = "gone"
			record(t, st, gone)
			n, err := st.Prune(t.Context(), at(8))
			if err != nil || n != 2 {
				t.Fatalf("Prune = %d, %v; want the 2 changes of read 5", n, err)
			}
			set := changes(t, st, Query{Since: at(0)})
			if len(set.Changes) != 1 || set.Covered || !set.OldestRead.Equal(at(8)) {
				t.Errorf("after prune: %v oldest %v covered %v; want the security change of read 10, oldest 8, not covered", kinds(set.Changes), set.OldestRead, set.Covered)
			}
			if set := changes(t, st, Query{Since: at(0), Subaccount: "gone"}); !set.OldestRead.IsZero() {
				t.Errorf("a subaccount not read since the cut is still there: %+v", set)
			}
			if fs, err := st.FirstSeen(t.Context(), "sa", []string{"f1"}); err != nil || len(fs) != 0 {
				t.Errorf("FirstSeen of a finding resolved before the cut = %v, %v; want it pruned", fs, err)
			}
		}},
		{"many connectors, one moves", func(t *testing.T, st Store, _ func() Store) {
			var cs []connectivity.Connector
			for i := range 30 {
				cs = append(cs, connector(string(rune('A'+i))))
			}
			record(t, st, read(0, nil, cs...))
			cs2 := slices.Clone(cs)
			cs2[17].JavaVersion = "21.0.5 (SAP SE)"
			rec := record(t, st, read(5, nil, cs2...))
			if len(rec.Changes) != 1 || rec.Changes[0].ClientID != cs[17].ClientID || rec.Changes[0].Kind != KindJavaChanged {
				t.Errorf("changes = %+v, want one java_changed of %s", rec.Changes, cs[17].ClientID)
			}
		}},
		{"describe and ping", func(t *testing.T, st Store, _ func() Store) {
			if err := st.Ping(t.Context()); err != nil {
				t.Error(err)
			}
			if d := st.Describe(); d == "" {
				t.Error("Describe is empty")
			}
		}},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					open := b.store(t)
					reopen := func() Store { return mustOpen(t, open) }
					sc.run(t, reopen(), reopen)
				})
			}
		})
	}
}

func toChanges(ks []Kind) []Change {
	var out []Change
	for _, k := range ks {
		out = append(out, Change{Kind: k})
	}
	return out
}

func sortedKinds(cs []Change) []Kind {
	ks := kinds(cs)
	slices.Sort(ks)
	return ks
}

func assertFirstSeen(t *testing.T, st Store, want map[string]FirstSeen) {
	t.Helper()
	var fps []string
	for fp := range want {
		fps = append(fps, fp)
	}
	got, err := st.FirstSeen(t.Context(), "sa", append(fps, "unknown"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("FirstSeen = %v, want %v", got, want)
	}
	for fp, w := range want {
		if g := got[fp]; !g.At.Equal(w.At) || g.New != w.New {
			t.Errorf("FirstSeen[%s] = %+v, want %+v", fp, g, w)
		}
	}
}

func TestOpenAndDefaultPath(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/btp-connectivity-mcp/history.db"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/btp-connectivity-mcp/history.db"},
		{map[string]string{}, ""},
	} {
		if got := DefaultPath(env(tc.env)); got != tc.want {
			t.Errorf("DefaultPath(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}

	if st, err := Open(t.Context(), "off"); st != nil || err != nil {
		t.Errorf(`Open("off") = %v, %v; want nil, nil`, st, err)
	}
	dir := filepath.Join(t.TempDir(), "new")
	st, err := Open(t.Context(), filepath.Join(dir, "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, %v; want 0700", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "h.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	if d := st.Describe(); d != "SQLite file "+filepath.Join(dir, "h.db") {
		t.Errorf("Describe = %q", d)
	}
	mem, err := OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	record(t, mem, read(0, nil, connector("c1")))
	if rec := record(t, mem, read(5, nil, connector("c2"))); len(rec.Changes) != 2 {
		t.Errorf("in memory: %v, want c1 gone and c2 new", kinds(rec.Changes))
	}
	u := postgresSchema(t)
	pu, _ := url.Parse(u)
	pu.User = url.UserPassword("postgres", "s3cret-password")
	pg, err := Open(t.Context(), pu.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if d := pg.Describe(); d != `PostgreSQL database "test" on 127.0.0.1:5432 as user "postgres"` {
		t.Errorf("Describe = %q", d)
	}
}

// sqlOf returns the sqlStore under a store of either backend.
func sqlOf(st Store) *sqlStore {
	if p, ok := st.(*postgresStore); ok {
		return p.sqlStore
	}
	return st.(*sqlStore)
}

// TestPresent: the findings of each subaccount's latest recorded read, with when each was first
// seen, are what a server loads once to tell new findings from known ones in memory.
func TestPresent(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := mustOpen(t, b.store(t))
			f1, f2 := finding("f1", SeverityMedium), finding("f2", SeverityLow)
			record(t, st, read(0, []Finding{f1}, connector("c1")))
			record(t, st, read(1, []Finding{f1, f2}, connector("c1")))
			record(t, st, read(2, []Finding{f2}, connector("c1"))) // f1 resolved
			other := read(2, []Finding{f1}, connector("c2"))
			other.Subaccount = "other"
			record(t, st, other)
			got, err := st.Present(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			sub := read(0, nil).Subaccount
			if len(got) != 2 || len(got[sub]) != 1 || !got[sub]["f2"].Equal(at(1)) || len(got["other"]) != 1 || !got["other"]["f1"].Equal(at(2)) {
				t.Errorf("Present = %v", got)
			}
		})
	}
}
