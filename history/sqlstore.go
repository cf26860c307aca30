package history

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// dialect holds what differs between the SQL backends.
type dialect struct {
	idColumn string // DDL of an auto-numbered primary key
	// lock serialises writers of one key inside a transaction; "" when beginning a transaction
	// already does (SQLite with BEGIN IMMEDIATE).
	lock        string
	metaExists  string // a query counting the meta table in the current schema
	dollarParam bool   // rewrite ? to $1, $2, …
	bytewise    string // after ORDER BY a text column: sort it as Go compares strings, byte by byte
	reason      func(error) string
}

// sqlStore is the Store over database/sql; both backends use it.
type sqlStore struct {
	db       *sql.DB
	d        dialect
	describe string
}

// migrations[i] brings a store from schema version i to i+1. Append; never edit a released step.
var migrations = [][]string{{
	`CREATE TABLE subaccounts (subaccount TEXT PRIMARY KEY, label TEXT NOT NULL,
		covered_from BIGINT NOT NULL, prev_read_at BIGINT NOT NULL, last_read_at BIGINT NOT NULL,
		findings_hash TEXT NOT NULL)`,
	`CREATE TABLE connectors (subaccount TEXT NOT NULL, conn_key TEXT NOT NULL, hash TEXT NOT NULL,
		state TEXT NOT NULL, PRIMARY KEY (subaccount, conn_key))`,
	`CREATE TABLE findings (subaccount TEXT NOT NULL, fingerprint TEXT NOT NULL,
		first_seen BIGINT NOT NULL, present_since BIGINT NOT NULL, resolved_at BIGINT NOT NULL,
		rule TEXT NOT NULL, severity TEXT NOT NULL, client_id TEXT NOT NULL, subject TEXT NOT NULL,
		title TEXT NOT NULL, PRIMARY KEY (subaccount, fingerprint))`,
	`CREATE TABLE changes (id {id}, subaccount TEXT NOT NULL, observed_at BIGINT NOT NULL,
		previous_read_at BIGINT NOT NULL, client_id TEXT NOT NULL, kind TEXT NOT NULL,
		field TEXT NOT NULL, old_value TEXT NOT NULL, new_value TEXT NOT NULL, detail TEXT NOT NULL,
		severity TEXT NOT NULL, sev_rank INTEGER NOT NULL)`,
	`CREATE INDEX changes_observed ON changes (observed_at)`,
	`CREATE INDEX changes_subaccount ON changes (subaccount, observed_at)`,
	`CREATE INDEX changes_worst ON changes (sev_rank, observed_at, id)`, // worst first, newest first
}, {
	// Alert cursors: per consumer and subaccount, the read last reported (Unreported, MarkReported).
	`CREATE TABLE alert_cursors (name TEXT NOT NULL, subaccount TEXT NOT NULL, reported_at BIGINT NOT NULL,
		PRIMARY KEY (name, subaccount))`,
	// When a present finding took its severity; 0 for rows written before this step (present_since then applies).
	`ALTER TABLE findings ADD COLUMN severity_since BIGINT NOT NULL DEFAULT 0`,
},
	// Deep health of configured connectors (healthstore.go).
	healthSchema,
}

func (s *sqlStore) Describe() string { return s.describe }

func (s *sqlStore) Close() error { return s.db.Close() }

func (s *sqlStore) Ping(ctx context.Context) error { return s.fail(s.db.PingContext(ctx)) }

// fail turns a backend error into an *UnavailableError naming the store.
func (s *sqlStore) fail(err error) error {
	var u *UnavailableError
	if err == nil || errors.As(err, &u) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &UnavailableError{Store: s.describe, Reason: s.d.reason(err), Err: err}
}

func (s *sqlStore) q(query string) string {
	if !s.d.dollarParam {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tx runs f in a transaction that holds the writer lock for key.
func (s *sqlStore) tx(ctx context.Context, key string, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.q(s.d.lock), "btp-connectivity-mcp history "+key); err != nil {
			return s.fail(err)
		}
	}
	if err := f(tx); err != nil {
		return s.fail(err)
	}
	return s.fail(tx.Commit())
}

// schemaVersion reads the version of an existing store; 0 when it has none yet.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, d dialect) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, d.metaExists).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

func checkVersion(v, known int) error {
	if v > known {
		return fmt.Errorf("%w (store schema version %d, this binary knows up to %d)", ErrNewerSchema, v, known)
	}
	return nil
}

// migrate brings the store to schema version len(steps), refusing a newer one.
func (s *sqlStore) migrate(ctx context.Context, steps [][]string) error {
	return s.tx(ctx, "migrate", func(tx *sql.Tx) error {
		v, err := schemaVersion(ctx, tx, s.d)
		if err != nil {
			return err
		}
		if err := checkVersion(v, len(steps)); err != nil {
			return &UnavailableError{Store: s.describe, Reason: "it was written by a newer version", Err: err}
		}
		if v == len(steps) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`); err != nil {
			return err
		}
		for _, step := range steps[v:] {
			for _, stmt := range step {
				if _, err := tx.ExecContext(ctx, strings.ReplaceAll(stmt, "{id}", s.d.idColumn)); err != nil {
					return fmt.Errorf("migrating the schema: %w", err)
				}
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`), strconv.Itoa(len(steps)))
		return err
	})
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// encoded is a connector of the read being recorded, with the digest of what is stored of it.
type encoded struct {
	hash string
	c    *connectivity.Connector
}

func (s *sqlStore) Record(ctx context.Context, r Read) (Recorded, error) {
	if r.Subaccount == "" || r.At.IsZero() {
		return Recorded{}, errors.New("history: a read needs a subaccount identity and a time")
	}
	at := r.At.UTC().Round(0)
	cur := make(map[string]encoded, len(r.Connectors))
	var d digester
	for key, c := range byKey(r.Connectors) {
		cur[key] = encoded{d.connector(c), c}
	}
	findings := r.Findings // in fingerprint order; a copy is sorted when they are not
	byPrint := func(a, b Finding) int { return cmp.Compare(a.Fingerprint, b.Fingerprint) }
	if !slices.IsSortedFunc(findings, byPrint) {
		findings = slices.Clone(findings)
		slices.SortFunc(findings, byPrint)
	}
	findingsHash := hashFindings(findings)

	var rec Recorded
	err := s.tx(ctx, r.Subaccount, func(tx *sql.Tx) error {
		rec = Recorded{}
		var prevAt, lastAt int64
		var lastFindings string
		err := tx.QueryRowContext(ctx, s.q(`SELECT prev_read_at, last_read_at, findings_hash FROM subaccounts WHERE subaccount = ?`),
			r.Subaccount).Scan(&prevAt, &lastAt, &lastFindings)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO subaccounts (subaccount, label, covered_from, prev_read_at, last_read_at, findings_hash)
				VALUES (?, ?, ?, 0, ?, '')`), r.Subaccount, r.Label, at.UnixNano(), at.UnixNano()); err != nil {
				return err
			}
			lastFindings = "none"
		case err != nil:
			return err
		case at.UnixNano() <= lastAt:
			rec.Stale, rec.PreviousReadAt = true, fromNanos(lastAt)
			return nil
		default:
			rec.PreviousReadAt = fromNanos(lastAt)
		}

		prev, next := Read{Subaccount: r.Subaccount, At: rec.PreviousReadAt}, Read{Subaccount: r.Subaccount, At: at}
		moved, gone, err := s.movedConnectors(ctx, tx, r.Subaccount, cur)
		if err != nil {
			return err
		}
		for key, c := range moved {
			if c != nil {
				prev.Connectors = append(prev.Connectors, *c)
			}
			if e, ok := cur[key]; ok {
				next.Connectors = append(next.Connectors, *e.c)
				state, err := json.Marshal(e.c)
				if err != nil {
					return fmt.Errorf("encoding connector %q: %w", e.c.ClientID, err)
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO connectors (subaccount, conn_key, hash, state) VALUES (?, ?, ?, ?)
					ON CONFLICT (subaccount, conn_key) DO UPDATE SET hash = excluded.hash, state = excluded.state`),
					r.Subaccount, key, e.hash, string(state)); err != nil {
					return err
				}
			}
		}
		for _, key := range gone {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM connectors WHERE subaccount = ? AND conn_key = ?`), r.Subaccount, key); err != nil {
				return err
			}
		}
		if err := s.recordHealth(ctx, tx, r.Subaccount, r.Health, &prev, &next); err != nil {
			return err
		}
		if lastFindings != findingsHash {
			delta, err := s.compareFindings(ctx, tx, r.Subaccount, findings, !rec.PreviousReadAt.IsZero())
			if err != nil {
				return err
			}
			prev.Findings, next.Findings = delta.prev, delta.next
			if err := s.writeFindings(ctx, tx, r.Subaccount, at, findings, delta); err != nil {
				return err
			}
		}
		if !rec.PreviousReadAt.IsZero() {
			rec.Changes = Diff(prev, next)
		}
		for _, c := range rec.Changes {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO changes (subaccount, observed_at, previous_read_at, client_id, kind, field,
				old_value, new_value, detail, severity, sev_rank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				c.Subaccount, nanos(c.ObservedAt), nanos(c.PreviousReadAt), c.ClientID, string(c.Kind), c.Field,
				c.Old, c.New, c.Detail, c.Severity, SeverityRank(c.Severity)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE subaccounts SET label = ?, prev_read_at = ?, last_read_at = ?, findings_hash = ?
			WHERE subaccount = ?`), r.Label, nanos(rec.PreviousReadAt), at.UnixNano(), findingsHash, r.Subaccount)
		return err
	})
	return rec, err
}

// movedConnectors compares the stored hashes with cur. moved maps each key whose hash differs to
// its stored connector (nil when new); gone lists stored keys cur lacks (also in moved).
func (s *sqlStore) movedConnectors(ctx context.Context, tx *sql.Tx, sub string, cur map[string]encoded) (moved map[string]*connectivity.Connector, gone []string, err error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT conn_key, hash FROM connectors WHERE subaccount = ?`), sub)
	if err != nil {
		return nil, nil, err
	}
	moved = map[string]*connectivity.Connector{}
	stored := map[string]bool{}
	var load []string
	for rows.Next() {
		var key, h string
		if err := rows.Scan(&key, &h); err != nil {
			rows.Close()
			return nil, nil, err
		}
		stored[key] = true
		if e, ok := cur[key]; !ok || e.hash != h {
			load = append(load, key)
		}
		if _, ok := cur[key]; !ok {
			gone = append(gone, key)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	for key := range cur {
		if !stored[key] {
			moved[key] = nil
		}
	}
	for _, key := range load {
		var state string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT state FROM connectors WHERE subaccount = ? AND conn_key = ?`), sub, key).Scan(&state); err != nil {
			return nil, nil, err
		}
		c := new(connectivity.Connector)
		if err := json.Unmarshal([]byte(state), c); err != nil {
			return nil, nil, fmt.Errorf("stored state of connector %q is unreadable: %w", key, err)
		}
		moved[key] = c
	}
	return moved, gone, nil
}

// findingsDelta is how the findings of a read differ from those present in the store.
type findingsDelta struct {
	write    []int    // indexes of the read's findings to insert or update: new or changed
	resolved []string // fingerprints of present findings the read no longer reports
	// prev and next hold only the findings for which Diff reports a change (new, resolved, or
	// of another severity), so that Diff gives what it would for all of them.
	prev, next []Finding
	diff       bool // whether to collect prev and next: a read with no previous read has no changes
}

// compareFindings walks the present findings of sub, in fingerprint order, alongside cur (sorted
// by fingerprint) and keeps only what differs: holding all 30,000 stored findings of a large
// landscape, and maps of both sides, while a read was recorded took some 14 MB of heap and raised
// the server's peak RSS by a quarter when every read changed findings.
func (s *sqlStore) compareFindings(ctx context.Context, tx *sql.Tx, sub string, cur []Finding, diff bool) (*findingsDelta, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT fingerprint, rule, severity, client_id, subject, title FROM findings
		WHERE subaccount = ? AND resolved_at = 0 ORDER BY fingerprint`+s.d.bytewise), sub)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	delta := &findingsDelta{diff: diff}
	i, n, last := 0, 0, ""
	for ; rows.Next(); n++ {
		var p Finding
		if err := rows.Scan(&p.Fingerprint, &p.Rule, &p.Severity, &p.ClientID, &p.Subject, &p.Title); err != nil {
			return nil, err
		}
		if n > 0 && p.Fingerprint <= last {
			return nil, fmt.Errorf("the store returned findings out of fingerprint order (%q after %q)", p.Fingerprint, last)
		}
		last = p.Fingerprint
		for ; i < len(cur) && cur[i].Fingerprint < p.Fingerprint; i++ {
			delta.compare(nil, cur, i)
		}
		if i == len(cur) || cur[i].Fingerprint != p.Fingerprint {
			delta.resolve(p)
		}
		for ; i < len(cur) && cur[i].Fingerprint == p.Fingerprint; i++ {
			delta.compare(&p, cur, i)
		}
	}
	for ; i < len(cur); i++ {
		delta.compare(nil, cur, i)
	}
	return delta, rows.Err()
}

// compare notes cur[i] against p, the present finding of its fingerprint (nil when there is
// none). Of findings sharing a fingerprint each is written, and Diff sees the last, as it would
// when indexing them.
func (d *findingsDelta) compare(p *Finding, cur []Finding, i int) {
	c := cur[i]
	if p != nil && *p == c {
		return
	}
	d.write = append(d.write, i)
	if !d.diff || i+1 < len(cur) && cur[i+1].Fingerprint == c.Fingerprint {
		return
	}
	switch {
	case p == nil:
		d.next = append(d.next, c)
	case p.Severity != c.Severity:
		d.prev, d.next = append(d.prev, *p), append(d.next, c)
	}
}

// resolve notes p, a present finding the read no longer reports.
func (d *findingsDelta) resolve(p Finding) {
	d.resolved = append(d.resolved, p.Fingerprint)
	if d.diff {
		d.prev = append(d.prev, p)
	}
}

// writeFindings stores what delta says of cur: a returning fingerprint keeps its first_seen and
// starts a new present_since; one no longer reported is marked resolved.
func (s *sqlStore) writeFindings(ctx context.Context, tx *sql.Tx, sub string, at time.Time, cur []Finding, delta *findingsDelta) error {
	now := at.UnixNano()
	if len(delta.write) > 0 {
		// prepared once per read: parsing the statement for every finding cost more than running it
		upsert, err := tx.PrepareContext(ctx, s.q(`INSERT INTO findings (subaccount, fingerprint, first_seen, present_since, resolved_at,
			rule, severity, client_id, subject, title, severity_since) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (subaccount, fingerprint) DO UPDATE SET rule = excluded.rule, severity = excluded.severity,
			client_id = excluded.client_id, subject = excluded.subject, title = excluded.title, resolved_at = 0,
			present_since = CASE WHEN findings.resolved_at <> 0 THEN excluded.present_since ELSE findings.present_since END,
			severity_since = CASE WHEN findings.resolved_at <> 0 OR findings.severity <> excluded.severity
				THEN excluded.severity_since ELSE findings.severity_since END`))
		if err != nil {
			return err
		}
		defer upsert.Close()
		for _, i := range delta.write {
			f := &cur[i]
			if _, err := upsert.ExecContext(ctx, sub, f.Fingerprint, now, now, f.Rule, f.Severity, f.ClientID, f.Subject, f.Title, now); err != nil {
				return err
			}
		}
	}
	for _, fp := range delta.resolved {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET resolved_at = ? WHERE subaccount = ? AND fingerprint = ?`),
			now, sub, fp); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) FirstSeen(ctx context.Context, sub string, fingerprints []string) (map[string]FirstSeen, error) {
	out := make(map[string]FirstSeen, len(fingerprints))
	if len(fingerprints) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT f.fingerprint, f.first_seen, f.present_since = s.last_read_at AND f.resolved_at = 0
		FROM findings f JOIN subaccounts s ON s.subaccount = f.subaccount WHERE f.subaccount = ?`), sub)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	want := make(map[string]bool, len(fingerprints))
	for _, fp := range fingerprints {
		want[fp] = true
	}
	for rows.Next() {
		var fp string
		var first int64
		var isNew bool
		if err := rows.Scan(&fp, &first, &isNew); err != nil {
			return nil, s.fail(err)
		}
		if want[fp] {
			out[fp] = FirstSeen{At: fromNanos(first), New: isNew}
		}
	}
	return out, s.fail(rows.Err())
}

func (s *sqlStore) Present(ctx context.Context) (map[string]map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subaccount, fingerprint, first_seen FROM findings WHERE resolved_at = 0`)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	out := map[string]map[string]time.Time{}
	for rows.Next() {
		var sub, fp string
		var first int64
		if err := rows.Scan(&sub, &fp, &first); err != nil {
			return nil, s.fail(err)
		}
		if out[sub] == nil {
			out[sub] = map[string]time.Time{}
		}
		out[sub][fp] = fromNanos(first)
	}
	return out, s.fail(rows.Err())
}

func (s *sqlStore) Unreported(ctx context.Context, cursor, sub string, fingerprints []string) (map[string]bool, error) {
	out := make(map[string]bool, len(fingerprints))
	for _, fp := range fingerprints {
		out[fp] = true
	}
	if cursor == "" || sub == "" {
		return nil, errors.New("history: an alert cursor needs a name and a subaccount identity")
	}
	var reported int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT reported_at FROM alert_cursors WHERE name = ? AND subaccount = ?`), cursor, sub).Scan(&reported)
	if errors.Is(err, sql.ErrNoRows) || len(fingerprints) == 0 {
		return out, nil // nothing reported to this consumer yet: everything is news to it
	}
	if err != nil {
		return nil, s.fail(err)
	}
	// Present since a read at or before the one reported, at the same severity: reported already.
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT fingerprint FROM findings WHERE subaccount = ? AND resolved_at = 0
		AND present_since <= ? AND severity_since <= ?`), sub, reported, reported)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			return nil, s.fail(err)
		}
		if out[fp] {
			delete(out, fp)
		}
	}
	return out, s.fail(rows.Err())
}

func (s *sqlStore) MarkReported(ctx context.Context, cursor, sub string, at time.Time) error {
	if cursor == "" || sub == "" || at.IsZero() {
		return errors.New("history: an alert cursor needs a name, a subaccount identity and the time of the read reported")
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO alert_cursors (name, subaccount, reported_at) VALUES (?, ?, ?)
		ON CONFLICT (name, subaccount) DO UPDATE SET reported_at = excluded.reported_at
		WHERE alert_cursors.reported_at < excluded.reported_at`), cursor, sub, at.UTC().Round(0).UnixNano())
	return s.fail(err)
}

func (s *sqlStore) Changes(ctx context.Context, q Query) (ChangeSet, error) {
	var set ChangeSet
	var oldest, from, to sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT MIN(covered_from), MIN(NULLIF(prev_read_at, 0)), MAX(last_read_at)
		FROM subaccounts WHERE ? IN ('', subaccount)`), q.Subaccount).Scan(&oldest, &from, &to); err != nil {
		return set, s.fail(err)
	}
	cond, args := []string{"1 = 1"}, []any{}
	if q.Subaccount != "" {
		cond, args = append(cond, "c.subaccount = ?"), append(args, q.Subaccount)
	}
	set.OldestRead, set.To = fromNanos(oldest.Int64), fromNanos(to.Int64)
	if q.Since.IsZero() {
		set.From = fromNanos(from.Int64)
		// the bound on observed_at alone lets the index narrow the rows first
		cond, args = append(cond, "c.observed_at > s.prev_read_at", "c.observed_at > ?"), append(args, from.Int64)
	} else {
		set.From = q.Since.UTC()
		cond, args = append(cond, "c.observed_at >= ?"), append(args, q.Since.UnixNano())
	}
	set.Covered = !set.OldestRead.IsZero() && !set.From.IsZero() && !set.From.Before(set.OldestRead)
	if q.ClientID != "" {
		cond, args = append(cond, "c.client_id = ?"), append(args, q.ClientID)
	}
	if q.Kind != "" {
		cond, args = append(cond, "c.kind = ?"), append(args, string(q.Kind))
	}
	from_ := ` FROM changes c JOIN subaccounts s ON s.subaccount = c.subaccount WHERE ` + strings.Join(cond, " AND ")
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*)`+from_), args...).Scan(&set.Total); err != nil {
		return set, s.fail(err)
	}
	query := `SELECT c.subaccount, c.observed_at, c.previous_read_at, c.client_id, c.kind, c.field, c.old_value, c.new_value,
		c.detail, c.severity` + from_ + ` ORDER BY c.sev_rank DESC, c.observed_at DESC, c.id DESC`
	if q.Limit > 0 {
		query += " LIMIT " + strconv.Itoa(q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return set, s.fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Change
		var observed, previous int64
		if err := rows.Scan(&c.Subaccount, &observed, &previous, &c.ClientID, &c.Kind, &c.Field, &c.Old, &c.New, &c.Detail, &c.Severity); err != nil {
			return set, s.fail(err)
		}
		c.ObservedAt, c.PreviousReadAt = fromNanos(observed), fromNanos(previous)
		set.Changes = append(set.Changes, c)
	}
	return set, s.fail(rows.Err())
}

// pruneBatch bounds how long one prune statement holds the write lock.
const pruneBatch = 5000

func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int, error) {
	b := before.UnixNano()
	total := 0
	for {
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM changes WHERE id IN (SELECT id FROM changes WHERE observed_at < ? LIMIT `+
			strconv.Itoa(pruneBatch)+`)`), b)
		if err != nil {
			return total, s.fail(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.fail(err)
		}
		total += int(n)
		if n < pruneBatch {
			break
		}
	}
	err := s.tx(ctx, "prune", func(tx *sql.Tx) error {
		for _, stmt := range []string{
			`DELETE FROM findings WHERE resolved_at <> 0 AND resolved_at < ?`,
			`DELETE FROM findings WHERE subaccount IN (SELECT subaccount FROM subaccounts WHERE last_read_at < ?)`,
			`DELETE FROM connectors WHERE subaccount IN (SELECT subaccount FROM subaccounts WHERE last_read_at < ?)`,
			`DELETE FROM health WHERE subaccount IN (SELECT subaccount FROM subaccounts WHERE last_read_at < ?)`,
			`DELETE FROM subaccounts WHERE last_read_at < ?`,
			`DELETE FROM alert_cursors WHERE reported_at < ?`, // the subaccount was not reported since: start afresh
			`UPDATE subaccounts SET covered_from = ? WHERE covered_from < ?`,
		} {
			args := []any{b}
			if strings.Count(stmt, "?") == 2 {
				args = append(args, b)
			}
			if _, err := tx.ExecContext(ctx, s.q(stmt), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return total, err
	}
	// Fresh statistics keep the query plans good as the tables grow (SQLite gathers none by
	// itself; PostgreSQL's autovacuum may be off).
	for _, table := range []string{"subaccounts", "connectors", "findings", "changes", "health"} {
		if _, err := s.db.ExecContext(ctx, "ANALYZE "+table); err != nil {
			return total, s.fail(err)
		}
	}
	return total, nil
}
