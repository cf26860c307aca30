package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
)

// healthSchema is the migration that adds the deep-health states: one row per subaccount and
// configured connector, its state (JSON, what HealthState holds) and the digest of it.
var healthSchema = []string{
	`CREATE TABLE health (subaccount TEXT NOT NULL, connector TEXT NOT NULL, hash TEXT NOT NULL,
		state TEXT NOT NULL, PRIMARY KEY (subaccount, connector))`,
}

// recordHealth stores the deep-health states of a read being recorded and adds what Diff
// compares to prev and next: for each connector whose digest moved, its stored state and the
// new one. A state that does not know a part keeps the stored part (HealthState.carry); an
// unchanged state costs one digest and writes nothing; a connector the read lacks is left as it
// was (unknown, not gone).
func (s *sqlStore) recordHealth(ctx context.Context, tx *sql.Tx, sub string, states []HealthState, prev, next *Read) error {
	if len(states) == 0 {
		return nil
	}
	stored := map[string]string{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT connector, hash FROM health WHERE subaccount = ?`), sub)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, h string
		if err := rows.Scan(&name, &h); err != nil {
			rows.Close()
			return err
		}
		stored[name] = h
	}
	if err := rows.Close(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, st := range states {
		if seen[st.Connector] {
			continue // one state per connector: the first
		}
		seen[st.Connector] = true
		st.Tunnels, st.Certificates, st.Alerts = slices.Clone(st.Tunnels), slices.Clone(st.Certificates), slices.Clone(st.Alerts)
		st.normalize()
		state, err := encodeHealth(st)
		if err != nil {
			return err
		}
		h, ok := stored[st.Connector]
		if ok && hash(state) == h {
			continue
		}
		if ok {
			var was string
			if err := tx.QueryRowContext(ctx, s.q(`SELECT state FROM health WHERE subaccount = ? AND connector = ?`), sub, st.Connector).Scan(&was); err != nil {
				return err
			}
			var p HealthState
			if err := json.Unmarshal([]byte(was), &p); err != nil {
				return fmt.Errorf("stored health state of connector %q is unreadable: %w", st.Connector, err)
			}
			st = st.carry(p)
			if state, err = encodeHealth(st); err != nil {
				return err
			}
			if hash(state) == h {
				continue // what this read knows is what is stored
			}
			prev.Health = append(prev.Health, p)
			next.Health = append(next.Health, st)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO health (subaccount, connector, hash, state) VALUES (?, ?, ?, ?)
			ON CONFLICT (subaccount, connector) DO UPDATE SET hash = excluded.hash, state = excluded.state`),
			sub, st.Connector, hash(state), string(state)); err != nil {
			return err
		}
	}
	return nil
}

func encodeHealth(st HealthState) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the health state of connector %q: %w", st.Connector, err)
	}
	return b, nil
}
