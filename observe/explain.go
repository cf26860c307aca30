package observe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Explain turns the failure of a read into a sentence that says what happened and what to do;
// timeout is the limit that ran out, when one did. It is the one place failures become words. It
// never adds secrets: the errors it wraps carry none.
func Explain(err error, timeout time.Duration) string {
	var authErr *connectivity.AuthError
	var apiErr *connectivity.APIError
	var bindErr *binding.Error
	var reqErr *connectivity.RequestError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError // crypto/x509's reason in Err
	// A failed request names its service; a call whose deadline ended while it waited for a read
	// shared with other calls knows neither.
	who, reach := "the Connectivity service or XSUAA", "the binding's connectivity_service.url and token URL"
	if errors.As(err, &reqErr) {
		switch reqErr.Service {
		case connectivity.ServiceXSUAA:
			who, reach = "XSUAA (the token service)", "the binding's token URL"
		case connectivity.ServiceConnectivity:
			who, reach = "the Connectivity service", "the binding's connectivity_service.url"
		}
	}
	switch {
	case errors.As(err, &authErr) && (authErr.Status == http.StatusTooManyRequests || authErr.Status >= 500):
		return fmt.Sprintf("XSUAA (the token service) is unavailable (HTTP %d %s). Try again in a few minutes", authErr.Status, http.StatusText(authErr.Status))
	case errors.As(err, &authErr):
		return fmt.Sprintf("%s. Check the binding's clientid and clientsecret (or its X.509 certificate and key): a deleted, rotated or expired service key must be exported again", sentence(authErr.Error()))
	case errors.As(err, &bindErr):
		return fmt.Sprintf("the service binding is not usable: %v", err)
	case errors.As(err, &apiErr):
		return explainStatus(apiErr)
	case errors.As(err, &certErr):
		return fmt.Sprintf("the TLS certificate of %s is not trusted (%v). Certificate verification is always on: if a proxy inspects TLS traffic, add its CA certificate to this machine's trust store (or name it in SSL_CERT_FILE)", who, certErr.Err)
	case errors.Is(err, connectivity.ErrRequestTimeout):
		// One request's own limit, shorter than the call's deadline.
		return fmt.Sprintf("%s did not answer in time (timed out). Try again; if it keeps happening, check that this machine reaches %s", who, reach)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("%s did not answer within %s (timed out). Try again; if it keeps happening, check that this machine reaches %s", who, timeout, reach)
	case errors.Is(err, context.Canceled):
		return "the request was cancelled"
	case errors.Is(err, connectivity.ErrResponseTooLarge):
		return fmt.Sprintf("%s. The landscape is larger than this server accepts; report this with the number of Cloud Connectors in the subaccount", sentence(err.Error()))
	case errors.Is(err, connectivity.ErrMalformedResponse):
		return fmt.Sprintf("the Connectivity service sent an answer that is not the expected list of Cloud Connectors (%v). A proxy or gateway error page is the usual cause: try again later", err)
	case reqErr != nil && reqErr.Service == connectivity.ServiceXSUAA:
		return fmt.Sprintf("could not get a token from XSUAA: %s. Check that this machine reaches the binding's token URL", sentence(reqErr.Err.Error()))
	}
	return fmt.Sprintf("reading Cloud Connector information failed: %v", err)
}

func explainStatus(e *connectivity.APIError) string {
	status := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Attempts > 1 {
		status += fmt.Sprintf(", %d attempts", e.Attempts)
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		return fmt.Sprintf("the Connectivity service rejected the access token even after a new one was fetched (%s). The binding's instance may have been deleted, or it is not of plan api_access", status)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("the Connectivity service denied access (%s): the binding may not read Cloud Connector information. Use a binding of a Connectivity instance with plan api_access", status)
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("the Connectivity service does not know the Cloud Connector info path (%s). Check connectivity_service.url and scc_info_path in the binding", status)
	case e.Status == http.StatusTooManyRequests:
		msg := fmt.Sprintf("the Connectivity service is rate-limiting requests (%s)", status)
		if e.RetryAfter > 0 {
			msg += fmt.Sprintf("; it asks to wait %s", e.RetryAfter.Round(time.Second))
		}
		return msg + ". Ask again later; answers are cached, so repeated questions do not add load"
	case e.Status >= 500:
		return fmt.Sprintf("the Connectivity service is unavailable (%s). Try again in a few minutes", status)
	}
	return fmt.Sprintf("the Connectivity service answered %s", status)
}

// sentence trims a trailing period, so a message can be continued.
func sentence(s string) string { return strings.TrimSuffix(s, ".") }
