package observe

import (
	"context"
	"sync"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Subaccount is one bound subaccount: a usable binding with its client and sources, or a binding
// that was broken at start. Its name is its binding's (unique); its label its subdomain, else its
// ID. A question names one of them or asks about all.
type Subaccount struct {
	name    string
	client  *connectivity.Client // nil when broken
	sources []Source
	broken  *binding.Error

	mu           sync.Mutex
	asking       *asking // the read questions started, while it runs
	latest       *Observation
	failures     int         // reads failed in a row
	failingSince time.Time   // the first of them
	retry        func() bool // stops the background re-read, while backing off
}

// asking is the read questions started: its context has no caller's cancellation (others may
// come to share the read) and ends when the last of them gives up, so nothing runs for nobody.
type asking struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int
}

// Name is the binding's name: unique among the subaccounts.
func (s *Subaccount) Name() string { return s.name }

// Binding returns the subaccount's current binding, or nil when it was broken at start.
func (s *Subaccount) Binding() *binding.Binding {
	if s.client == nil {
		return nil
	}
	return s.client.Binding()
}

// Label is what answers call the subaccount: its subdomain, else its ID, else the binding name.
func (s *Subaccount) Label() string {
	if b := s.Binding(); b != nil {
		return b.Label()
	}
	return s.name
}

// Identity names the subaccount across restarts, for its history: the subaccount ID when the
// binding has one, else the binding's name.
func (s *Subaccount) Identity() string {
	if b := s.Binding(); b != nil && b.SubaccountID != "" {
		return b.SubaccountID
	}
	return s.name
}

// Broken is the reason the binding could not be used at start, or nil.
func (s *Subaccount) Broken() *binding.Error { return s.broken }

// Latest is the subaccount's latest observation, nil before its first read.
func (s *Subaccount) Latest() *Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

// FailingSince tells since when the subaccount's reads fail, and whether only the latest did.
// A subaccount that has not failed yet (this question gave up waiting) fails since now.
func (s *Subaccount) FailingSince() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == 0 {
		return time.Now(), true
	}
	return s.failingSince, s.failures == 1
}
