package tools

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// DefaultWatchInterval is how often subscribed resources are re-read (--watch-interval).
const DefaultWatchInterval = 5 * time.Minute

// watcher keeps the resource subscriptions of every session. It listens to the pipeline's new
// observations and tells each subscriber when the findings differ from what it could last have
// seen (the findings at the moment it subscribed, then at its last notification), and when
// history recorded changes. While at least one session is subscribed it asks the pipeline to read
// every subaccount each interval; without a subscriber nothing polls. It stops when
// Config.Context ends.
type watcher struct {
	cfg  Config
	wake chan struct{} // a new observation was published (offered by the pipeline, never blocking)

	mu    sync.Mutex
	subs  map[subscriber]*subscription
	stop  context.CancelFunc // the poller's, while it runs
	since time.Time          // changes in history are looked for since then
	last  [sha256.Size]byte  // digest the coordinated instances were last told of
}

// subscription is what a subscriber is subscribed to, and the digest of the findings it could
// last have seen (known is false until there was an observation to see).
type subscription struct {
	uris  map[string]bool
	seen  [sha256.Size]byte
	known bool
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
	h.AddOnRequestInitialization(refuseUnwatched)
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
		maps.DeleteFunc(w.subs, func(sub subscriber, _ *subscription) bool { return sub.session == s })
		w.mu.Unlock()
		w.set(subscriber{}, nil, false) // stops the poller when that was the last subscriber
	})
}

// refuseUnwatched refuses a subscription to a resource that is never notified: only the findings
// and the changes are watched, and a subscription accepted and then left silent would mislead.
func refuseUnwatched(_ context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok || !bytes.Contains(raw, []byte(mcp.MethodResourcesSubscribe)) && !bytes.Contains(raw, []byte(mcp.MethodSubscriptionsListen)) {
		return nil
	}
	var req struct {
		Method mcp.MCPMethod `json:"method"`
		Params struct {
			URI           string `json:"uri"`
			Notifications struct {
				ResourceSubscriptions []string `json:"resourceSubscriptions"`
			} `json:"notifications"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &req) != nil {
		return nil // mcp-go answers what it cannot parse
	}
	uris := req.Params.Notifications.ResourceSubscriptions
	if req.Method == mcp.MethodResourcesSubscribe && req.Params.URI != "" {
		uris = []string{req.Params.URI}
	} else if req.Method != mcp.MethodSubscriptionsListen {
		return nil
	}
	for _, uri := range uris {
		if uri != findingsURI && uri != changesURI {
			return fmt.Errorf("%q is never notified of changes, so it cannot be subscribed to: subscribe to %s (the findings) or %s (what changed)", uri, findingsURI, changesURI)
		}
	}
	return nil
}

// set records subscriptions to uris (nil with on=false: all of them) and starts or stops the
// poller. A new subscription's baseline is the findings of the observations current now.
func (w *watcher) set(sub subscriber, uris []string, on bool) {
	var digest [sha256.Size]byte
	known := false
	if on {
		digest, known = w.digest()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if sub.session != nil {
		s := w.subs[sub]
		if s == nil {
			s = &subscription{uris: map[string]bool{}, seen: digest, known: known}
			w.subs[sub] = s
		}
		for _, uri := range uris {
			if on && (uri == findingsURI || uri == changesURI) { // the resources one can subscribe to
				s.uris[uri] = true
			} else if !on {
				delete(s.uris, uri)
			}
		}
		if !on && uris == nil || len(s.uris) == 0 {
			delete(w.subs, sub)
		}
	}
	switch {
	case len(w.subs) > 0 && w.stop == nil:
		ctx, stop := context.WithCancel(cmp.Or(w.cfg.Context, context.Background()))
		w.stop, w.since = stop, time.Now()
		offer(w.cfg.watchEvents, "start")
		go w.poll(ctx)
	case len(w.subs) == 0 && w.stop != nil:
		w.stop()
		w.stop = nil
	}
}

// offer sends v on ch unless that would block, and says whether it did.
func offer[T any](ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	default:
		return false
	}
}

// digest sums the findings of the current observations (by fingerprint, severity and
// acceptance), without reading; known is false when no subaccount was observed yet.
func (w *watcher) digest() (digest [sha256.Size]byte, known bool) {
	v := w.cfg.Observations.Current(w.cfg.Observations.Subaccounts())
	for _, p := range v.Parts {
		known = known || (p.Obs != nil && p.Sub.Broken() == nil)
	}
	h := sha256.New()
	for _, f := range v.Assessment().Findings {
		fmt.Fprintf(h, "%s %s %v\n", f.Fingerprint, f.Severity, f.Accepted != nil)
	}
	h.Sum(digest[:0])
	return digest, known
}

// pollTask and updatesTopic name the coordination of instances sharing a PostgreSQL history.
const (
	pollTask     = "subscription-poller"
	updatesTopic = "resources_updated"
)

// poll asks for a read of every subaccount each interval, and compares every new observation
// with what the subscribers saw, until ctx ends. With a history that coordinates instances
// (PostgreSQL), only the instance that leads polls, and it publishes what changed to every
// instance, each of which tells its own subscribers; alone, it tells them directly.
func (w *watcher) poll(ctx context.Context) {
	defer offer(w.cfg.watchEvents, "stop")
	coord, _ := w.cfg.History.Store().(history.Coordinator)
	if coord != nil {
		go func() {
			for ctx.Err() == nil {
				if err := coord.Listen(ctx, updatesTopic, w.notifyAll); err != nil && ctx.Err() == nil {
					w.cfg.logger().Warn("listening for resource updates of other instances", "error", err)
					select {
					case <-ctx.Done():
					case <-time.After(5 * time.Second):
					}
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
	t := time.NewTicker(max(cmp.Or(w.cfg.WatchInterval, DefaultWatchInterval), w.cfg.Observations.Interval())) // not below the cache TTL
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			if coord == nil || release != nil {
				w.check(ctx, coord)
			}
			continue
		case <-t.C:
		}
		if coord != nil && release == nil {
			if r, ok, err := coord.TryLead(ctx, pollTask); err != nil {
				w.cfg.logger().Warn("cannot tell which instance polls", "error", err)
			} else if ok {
				release = r
				w.cfg.logger().Info("this instance polls for the subscribed resources")
			}
		}
		if coord == nil || release != nil {
			_, _, _ = read(ctx, w.cfg, schemas.Scope{Refresh: true}) // publishes: wakes us
			// Compare this read before the next tick can start another: on a busy machine the
			// ticker is always ready too, and two reads compared at once would tell one change.
			select {
			case <-w.wake:
				w.check(ctx, coord)
			default:
			}
		}
	}
}

// check compares the current findings with what each subscriber last saw, looks for changes
// history recorded since the last check, and tells the subscribers (or, coordinated, every
// instance) what differs.
func (w *watcher) check(ctx context.Context, coord history.Coordinator) {
	digest, known := w.digest()
	changed := false
	if store := w.cfg.History.Store(); store != nil {
		ctx, cancel := context.WithTimeout(ctx, w.cfg.callTimeout())
		w.cfg.History.Flush(ctx)
		w.mu.Lock()
		since := w.since
		w.since = time.Now()
		w.mu.Unlock()
		if set, err := store.Changes(ctx, history.Query{Since: since, Limit: 1}); err == nil {
			changed = set.Total > 0
		}
		cancel()
	}
	type note struct {
		sub subscriber
		uri string
	}
	var notes []note
	w.mu.Lock()
	findingsChanged := known && digest != w.last
	w.last = digest
	for sub, s := range w.subs {
		moved := known && s.known && digest != s.seen
		if moved && s.uris[findingsURI] {
			notes = append(notes, note{sub, findingsURI})
		}
		if (moved || changed) && s.uris[changesURI] {
			notes = append(notes, note{sub, changesURI})
		}
		if known {
			s.seen, s.known = digest, true
		}
	}
	w.mu.Unlock()
	if coord != nil {
		for _, uri := range []string{findingsURI, changesURI} {
			if uri == findingsURI && !findingsChanged || uri == changesURI && !findingsChanged && !changed {
				continue
			}
			if err := coord.Publish(ctx, updatesTopic, uri); err != nil {
				w.cfg.logger().Warn("publishing a resource update", "uri", uri, "error", err)
			}
		}
		return
	}
	for _, n := range notes {
		w.send(n.sub, n.uri)
	}
}

// notifyAll tells every session subscribed to uri (an update published by the polling instance).
func (w *watcher) notifyAll(uri string) {
	w.mu.Lock()
	var subs []subscriber
	for sub, s := range w.subs {
		if s.uris[uri] {
			subs = append(subs, sub)
		}
	}
	w.mu.Unlock()
	for _, sub := range subs {
		w.send(sub, uri)
	}
}

// send sends notifications/resources/updated for uri to a subscriber, on its
// subscriptions/listen stream when it opened one.
func (w *watcher) send(sub subscriber, uri string) {
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
	if !offer(sub.session.NotificationChannel(), n) {
		w.cfg.logger().Debug("resource update dropped: the session's notification channel is full", "session", sub.session.SessionID(), "uri", uri)
	}
}
