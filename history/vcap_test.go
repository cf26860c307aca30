package history_test

import (
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
)

func TestBoundPostgres(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vcap, uri, name string
	}{
		{`{"postgresql-db":[{"name":"hist","label":"postgresql-db","tags":["postgres"],"credentials":{"uri":"postgres://u:p@h:5432/db"}}]}`, "postgres://u:p@h:5432/db", "hist"},
		{`{"user-provided":[{"name":"pg","label":"user-provided","tags":["PostgreSQL"],"credentials":{"url":"postgresql://h/db"}}]}`, "postgresql://h/db", "pg"},
		{`{"connectivity":[{"name":"conn","label":"connectivity","credentials":{"uri":"postgres://not-a-db"}}]}`, "", ""},
		{`not json`, "", ""},
		{``, "", ""},
	} {
		if uri, name := history.BoundPostgres(tc.vcap); uri != tc.uri || name != tc.name {
			t.Errorf("BoundPostgres(%s) = %q, %q; want %q, %q", tc.vcap, uri, name, tc.uri, tc.name)
		}
	}
}
