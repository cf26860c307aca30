package history

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

var postgresDialect = dialect{
	idColumn:    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
	lock:        "SELECT pg_advisory_xact_lock(hashtext(?))",
	metaExists:  `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'meta'`,
	dollarParam: true,
	bytewise:    ` COLLATE "C"`, // the database's collation may sort by language
	reason:      postgresReason,
}

// OpenPostgres opens the store in the PostgreSQL database the URL names (tables in the first
// schema of its search_path), creating or upgrading its tables. Several servers may share it.
// A URL whose sslmode allows an unencrypted connection (disable, allow, prefer: pgx's default) is
// refused unless the server is on this machine (loopback or a Unix socket).
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL; say what is wrong without it (it may hold a password).
		return nil, &UnavailableError{Store: "PostgreSQL", Reason: "the URL cannot be parsed; use postgres://user@host:5432/database"}
	}
	if host, plain := plaintextHost(cfg); plain {
		return nil, &UnavailableError{Store: fmt.Sprintf("PostgreSQL on %s", host), Reason: "the URL allows an unencrypted connection to a server that is not on this machine; " +
			"add sslmode=verify-full&sslrootcert=/path/to/ca.pem to the URL (or sslmode=require to encrypt without verifying the server)"}
	}
	return openPostgres(ctx, cfg)
}

// Open opens the store in the bound PostgreSQL service, over TLS only: the server's certificate
// must be signed by the binding's certificate authority (else the system's) and name the host
// (verify-full), whatever the URI's sslmode says.
func (b PostgresBinding) Open(ctx context.Context) (Store, error) {
	where := fmt.Sprintf("bound PostgreSQL service %q", b.Name)
	cfg, err := pgx.ParseConfig(b.URI)
	if err != nil {
		return nil, &UnavailableError{Store: where, Reason: "the uri of its credentials cannot be parsed; recreate the binding"}
	}
	var roots *x509.CertPool
	if len(strings.TrimSpace(string(b.RootCA))) > 0 {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b.RootCA) {
			return nil, &UnavailableError{Store: where, Reason: "the sslrootcert of its credentials holds no PEM certificate; recreate the binding"}
		}
	}
	verifyFull := func(host string) *tls.Config {
		return &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	cfg.TLSConfig = verifyFull(cfg.Host)
	var fallbacks []*pgconn.FallbackConfig
	for _, f := range cfg.Fallbacks {
		if f.TLSConfig != nil { // the plaintext fallbacks of sslmode prefer and allow are dropped
			f.TLSConfig = verifyFull(f.Host)
			fallbacks = append(fallbacks, f)
		}
	}
	cfg.Fallbacks = fallbacks
	return openPostgres(ctx, cfg)
}

// plaintextHost returns a host that cfg would reach without TLS although it is not on this
// machine.
func plaintextHost(cfg *pgx.ConnConfig) (string, bool) {
	tries := []*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}
	for _, f := range append(tries, cfg.Fallbacks...) {
		if f.TLSConfig == nil && !local(f.Host) {
			return fmt.Sprintf("%s:%d", f.Host, f.Port), true
		}
	}
	return "", false
}

// local reports whether a PostgreSQL host is on this machine: a Unix socket or loopback.
func local(host string) bool {
	if strings.HasPrefix(host, "/") || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// openPostgres opens the store with a parsed configuration.
func openPostgres(ctx context.Context, cfg *pgx.ConnConfig) (Store, error) {
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
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return "the server's TLS certificate cannot be verified (" + cv.Err.Error() + ")"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "the server cannot be reached"
	}
	return "it answered with an error"
}
