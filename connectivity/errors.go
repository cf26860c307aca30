package connectivity

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// AuthError reports that XSUAA refused to issue a token. It never carries the client secret, the
// private key or any token.
type AuthError struct {
	Status      int    // HTTP status of the token endpoint, 0 when unknown
	Code        string // OAuth error code, e.g. "invalid_client"
	Description string // OAuth error_description, e.g. "Bad credentials"
}

func (e *AuthError) Error() string {
	msg := "authentication with XSUAA failed"
	switch {
	case e.Code != "" && e.Description != "":
		msg += fmt.Sprintf(": %s (%s)", e.Code, e.Description)
	case e.Code != "":
		msg += ": " + e.Code
	case e.Status != 0:
		msg += fmt.Sprintf(": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return msg
}

// APIError reports an unsuccessful HTTP status from the Connectivity service.
type APIError struct {
	Status     int
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
	Attempts   int           // how many requests were made before giving up
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("the Connectivity service answered HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf("; it asks to retry after %s", e.RetryAfter.Round(time.Second))
	}
	return msg
}

// Temporary reports whether retrying the request later may succeed.
func (e *APIError) Temporary() bool { return temporary(e.Status) }

// temporary reports whether an HTTP status is worth another attempt later: 429 or 5xx.
func temporary(status int) bool { return status == http.StatusTooManyRequests || status >= 500 }

// ErrResponseTooLarge is returned when a response body exceeds the configured cap.
var ErrResponseTooLarge = errors.New("response body too large")

// Service names the endpoint a request went to.
type Service string

// The two services a Client talks to.
const (
	ServiceXSUAA        Service = "XSUAA"
	ServiceConnectivity Service = "the Connectivity service"
)

// RequestError is a request that got no usable answer (a network failure, a timeout, an
// untrusted certificate, a body that broke off) and names the service it went to, so callers can
// say which side failed without reading error text.
type RequestError struct {
	Service Service
	Op      string // what was being done, e.g. "requesting a token from XSUAA"
	Err     error
}

func (e *RequestError) Error() string { return e.Op + ": " + e.Err.Error() }

func (e *RequestError) Unwrap() error { return e.Err }

// ErrRequestTimeout marks a request that hit its own limit (Options.RequestTimeout) while the
// caller's context was still alive, as opposed to the caller's deadline ending.
var ErrRequestTimeout = errors.New("request timed out")

// newRequestError wraps err from a request to service, marking a timeout that was the request's
// own (ctx still alive) with ErrRequestTimeout.
func newRequestError(ctx context.Context, service Service, op string, err error) *RequestError {
	var netErr net.Error
	if ctx.Err() == nil && errors.As(err, &netErr) && netErr.Timeout() {
		err = fmt.Errorf("%w: %w", ErrRequestTimeout, err)
	}
	return &RequestError{Service: service, Op: op, Err: err}
}
