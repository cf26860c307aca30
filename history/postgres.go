package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

var postgresDialect = dialect{
	idColumn:    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
	lock:        "SELECT pg_advisory_xact_lock(hashtext(?))",
	metaExists:  `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'meta'`,
	dollarParam: true,
	reason:      postgresReason,
}

// OpenPostgres opens the store in the PostgreSQL database the URL names (tables in the first
// schema of its search_path), creating or upgrading its tables. Several servers may share it.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL; say what is wrong without it (it may hold a password).
		return nil, &UnavailableError{Store: "PostgreSQL", Reason: "the URL cannot be parsed; use postgres://user@host:5432/database"}
	}
	s := &sqlStore{d: postgresDialect, describe: fmt.Sprintf("PostgreSQL database %q on %s:%d as user %q", cfg.Database, cfg.Host, cfg.Port, cfg.User)}
	listenCfg := cfg.Copy()
	s.db = stdlib.OpenDB(*cfg)
	s.db.SetMaxOpenConns(8)
	if err := s.Ping(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.migrate(ctx, migrations); err != nil {
		s.db.Close()
		return nil, err
	}
	return &postgresStore{sqlStore: s, cfg: listenCfg}, nil
}

// postgresReason says in words why PostgreSQL refused.
func postgresReason(err error) string {
	if errors.Is(err, ErrNewerSchema) {
		return "it was written by a newer version"
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "53100":
			return "the database server's disk is full"
		case pg.Code == "28P01" || pg.Code == "28000":
			return "the server refused the credentials"
		case pg.Code == "3D000":
			return "the database does not exist"
		case pg.Code[:2] == "42" && pg.Code != "42P01":
			return "the server refused a statement (" + pg.Message + ")"
		}
		return "the server answered with an error (" + pg.Code + ")"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "the server cannot be reached"
	}
	return "it answered with an error"
}
