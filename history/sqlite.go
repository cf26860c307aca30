package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeoutMS is how long a writer waits for another (process) to finish before giving up.
const busyTimeoutMS = "30000"

var sqliteDialect = dialect{
	idColumn:   "INTEGER PRIMARY KEY",
	metaExists: `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`,
	reason:     sqliteReason,
	// bytewise is empty: SQLite compares text with memcmp (BINARY) unless told otherwise
}

// OpenSQLite opens the SQLite store at path, creating it (and its directory, mode 0700) when it
// does not exist. An existing file is first checked read-only: one that is not a SQLite database,
// is corrupt or was written by a newer version gives an *UnavailableError and is left untouched.
// Writers use WAL, a busy timeout and immediate transactions, so several processes can record
// into one file at once.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	return openSQLite(ctx, path)
}

// OpenMemory opens an empty in-memory store, for --demo.
func OpenMemory(ctx context.Context) (Store, error) {
	db, err := sql.Open("sqlite", ":memory:?_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // every connection would get its own empty database
	s := &sqlStore{db: db, d: sqliteDialect, describe: "SQLite in memory"}
	if err := s.migrate(ctx, migrations); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openSQLite is OpenSQLite with extra DSN parameters, e.g. "&_pragma=max_page_count(20)" or
// "&_sync=OFF" (an alias wins over the default _synchronous) in tests and benchmarks.
func openSQLite(ctx context.Context, path string, extra ...string) (*sqlStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history store path %q: %w", path, err)
	}
	s := &sqlStore{d: sqliteDialect, describe: "SQLite file " + abs}
	unavailable := func(reason string, err error) error {
		return &UnavailableError{Store: s.describe, Reason: reason, Err: err}
	}
	uri := "file:" + (&url.URL{Path: abs}).EscapedPath()

	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, unavailable("its directory cannot be created", err)
		}
		f, err := os.OpenFile(abs, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil && !errors.Is(err, fs.ErrExist) { // another process may have just created it
			return nil, unavailable("it cannot be created", err)
		}
		if f != nil {
			f.Close()
		}
	case err != nil:
		return nil, unavailable("it cannot be read", err)
	case fi.IsDir():
		return nil, unavailable("it is a directory, not a file", nil)
	case fi.Size() > 0:
		if err := checkSQLiteFile(ctx, abs, uri); err != nil {
			return nil, unavailable(sqliteReason(err), err)
		}
	}

	dsn := uri + "?mode=rw&_busy_timeout=" + busyTimeoutMS + "&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	dsn += strings.Join(extra, "")
	if s.db, err = sql.Open("sqlite", dsn); err != nil {
		return nil, unavailable("it cannot be opened", err)
	}
	if err := s.migrate(ctx, migrations); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// checkSQLiteFile checks, without writing, that an existing file is a SQLite database this
// version can use.
func checkSQLiteFile(ctx context.Context, path, uri string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	header := make([]byte, 16)
	_, err = io.ReadFull(f, header)
	f.Close()
	if err != nil || !bytes.Equal(header, []byte("SQLite format 3\x00")) {
		return errNotSQLite
	}
	// With no -wal file nobody has the store open: read it as immutable, which creates no
	// -wal/-shm files next to it. Otherwise read it like any other reader would.
	params := "?mode=ro&_busy_timeout=" + busyTimeoutMS
	if _, err := os.Stat(path + "-wal"); errors.Is(err, fs.ErrNotExist) {
		params = "?mode=ro&immutable=1"
	}
	db, err := sql.Open("sqlite", uri+params)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := schemaVersion(ctx, db, sqliteDialect)
	if err != nil {
		return err
	}
	return checkVersion(v, len(migrations))
}

var errNotSQLite = errors.New("not a SQLite database")

// sqliteReason says in words why SQLite refused.
func sqliteReason(err error) string {
	if errors.Is(err, ErrNewerSchema) {
		return "it was written by a newer version"
	}
	if errors.Is(err, errNotSQLite) {
		return "it is not a SQLite database (wrong header)"
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return "it is not a SQLite database"
		case sqlite3.SQLITE_CORRUPT:
			return "it is corrupt"
		case sqlite3.SQLITE_FULL:
			return "the disk (or the store's size limit) is full"
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
			return "it cannot be opened (check its permissions)"
		case sqlite3.SQLITE_READONLY:
			return "it is read-only"
		case sqlite3.SQLITE_IOERR:
			return "reading or writing it failed"
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "another process kept it locked for too long"
		}
	}
	return "it answered with an error"
}
