package history_test

import (
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
)

func TestBoundPostgres(t *testing.T) {
	t.Parallel()
	// The credentials of SAP BTP's postgresql-db (PostgreSQL, hyperscaler option): the CA of the
	// server's certificate in sslrootcert.
	const btp = `{"postgresql-db":[{"name":"hist","label":"postgresql-db","plan":"standard","tags":["postgresql","relational"],"credentials":{
		"username":"u","password":"p","hostname":"pg.example.com","port":"5432","dbname":"db",
		"uri":"postgres://u:p@pg.example.com:5432/db",
		"sslcert":"-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n",
		"sslrootcert":"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"}}]}`
	for _, tc := range []struct {
		vcap   string
		want   history.PostgresBinding
		wantOK bool
	}{
		{btp, history.PostgresBinding{Name: "hist", URI: "postgres://u:p@pg.example.com:5432/db", RootCA: []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")}, true},
		{`{"postgresql-db":[{"name":"hist","label":"postgresql-db","tags":["postgres"],"credentials":{"uri":"postgres://u:p@h:5432/db"}}]}`, history.PostgresBinding{Name: "hist", URI: "postgres://u:p@h:5432/db"}, true},
		{`{"user-provided":[{"name":"pg","label":"user-provided","tags":["PostgreSQL"],"credentials":{"url":"postgresql://h/db"}}]}`, history.PostgresBinding{Name: "pg", URI: "postgresql://h/db"}, true},
		{`{"connectivity":[{"name":"conn","label":"connectivity","credentials":{"uri":"postgres://not-a-db"}}]}`, history.PostgresBinding{}, false},
		{`not json`, history.PostgresBinding{}, false},
		{``, history.PostgresBinding{}, false},
	} {
		got, ok := history.BoundPostgres(tc.vcap)
		if ok != tc.wantOK || got.Name != tc.want.Name || got.URI != tc.want.URI || string(got.RootCA) != string(tc.want.RootCA) {
			t.Errorf("BoundPostgres(%.60s…) = %+v, %v; want %+v, %v", tc.vcap, got, ok, tc.want, tc.wantOK)
		}
	}
}
