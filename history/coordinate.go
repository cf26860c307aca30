package history

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// Coordinator lets several server instances that share one store work as one: one of them at a
// time leads a task (the subscription poller), and what it publishes reaches every instance. A
// PostgreSQL store coordinates across machines (an advisory lock, LISTEN/NOTIFY); a store without
// it serves one process, which then always leads and hears only itself.
type Coordinator interface {
	// TryLead returns true and a release function when this instance now leads task (until
	// release, or the store closes), false when another instance leads it.
	TryLead(ctx context.Context, task string) (release func(), ok bool, err error)
	// Publish sends message to every instance listening on topic, this one included.
	Publish(ctx context.Context, topic, message string) error
	// Listen calls fn with every message published on topic until ctx ends.
	Listen(ctx context.Context, topic string, fn func(message string)) error
}

// TryLead holds a session-level advisory lock on a connection of its own.
func (s *postgresStore) TryLead(ctx context.Context, task string) (func(), bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	key := lockKey(task)
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
	}, true, nil
}

// Publish sends a NOTIFY on topic.
func (s *postgresStore) Publish(ctx context.Context, topic, message string) error {
	_, err := s.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel(topic), message)
	return err
}

// Listen LISTENs on topic with a connection of its own until ctx ends.
func (s *postgresStore) Listen(ctx context.Context, topic string, fn func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel(topic)}.Sanitize()); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fn(n.Payload)
	}
}

// postgresStore is a sqlStore on PostgreSQL, which can coordinate instances.
type postgresStore struct {
	*sqlStore
	cfg *pgx.ConnConfig
}

// channel names the NOTIFY channel of a topic.
func channel(topic string) string { return "btp_connectivity_mcp_" + topic }

// lockKey turns a task name into an advisory lock key.
func lockKey(task string) int64 {
	h := fnv.New64a()
	fmt.Fprint(h, "btp-connectivity-mcp/", task)
	return int64(h.Sum64())
}
