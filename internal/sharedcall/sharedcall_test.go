package sharedcall

import (
	"context"
	"testing"
	"time"
)

// block starts a call that runs until its context ends, and says why it ended.
func block(untilDeadline bool) (*Call[int], chan error) {
	ended := make(chan error, 1)
	c := Start(context.Background(), untilDeadline, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		ended <- ctx.Err()
		return 0, ctx.Err()
	})
	return c, ended
}

func TestCallersShareOneResult(t *testing.T) {
	release := make(chan struct{})
	runs := 0
	c := Start(context.Background(), false, func(context.Context) (int, error) { runs++; <-release; return 42, nil })
	if !c.Join() {
		t.Fatal("Join of a running call failed")
	}
	close(release)
	for range 2 {
		if v, err, ok := c.Wait(context.Background()); v != 42 || err != nil || !ok {
			t.Fatalf("Wait = %v, %v, %v", v, err, ok)
		}
	}
	if runs != 1 {
		t.Errorf("%d runs, want 1", runs)
	}
	if c.Join() {
		t.Error("joined a call that had ended")
	}
	if (*Call[int])(nil).Join() {
		t.Error("joined no call")
	}
}

func TestTheLastCancelledCallerEndsTheCall(t *testing.T) {
	c, ended := block(false)
	c.Join()
	first, cancelFirst := context.WithCancel(context.Background())
	cancelFirst()
	if _, _, ok := c.Wait(first); ok {
		t.Fatal("a cancelled caller got a result")
	}
	if c.ctx.Err() != nil {
		t.Fatal("the call ended while a caller still waited")
	}
	second, cancelSecond := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelSecond()
	c.Wait(second)
	if err := <-ended; err != context.Canceled {
		t.Errorf("the call ended with %v", err)
	}
	if c.Join() {
		t.Error("joined an abandoned call")
	}
}

func TestUntilDeadlineOutlivesCallersThatRanOutOfTime(t *testing.T) {
	c, ended := block(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	c.Wait(ctx)
	if !c.Join() {
		t.Fatal("a caller that ran out of time ended the call")
	}
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	c.Wait(cancelled)
	if err := <-ended; err != context.Canceled {
		t.Errorf("the call ended with %v", err)
	}
}
