package simulator

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target says which endpoint a Fault applies to.
type Target int

const (
	// TargetAPI is every request but the token endpoint's (the zero value).
	TargetAPI Target = iota
	// TargetToken is the XSUAA token endpoint, TokenPath.
	TargetToken
)

// Fault is a misbehaviour injected into the answers of one endpoint. Faults are queued per tenant
// and target; the oldest pending one applies to each request as it arrives, before authentication,
// until its Times are used up. Its parts apply in this order: Delay, Hang (nothing more happens),
// OversizeBytes (replaces the answer), Status, Body, ContentType and RetryAfter (without Status or
// Body the normal answer is sent), Truncate.
type Fault struct {
	Target Target
	// Status answers with this HTTP status and, unless Body is set, a small JSON error document
	// (for the token endpoint's 401 the real invalid_client one). Zero with a Body means 200.
	Status int
	// RetryAfter is sent as the Retry-After header, e.g. "1".
	RetryAfter string
	// Body replaces the normal body (an HTML error page, "not json", …).
	Body string
	// ContentType overrides the answer's; by default a Body starting with "<" is text/html, any
	// other application/json.
	ContentType string
	// Delay waits before answering; the wait ends early, without an answer, if the client goes
	// away or the server closes.
	Delay time.Duration
	// Hang never answers: the handler waits until the client gives up or the server closes.
	Hang bool
	// Truncate announces the full Content-Length, sends half the body and drops the connection.
	// On the token endpoint the token is still issued (see IssuedTokens).
	Truncate bool
	// OversizeBytes streams, chunked, a plausible JSON document of about this many bytes: an
	// array of agents, or a token response with a huge access_token.
	OversizeBytes int64
	// Times is the number of requests the fault applies to; zero means every request until
	// ClearFaults (blocking the faults queued after it).
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

// ClearFaults drops the tenant's pending faults; requests already delayed or hung stay so.
func (t *Tenant) ClearFaults() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = [2][]*Fault{}
}

// takeFault consumes one use of the target's oldest pending fault, if any.
func (t *Tenant) takeFault(target Target) Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.faults[target]
	if len(q) == 0 {
		return Fault{}
	}
	head := q[0]
	if head.Times > 0 {
		head.Times--
		if head.Times == 0 {
			t.faults[target] = q[1:]
		}
	}
	return *head
}

// faultReply builds the answer of a fault with a Status or a Body.
func faultReply(f Fault) reply {
	status := cmp.Or(f.Status, http.StatusOK)
	if f.Body == "" {
		if f.Target == TargetToken && status == http.StatusUnauthorized {
			return errorReply(status, "invalid_client", "Bad credentials")
		}
		text := cmp.Or(http.StatusText(status), "HTTP "+strconv.Itoa(status))
		return errorReply(status, strings.ReplaceAll(strings.ToLower(text), " ", "_"), text)
	}
	ct := "application/json"
	if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
		ct = "text/html; charset=utf-8"
	}
	return reply{status: status, header: http.Header{"Content-Type": {ct}}, body: []byte(f.Body)}
}

// streamOversize sends rep's status and headers, then about f.OversizeBytes of plausible JSON, an
// element at a time.
func streamOversize(ctx context.Context, w http.ResponseWriter, rep reply, f Fault) {
	head, unit, tail := []byte(`{"access_token":"`), bytes.Repeat([]byte("QUFB"), 256), []byte(`","token_type":"bearer","expires_in":3600}`)
	if f.Target == TargetAPI {
		agent := encodeJSON(SampleLandscape()[1])
		head, unit, tail = []byte("["), slices.Concat(agent, []byte(",")), slices.Concat(agent, []byte("]"))
	}
	maps.Copy(w.Header(), rep.header)
	w.WriteHeader(rep.status)
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
