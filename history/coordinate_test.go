package history

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestCoordinator runs two stores on one PostgreSQL database, as two server instances would:
// one leads a task at a time, and a message either publishes reaches both.
func TestCoordinator(t *testing.T) {
	t.Parallel()
	u := postgresSchema(t)
	open := func() Coordinator {
		st, err := OpenPostgres(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.(Coordinator)
	}
	a, b := open(), open()
	task := fmt.Sprintf("test-%d", time.Now().UnixNano())

	releaseA, ok, err := a.TryLead(t.Context(), task)
	if err != nil || !ok {
		t.Fatalf("a does not lead: %v", err)
	}
	if _, ok, err := b.TryLead(t.Context(), task); err != nil || ok {
		t.Fatalf("b leads too (%v)", err)
	}
	releaseA()
	releaseB, ok, err := b.TryLead(t.Context(), task)
	if err != nil || !ok {
		t.Fatalf("b does not lead after a released: %v", err)
	}
	defer releaseB()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type message struct {
		who  int
		text string
	}
	got := make(chan message, 64)
	listening := make(chan error, 2)
	for i, c := range []Coordinator{a, b} {
		go func() { listening <- c.Listen(ctx, task, func(m string) { got <- message{i, m} }) }()
	}
	// LISTEN takes effect asynchronously: publish until both listeners heard one message.
	deadline := time.After(30 * time.Second)
	heard := map[int]bool{}
	for len(heard) < 2 {
		if err := a.Publish(t.Context(), task, "connectivity://findings"); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m.text != "connectivity://findings" {
				t.Fatalf("message %q", m.text)
			}
			heard[m.who] = true
		case err := <-listening:
			t.Fatalf("Listen ended: %v", err)
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%d of 2 listeners heard the message", len(heard))
		}
	}
	if _, ok := any(openSQLiteForTest(t)).(Coordinator); ok {
		t.Error("SQLite claims to coordinate instances")
	}
}

func openSQLiteForTest(t *testing.T) Store {
	st, err := OpenSQLite(t.Context(), t.TempDir()+"/h.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
