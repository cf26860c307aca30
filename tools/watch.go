package tools

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// DefaultWatchInterval is how often subscribed resources are re-read (--watch-interval).
const DefaultWatchInterval = 5 * time.Minute

// watchable are the resources a client can subscribe to.
var watchable = []string{findingsURI, changesURI}

// watcher keeps the resource subscriptions of every session. While at least one session is
// subscribed it re-reads every subaccount each interval and sends notifications/resources/updated
// to the subscribers of findings and of changes when they differ from the last read. Without a
// subscriber nothing polls.
type watcher struct {
	cfg Config

	mu       sync.Mutex
	subs     map[subscriber]map[string]bool // subscribed URIs
	stop     context.CancelFunc             // the poller's, while it runs
	findings [sha256.Size]byte              // digest of the findings at the last poll
	polled   time.Time                      // when the last poll's read was recorded
}

// subscriber is a session that subscribed, and the subscriptions/listen request that did so
// (protocol 2026-07-28; nil for resources/subscribe of earlier versions), whose ID tags the
// notifications of its stream.
type subscriber struct {
	session server.ClientSession
	listen  any
}

// hook registers the watcher's subscription hooks: resources/subscribe and unsubscribe (protocol
// versions up to 2025-11-25), and subscriptions/listen streams (2026-07-28).
func (w *watcher) hook(h *server.Hooks) {
	h.AddAfterSubscribe(func(ctx context.Context, _ any, req *mcp.SubscribeRequest, _ *mcp.EmptyResult) {
		if s := server.ClientSessionFromContext(ctx); s != nil && !w.cfg.Stateless {
			w.set(subscriber{s, nil}, []string{req.Params.URI}, true)
		}
	})
	h.AddAfterUnsubscribe(func(ctx context.Context, _ any, req *mcp.UnsubscribeRequest, _ *mcp.EmptyResult) {
		if s := server.ClientSessionFromContext(ctx); s != nil {
			w.set(subscriber{s, nil}, []string{req.Params.URI}, false)
		}
	})
	h.AddBeforeSubscriptionsListen(func(ctx context.Context, id any, req *mcp.SubscriptionsListenRequest) {
		if s := server.ClientSessionFromContext(ctx); s != nil {
			w.set(subscriber{s, id}, req.Params.Notifications.ResourceSubscriptions, true)
		}
	})
	ended := func(ctx context.Context, id any, method mcp.MCPMethod) {
		if s := server.ClientSessionFromContext(ctx); s != nil && method == mcp.MethodSubscriptionsListen {
			w.set(subscriber{s, id}, nil, false)
		}
	}
	h.AddOnSuccess(func(ctx context.Context, id any, method mcp.MCPMethod, _, _ any) { ended(ctx, id, method) })
	h.AddOnError(func(ctx context.Context, id any, method mcp.MCPMethod, _ any, _ error) { ended(ctx, id, method) })
	h.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		w.mu.Lock()
		for sub := range w.subs {
			if sub.session == s {
				delete(w.subs, sub)
			}
		}
		w.mu.Unlock()
		w.set(subscriber{}, nil, false) // stops the poller when that was the last subscriber
	})
}

// set records subscriptions to uris (nil with on=false: all of them) and starts or stops the
// poller.
func (w *watcher) set(sub subscriber, uris []string, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if sub.session != nil {
		if w.subs[sub] == nil {
			w.subs[sub] = map[string]bool{}
		}
		for _, uri := range uris {
			if on && slices.Contains(watchable, uri) {
				w.subs[sub][uri] = true
			} else if !on {
				delete(w.subs[sub], uri)
			}
		}
		if !on && uris == nil || len(w.subs[sub]) == 0 {
			delete(w.subs, sub)
		}
	}
	subscribed := false
	for _, uris := range w.subs {
		subscribed = subscribed || len(uris) > 0
	}
	switch {
	case subscribed && w.stop == nil:
		ctx, stop := context.WithCancel(context.Background())
		w.stop = stop
		go w.poll(ctx)
	case !subscribed && w.stop != nil:
		w.stop()
		w.stop = nil
	}
}

// interval is --watch-interval, never below the cache TTL.
func (w *watcher) interval() time.Duration {
	return max(cmp.Or(w.cfg.WatchInterval, DefaultWatchInterval), w.cfg.CacheTTL)
}

// pollTask and updatesTopic name the coordination of instances sharing a PostgreSQL history.
const (
	pollTask     = "subscription-poller"
	updatesTopic = "resources_updated"
)

// poll re-reads the landscape every interval until ctx ends. With a history that coordinates
// instances (PostgreSQL), only the instance that leads polls, and it publishes what changed to
// every instance, each of which tells its own subscribers; alone, it tells them directly.
func (w *watcher) poll(ctx context.Context) {
	coord, _ := w.cfg.History.Store().(history.Coordinator)
	if coord != nil {
		go func() {
			for ctx.Err() == nil {
				if err := coord.Listen(ctx, updatesTopic, w.notify); err != nil && ctx.Err() == nil {
					w.cfg.logger().Warn("listening for resource updates of other instances", "error", err)
					time.Sleep(5 * time.Second)
				}
			}
		}()
	}
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	t := time.NewTicker(w.interval())
	defer t.Stop()
	for {
		if coord != nil && release == nil {
			if r, ok, err := coord.TryLead(ctx, pollTask); err != nil {
				w.cfg.logger().Warn("cannot tell which instance polls", "error", err)
			} else if ok {
				release = r
				w.cfg.logger().Info("this instance polls for the subscribed resources")
			}
		}
		if coord == nil || release != nil {
			w.check(ctx, coord)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check reads every subaccount anew (recording the read) and notifies the subscribers of what
// differs: the findings (by fingerprint, severity and acceptance), and changes recorded since
// the last poll.
func (w *watcher) check(ctx context.Context, coord history.Coordinator) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.callTimeout())
	defer cancel()
	started := time.Now()
	r, fresh, err := read(ctx, w.cfg, schemas.Scope{Refresh: true})
	if err != nil {
		w.cfg.logger().Warn("watching the subscribed resources: no subaccount could be read", "error", err)
		return
	}
	var unreachable []assess.Unreachable
	for _, e := range fresh.Errors {
		unreachable = append(unreachable, assess.Unreachable{Subaccount: e.Subaccount, Binding: e.Binding, Reason: e.Error})
	}
	res, err := assess.Run(r.Snapshot, unreachable, w.cfg.policy())
	if err != nil {
		return
	}
	h := sha256.New()
	for _, f := range res.Findings {
		fmt.Fprintf(h, "%s %s %v\n", f.Fingerprint, f.Severity, f.Accepted != nil)
	}
	var digest [sha256.Size]byte
	h.Sum(digest[:0])

	w.mu.Lock()
	first := w.polled.IsZero()
	findingsChanged := !first && digest != w.findings
	since := w.polled
	w.findings, w.polled = digest, started
	w.mu.Unlock()
	if first {
		return
	}
	changed := false
	if store := w.cfg.History.Store(); store != nil {
		if set, err := store.Changes(ctx, history.Query{Since: since, Limit: 1}); err == nil {
			changed = set.Total > 0
		}
	}
	tell := w.notify
	if coord != nil {
		tell = func(uri string) {
			if err := coord.Publish(ctx, updatesTopic, uri); err != nil {
				w.cfg.logger().Warn("publishing a resource update", "uri", uri, "error", err)
			}
		}
	}
	if findingsChanged {
		tell(findingsURI)
	}
	if changed || findingsChanged {
		tell(changesURI)
	}
}

// notify sends notifications/resources/updated for uri to every session subscribed to it, on
// its subscriptions/listen stream when it opened one.
func (w *watcher) notify(uri string) {
	w.mu.Lock()
	var subs []subscriber
	for sub, uris := range w.subs {
		if uris[uri] {
			subs = append(subs, sub)
		}
	}
	w.mu.Unlock()
	for _, sub := range subs {
		n := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
			Method: mcp.MethodNotificationResourceUpdated,
			Params: mcp.NotificationParams{AdditionalFields: map[string]any{"uri": uri}},
		}}
		if sub.listen != nil {
			n.Params.Meta = map[string]any{mcp.MetaKeySubscriptionID: sub.listen}
		}
		if s, ok := sub.session.(server.SessionWithStreamableHTTPConfig); ok {
			s.UpgradeToSSEWhenReceiveNotification()
		}
		select {
		case sub.session.NotificationChannel() <- n:
		default:
			w.cfg.logger().Debug("resource update dropped: the session's notification channel is full", "session", sub.session.SessionID(), "uri", uri)
		}
	}
}
