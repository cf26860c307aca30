// Package history keeps what the server reads and answers what changed since when.
//
// Every successful read of a subaccount is handed to [Store.Record] as a [Read]. The store keeps
// the last state of each subaccount and stores only what changed against it (a [Change] row per
// difference, computed by the pure [Diff]); an unchanged read only moves the subaccount's "last
// read" time, so a landscape that does not change costs no space.
//
// The cut:
//   - State is kept per connector (its JSON and a digest of every field), not as one document per
//     subaccount: recording a large landscape then digests every connector (no JSON encoding) but
//     loads, diffs and rewrites only the connectors whose digest moved, and the findings only when
//     their set moved. Recording the 1,000 × 100 landscape takes tens of milliseconds (benchmarks).
//   - The first read of a subaccount is a baseline: it records no changes (the store cannot know
//     what changed before it existed); its findings are all new.
//   - A read not newer than the last recorded read of its subaccount (two processes racing) is
//     stale: Record reports it (Recorded.Stale) and stores nothing, so the state never moves
//     backwards.
//   - A finding whose severity changed keeps its first_seen and yields a [KindFindingChanged]
//     change (field "severity").
//   - Both backends run the same code over database/sql (PostgreSQL through pgx's stdlib
//     adapter; database/sql pools the connections); only the DDL, the placeholders and the
//     writer lock differ. One implementation means one behaviour; the tests run against both.
//   - Writers of one subaccount are serialised: SQLite by immediate transactions (WAL, a 30 s busy
//     timeout), PostgreSQL by a transaction-scoped advisory lock, so concurrent processes neither
//     fail with "database is locked" nor lose a read.
//   - Alert cursors ([Store.Unreported], [Store.MarkReported]) remember, per consumer of alerts
//     (a cron job's check --new-only) and subaccount, the read last reported to it: other readers
//     never consume its alerts, and a finding that comes back or changes severity is news again.
//   - Schema versions live in a meta table; [Open] upgrades an older store in one transaction and
//     refuses a newer one ([ErrNewerSchema]). An existing SQLite file is checked read-only first.
//
// Ordering "worst first" uses the finding severities (critical, high, medium, low, info); see
// [Diff] for the severity each kind of change gets.
//
// A store this package cannot read (not a SQLite file, corrupt, written by a newer version, disk
// full, unreachable) yields an [*UnavailableError] that says why and which store; the package
// never deletes, truncates or rewrites such a store.
package history

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Read is one successful read of one subaccount, with the findings the assessment computed on it.
type Read struct {
	Subaccount string // identity across restarts: the subaccount id when known, else the binding name
	Label      string // a name for people, e.g. the binding name
	At         time.Time
	Connectors []connectivity.Connector
	Findings   []Finding
	// Health is the deep health of the subaccount's configured connectors (see HealthStates);
	// nil when none is configured or none was read.
	Health []HealthState
}

// Finding is one assessment finding as history keeps it. Fingerprint identifies the finding
// across reads; the assessment computes it.
type Finding struct {
	Fingerprint, Rule, Severity, ClientID, Subject, Title string
}

// Kind names a kind of change.
type Kind string

// The kinds of change [Diff] reports.
const (
	KindConnectorAppeared    Kind = "connector_appeared"
	KindConnectorDisappeared Kind = "connector_disappeared"
	KindReconnected          Kind = "reconnected" // connected_since moved
	KindRestarted            Kind = "restarted"   // agent_recent_start moved
	KindVersionChanged       Kind = "version_changed"
	KindJavaChanged          Kind = "java_changed"
	KindRoleChanged          Kind = "role_changed" // master/shadow
	KindSecurityChanged      Kind = "security_changed"
	KindSystemExposed        Kind = "system_exposed"
	KindSystemRemoved        Kind = "system_removed"
	KindSystemChanged        Kind = "system_changed"
	KindFindingNew           Kind = "finding_new"
	KindFindingResolved      Kind = "finding_resolved"
	KindFindingChanged       Kind = "finding_changed" // severity moved; first_seen is kept
)

// Kinds lists every kind, for validating arguments.
func Kinds() []Kind {
	return []Kind{
		KindConnectorAppeared, KindConnectorDisappeared, KindReconnected, KindRestarted,
		KindVersionChanged, KindJavaChanged, KindRoleChanged, KindSecurityChanged,
		KindSystemExposed, KindSystemRemoved, KindSystemChanged,
		KindFindingNew, KindFindingResolved, KindFindingChanged,
		KindTunnelChanged, KindCertificateRenewed, KindHAChanged, KindAlertRaised, KindAlertCleared,
	}
}

// The severities of changes, the same words as finding severities.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// SeverityRank orders severities from info 0 to critical 4; anything else ranks as medium, so an
// unknown severity is never treated as harmless.
func SeverityRank(s string) int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return 2
}

// Change is one difference between two consecutive reads of a subaccount.
type Change struct {
	ObservedAt     time.Time // the read that saw it
	PreviousReadAt time.Time // the read before it
	Subaccount     string
	ClientID       string
	Kind           Kind
	Field          string // what changed, e.g. a check key, "agent_version", "HTTPS host:443"
	Old, New       string
	Detail         string
	Severity       string // see SeverityRank
}

// Recorded is what [Store.Record] did with a read.
type Recorded struct {
	PreviousReadAt time.Time // zero for the first read of the subaccount (a baseline)
	Changes        []Change
	Stale          bool // the store already holds a read of the subaccount at least as new
}

// Query selects changes. Zero fields do not filter.
type Query struct {
	Since      time.Time // zero: since the previous read of each subaccount
	Subaccount string
	ClientID   string
	Kind       Kind
	Limit      int // zero or less: all
}

// ChangeSet answers a [Query].
type ChangeSet struct {
	From, To time.Time
	Changes  []Change // worst first, then newest first
	Total    int      // matching changes before Limit
	// Covered is false when the store holds no read at or before From for the selected
	// subaccounts: changes before OldestRead are unknown, not absent.
	Covered    bool
	OldestRead time.Time
}

// FirstSeen tells when a finding's fingerprint was first recorded for a subaccount.
type FirstSeen struct {
	At  time.Time
	New bool // not present in the read before the latest recorded read of the subaccount
}

// Store keeps the history. Implementations are safe for concurrent use, also by several
// processes on one SQLite file or several servers on one PostgreSQL database.
type Store interface {
	// Record stores what changed since the previous read of r.Subaccount.
	Record(ctx context.Context, r Read) (Recorded, error)
	// Changes answers q.
	Changes(ctx context.Context, q Query) (ChangeSet, error)
	// FirstSeen reports, for the fingerprints the store knows, when each was first recorded for
	// subaccount and whether it is new in its latest recorded read. Call it after Record.
	FirstSeen(ctx context.Context, subaccount string, fingerprints []string) (map[string]FirstSeen, error)
	// Present returns, per subaccount, the fingerprints of the findings in its latest recorded
	// read and when each was first seen: the baseline against which a server tells new findings
	// from known ones in memory.
	Present(ctx context.Context) (map[string]map[string]time.Time, error)
	// Unreported returns, of fingerprints (findings of subaccount in a read the consumer is about
	// to report), those not yet reported to the consumer named cursor: all of them when it has
	// reported no read of subaccount yet; else each one that the store does not hold as present
	// since a read at or before the one last reported, at the same severity. A finding that
	// resolved and came back, or changed severity, after that read is unreported again; one the
	// store has not recorded yet is unreported. Other consumers' cursors and reads recorded by
	// anyone else (an interactive server) never make a finding reported.
	Unreported(ctx context.Context, cursor, subaccount string, fingerprints []string) (map[string]bool, error)
	// MarkReported moves the consumer cursor forward to the read of subaccount at at, once the
	// consumer has written its report of that read; a cursor never moves backwards.
	MarkReported(ctx context.Context, cursor, subaccount string, at time.Time) error
	// Prune deletes changes observed before before, findings resolved before it, subaccounts
	// not read since and alert cursors not moved since, then refreshes the query planner's statistics; it returns the number of
	// changes deleted. Run it in the background, e.g. daily.
	Prune(ctx context.Context, before time.Time) (int, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
	// Describe names the store for people, without secrets: "SQLite file /path".
	Describe() string
}

// ErrNewerSchema is wrapped by an [*UnavailableError] for a store written by a newer version.
var ErrNewerSchema = errors.New("the history store was written by a newer version of btp-connectivity-mcp; upgrade this binary or choose another store with --history")

// UnavailableError says that a store cannot be used, why, and which store. The store is left
// exactly as it was.
type UnavailableError struct {
	Store  string // as Describe names it, e.g. "SQLite file /home/me/.local/state/…/history.db"
	Reason string // for people, e.g. "it is not a SQLite database"
	Err    error
}

// Error says that history is unavailable, which store, why, and that it was left untouched.
func (e *UnavailableError) Error() string {
	msg := "history is unavailable: " + e.Store + ": " + e.Reason
	if e.Err != nil && !strings.Contains(e.Reason, e.Err.Error()) {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg + "; it was left untouched"
}

// Unwrap returns the underlying error, e.g. [ErrNewerSchema] or the driver's error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// DefaultPath returns $XDG_STATE_HOME/btp-connectivity-mcp/history.db, else
// $HOME/.local/state/btp-connectivity-mcp/history.db, or "" when neither is set.
func DefaultPath(env func(string) string) string {
	if d := env("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "btp-connectivity-mcp", "history.db")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "btp-connectivity-mcp", "history.db")
	}
	return ""
}

// Open opens the store spec names: "off" gives a nil Store and no error, a postgres:// or
// postgresql:// URL a PostgreSQL store, anything else a SQLite file at that path.
func Open(ctx context.Context, spec string) (Store, error) {
	switch {
	case spec == "off":
		return nil, nil
	case spec == "":
		return nil, fmt.Errorf("no history store given: pass a file path, a postgres:// URL or \"off\"")
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return OpenPostgres(ctx, spec)
	}
	return OpenSQLite(ctx, spec)
}
