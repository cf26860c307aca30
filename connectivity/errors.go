package connectivity

import (
	"errors"
	"fmt"
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
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// ErrResponseTooLarge is returned when a response body exceeds the configured cap.
var ErrResponseTooLarge = errors.New("response body too large")
