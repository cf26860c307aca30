package connectivity_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// events records what a Client tells Options.Observe.
type events struct {
	mu   sync.Mutex
	seen []connectivity.Event
}

func (e *events) observe(ev connectivity.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, ev)
}

func (e *events) take() []connectivity.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.seen
	e.seen = nil
	return out
}

func TestObserve(t *testing.T) {
	t.Parallel()
	rec := &events{}
	sim, c := newSim(t, simulator.Options{}, simulator.SecretCredentials, connectivity.Options{Observe: rec.observe, RetryBudget: time.Second})
	label := c.Binding().Label()
	ev := func(kind connectivity.EventKind, service connectivity.Service, status int) connectivity.Event {
		return connectivity.Event{Kind: kind, Service: service, Status: status, Subaccount: label}
	}
	for _, tc := range []struct {
		name    string
		fault   *simulator.Fault
		refresh bool
		want    []connectivity.Event
	}{
		{"first read: a token and a request", nil, false, []connectivity.Event{
			ev(connectivity.EventTokenFetch, connectivity.ServiceXSUAA, http.StatusOK),
			ev(connectivity.EventRequest, connectivity.ServiceConnectivity, http.StatusOK)}},
		{"refused read", &simulator.Fault{Target: simulator.TargetAPI, Status: http.StatusForbidden}, true, []connectivity.Event{
			ev(connectivity.EventRequest, connectivity.ServiceConnectivity, http.StatusForbidden)}},
		{"refused token", &simulator.Fault{Target: simulator.TargetToken, Status: http.StatusUnauthorized}, true, []connectivity.Event{
			ev(connectivity.EventTokenFetch, connectivity.ServiceXSUAA, http.StatusUnauthorized)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				sim.InjectFault(*tc.fault)
				defer sim.ClearFaults()
			}
			if tc.fault != nil && tc.fault.Target == simulator.TargetToken {
				// Drop the cached token, so that the read asks XSUAA.
				if err := c.SetBinding(c.Binding()); err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.CloudConnectors(context.Background())
			if (err != nil) != (tc.fault != nil) {
				t.Fatalf("Snapshot: %v", err)
			}
			got := rec.take()
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("events %+v lack %+v", got, w)
				}
			}
		})
	}
}
