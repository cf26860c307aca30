package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBrokenSQLiteStore opens stores that cannot be used and checks that each gives an
// *UnavailableError naming the file and the reason, and that the file is byte for byte as before.
func TestBrokenSQLiteStore(t *testing.T) {
	t.Parallel()
	// valid writes a store with a little history and returns its path.
	valid := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "history.db")
		st, err := OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		record(t, st, read(0, nil, connector("c1")))
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name   string
		make   func(t *testing.T) string
		reason string
		is     error
	}{
		{"not a SQLite file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "history.db")
			os.WriteFile(path, []byte("these are somebody's notes, not a database\n"), 0o600)
			return path
		}, "not a SQLite database", nil},
		{"corrupt", func(t *testing.T) string {
			path := valid(t)
			b, _ := os.ReadFile(path)
			for i := 100; i < len(b); i++ { // keep the 100-byte header, scramble every page
				b[i] = byte(i * 7)
			}
			os.WriteFile(path, b, 0o600)
			return path
		}, "corrupt", nil},
		{"newer schema", func(t *testing.T) string {
			path := valid(t)
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, fmt.Sprint(len(migrations)+1)); err != nil {
				t.Fatal(err)
			}
			return path
		}, "newer version", ErrNewerSchema},
		{"a directory", func(t *testing.T) string { return t.TempDir() }, "directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.make(t)
			before := snapshotDir(t, filepath.Dir(path))
			st, err := OpenSQLite(t.Context(), path)
			if err == nil {
				st.Close()
				t.Fatal("OpenSQLite succeeded on a broken store")
			}
			assertUnavailable(t, err, path, tt.reason)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if after := snapshotDir(t, filepath.Dir(path)); !bytes.Equal(before, after) {
				t.Errorf("the store's directory changed: %q -> %q", before, after)
			}
		})
	}
}

// TestDiskFull fills a store to its page limit (SQLite's SQLITE_FULL, as on a full disk): Record
// fails with an *UnavailableError and the file keeps its bytes.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.db")
	st, err := openSQLite(t.Context(), path, "&_pragma=max_page_count(30)")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	record(t, st, read(0, nil, connector("c1")))
	before, _ := os.ReadFile(path)
	big := connector("c2")
	big.Extra = map[string]string{"blob": strings.Repeat("x", 200_000)}
	_, err = st.Record(t.Context(), read(5, nil, connector("c1"), big))
	assertUnavailable(t, err, path, "full")
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the store file changed after a failed write")
	}
	if rec := record(t, st, read(10, nil, connector("c1"))); rec.PreviousReadAt != at(0) {
		t.Errorf("after the failed write the previous read is %v, want the first one", rec.PreviousReadAt)
	}
}

func TestBrokenPostgres(t *testing.T) {
	t.Parallel()
	_, err := OpenPostgres(t.Context(), "postgres://postgres:hunter2@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	var u *UnavailableError
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "cannot be reached") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable server: %v, want an *UnavailableError without the password", err)
	}
	if _, err := OpenPostgres(t.Context(), "postgres://postgres:hunter2@[::1"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: %v, want an error without the password", err)
	}

	u2 := postgresSchema(t)
	st := mustOpen(t, func(ctx context.Context) (Store, error) { return OpenPostgres(ctx, u2) })
	if _, err := sqlOf(st).db.Exec(`UPDATE meta SET value = '999' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	_, err = OpenPostgres(t.Context(), u2)
	if !errors.Is(err, ErrNewerSchema) || !errors.As(err, &u) {
		t.Errorf("newer schema: %v, want an *UnavailableError wrapping ErrNewerSchema", err)
	}
}

// TestMigrations upgrades a store with a next schema version, as a newer binary would, and
// checks that the data survives and that this binary then refuses the store.
func TestMigrations(t *testing.T) {
	t.Parallel()
	next := append(slices.Clone(migrations), []string{`ALTER TABLE changes ADD COLUMN note TEXT NOT NULL DEFAULT ''`})
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			open := b.store(t)
			st := sqlOf(mustOpen(t, open))
			record(t, st, read(0, nil, connector("c1")))
			record(t, st, read(5, nil, connector("c2")))
			if err := st.migrate(t.Context(), next); err != nil {
				t.Fatalf("upgrading: %v", err)
			}
			var v, notes string
			if err := st.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != fmt.Sprint(len(next)) {
				t.Errorf("schema version = %q, %v; want %d", v, err, len(next))
			}
			if err := st.db.QueryRow(`SELECT COUNT(note) FROM changes`).Scan(&notes); err != nil || notes != "2" {
				t.Errorf("changes after the upgrade: %q, %v; want the 2 recorded", notes, err)
			}
			st.Close()
			_, err := open(t.Context())
			var u *UnavailableError
			if !errors.Is(err, ErrNewerSchema) || !errors.As(err, &u) {
				t.Errorf("opening an upgraded store with this binary: %v, want an *UnavailableError wrapping ErrNewerSchema", err)
			}
		})
	}
}

func assertUnavailable(t *testing.T, err error, path, reason string) {
	t.Helper()
	var u *UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("error %v (%T) is not an *UnavailableError", err, err)
	}
	if !strings.Contains(u.Store, path) || !strings.Contains(u.Reason, reason) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q: want the file %s and the reason %q", err, path, reason)
	}
}

// snapshotDir returns the names and contents of the files in dir.
func snapshotDir(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&buf, "%s %d %x\n", e.Name(), len(b), sha256.Sum256(b))
	}
	return buf.Bytes()
}
