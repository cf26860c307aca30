package simulator

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
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

// String returns "api" or "token".
func (t Target) String() string {
	switch t {
	case TargetAPI:
		return "api"
	case TargetToken:
		return "token"
	}
	return "Target(" + strconv.Itoa(int(t)) + ")"
}

// Fault is a misbehaviour injected into the answers of one endpoint. Faults are queued per target
// and consumed in order: the oldest pending fault of the target applies to each request as it
// arrives, before authentication, until its Times are used up.
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

type queuedFault struct {
	Fault
	remaining int // 0 = forever
}

// InjectFault queues f for its target.
func (s *Server) InjectFault(f Fault) {
	if f.Target != TargetAPI && f.Target != TargetToken {
		panic(fmt.Sprintf("simulator: InjectFault with unknown target %v", f.Target))
	}
	q := &queuedFault{Fault: f, remaining: max(f.Times, 0)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[f.Target] = append(s.faults[f.Target], q)
}

// ClearFaults drops every pending fault of both targets. Requests already delayed or hung by a
// fault are not released (cancel them or Close the server).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFault consumes one use of the target's oldest pending fault.
func (s *Server) takeFault(t Target) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[t]
	if len(q) == 0 {
		return Fault{}, false
	}
	head := q[0]
	if head.remaining > 0 {
		head.remaining--
		if head.remaining == 0 {
			s.faults[t] = q[1:]
		}
	}
	return head.Fault, true
}

// faultReply builds the answer of a fault with a Status or a Body.
func faultReply(f Fault, t Target) reply {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.Body == "" {
		if t == TargetToken && status == http.StatusUnauthorized {
			return errorReply(status, "invalid_client", "Bad credentials")
		}
		text := http.StatusText(status)
		code := strings.ReplaceAll(strings.ToLower(text), " ", "_")
		if text == "" {
			text, code = "HTTP "+strconv.Itoa(status), "http_"+strconv.Itoa(status)
		}
		return errorReply(status, code, text)
	}
	h := http.Header{}
	if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
		h.Set("Content-Type", "text/html; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/json")
	}
	return reply{status: status, header: h, body: []byte(f.Body)}
}

// streamOversize writes about f.OversizeBytes of plausible JSON, a chunk at a time.
func (s *Server) streamOversize(ctx context.Context, w http.ResponseWriter, f Fault, t Target) {
	const chunkSize = 64 << 10
	var head, unit, tail []byte
	if t == TargetToken {
		head = []byte(`{"access_token":"`)
		unit = bytes.Repeat([]byte("QUFB"), 256) // base64url-looking filler
		tail = []byte(`","token_type":"bearer","expires_in":3600}`)
	} else {
		element := encodeLandscape(SampleLandscape()[1:2])
		element = element[1 : len(element)-1] // one agent object, without the array brackets
		head = []byte("[")
		unit = append(append([]byte{}, element...), ',')
		tail = append(append([]byte{}, element...), ']')
	}
	chunk := bytes.Repeat(unit, max(1, chunkSize/len(unit)))

	h := w.Header()
	h.Set("Content-Type", "application/json")
	if f.ContentType != "" {
		h.Set("Content-Type", f.ContentType)
	}
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)

	if _, err := w.Write(head); err != nil {
		return
	}
	written := int64(len(head))
	for written+int64(len(chunk)+len(tail)) <= f.OversizeBytes {
		select {
		case <-ctx.Done():
			abandon()
		case <-s.done:
			abandon()
		default:
		}
		if _, err := w.Write(chunk); err != nil {
			abandon()
		}
		written += int64(len(chunk))
	}
	for written+int64(len(unit)+len(tail)) <= f.OversizeBytes {
		if _, err := w.Write(unit); err != nil {
			return
		}
		written += int64(len(unit))
	}
	_, _ = w.Write(tail)
}
