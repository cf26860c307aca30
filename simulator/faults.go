package simulator

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target says which endpoint a Fault applies to.
type Target int

const (
	// TargetAPI is every request other than the token endpoint: the Connectivity API (and any
	// unknown path). It is the zero value.
	TargetAPI Target = iota
	// TargetToken is the XSUAA token endpoint, /oauth/token.
	TargetToken
)

// Fault is a misbehaviour injected into the answers of one endpoint. Faults are queued per tenant
// and target and consumed in order: the oldest pending fault applies to each of the tenant's
// requests to the target as it arrives, before authentication, until its Times are used up.
//
// The parts combine in this order: Delay, then Hang (nothing more happens), then OversizeBytes
// (replaces the whole answer), then Status/Body/ContentType/RetryAfter shape the answer (a fault
// with neither Status nor Body leaves the normal answer, including its authentication checks),
// and Truncate cuts whatever answer results.
type Fault struct {
	// Target is the endpoint; the zero value is TargetAPI.
	Target Target
	// Status answers with this HTTP status (e.g. 401, 429, 500, 503) and, unless Body is set, a
	// small JSON error document: for the token endpoint's 401 the real invalid_client one,
	// otherwise {"error":"service_unavailable","error_description":"Service Unavailable"} and
	// the like. Zero with a Body means 200.
	Status int
	// RetryAfter is sent as the Retry-After header, e.g. "1".
	RetryAfter string
	// Body is sent instead of the normal body (e.g. an HTML error page, "not json", `{"a":1}`).
	Body string
	// ContentType overrides the Content-Type of the answer. When empty, a Body starting with "<"
	// is sent as text/html, any other Body as application/json.
	ContentType string
	// Delay waits before answering; the wait ends early (without an answer) if the client goes
	// away or the server closes.
	Delay time.Duration
	// Hang never answers: the handler waits until the client gives up or the server closes.
	Hang bool
	// Truncate announces the full Content-Length, sends the first half of the body, then drops
	// the connection (HTTP/2: resets the stream). On the token endpoint the token is still issued
	// (it appears in IssuedTokens) but counts as a failure.
	Truncate bool
	// OversizeBytes streams (chunked, without a Content-Length) a syntactically plausible JSON
	// document of about this many bytes without holding it in memory: for the API an array of
	// agents, for the token endpoint a token response with a huge access_token. Streaming stops
	// when the client goes away.
	OversizeBytes int64
	// Times is the number of requests the fault applies to; zero (or negative) means every
	// request until ClearFaults, which also blocks the faults queued after it.
	Times int
}

// InjectFault queues f for its target, for the tenant's requests only.
func (t *Tenant) InjectFault(f Fault) {
	if f.Target != TargetAPI && f.Target != TargetToken {
		panic(fmt.Sprintf("simulator: InjectFault with unknown target %v", f.Target))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults[f.Target] = append(t.faults[f.Target], &f) // its Times count down as it is used
}

// ClearFaults drops every pending fault of the tenant. Requests already delayed or hung by a
// fault are not released (cancel them or Close the server).
func (t *Tenant) ClearFaults() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = [2][]*Fault{}
}

// takeFault consumes one use of the target's oldest pending fault.
func (t *Tenant) takeFault(target Target) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.faults[target]
	if len(q) == 0 {
		return Fault{}, false
	}
	head := q[0]
	if head.Times > 0 {
		head.Times--
		if head.Times == 0 {
			t.faults[target] = q[1:]
		}
	}
	return *head, true
}

// faultReply builds the answer of a fault with a Status or a Body.
func faultReply(f Fault) reply {
	status := cmp.Or(f.Status, http.StatusOK)
	if f.Body == "" {
		if f.Target == TargetToken && status == http.StatusUnauthorized {
			return errorReply(status, "invalid_client", "Bad credentials")
		}
		text := http.StatusText(status)
		code := strings.ReplaceAll(strings.ToLower(text), " ", "_")
		if text == "" {
			text, code = "HTTP "+strconv.Itoa(status), "http_"+strconv.Itoa(status)
		}
		return errorReply(status, code, text)
	}
	ct := "application/json"
	if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
		ct = "text/html; charset=utf-8"
	}
	return reply{status: status, header: http.Header{"Content-Type": {ct}}, body: []byte(f.Body)}
}

// streamOversize writes about f.OversizeBytes of plausible JSON, an element at a time.
func streamOversize(ctx context.Context, w http.ResponseWriter, f Fault) {
	head, unit, tail := []byte(`{"access_token":"`), bytes.Repeat([]byte("QUFB"), 256), []byte(`","token_type":"bearer","expires_in":3600}`)
	if f.Target == TargetAPI {
		agent := encodeJSON(SampleLandscape()[1])
		head, unit, tail = []byte("["), slices.Concat(agent, []byte(",")), slices.Concat(agent, []byte("]"))
	}
	w.Header().Set("Content-Type", cmp.Or(f.ContentType, "application/json"))
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(cmp.Or(f.Status, http.StatusOK))
	_, _ = w.Write(head)
	for n := int64(len(head) + len(tail) + len(unit)); n <= f.OversizeBytes; n += int64(len(unit)) {
		if ctx.Err() != nil {
			abandon()
		}
		if _, err := w.Write(unit); err != nil {
			abandon()
		}
	}
	_, _ = w.Write(tail)
}
