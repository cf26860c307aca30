// Package simulator is a fake SAP XSUAA and SAP Connectivity service REST API: a real HTTP server
// on 127.0.0.1 (random port) that every test of the project and the server's --demo mode talk
// to instead of SAP. It depends on the standard library only and speaks the wire format; it never
// imports the project's packages, so they cannot agree with it by accident.
//
//	sim, err := simulator.New(simulator.Options{TLS: true})
//	if err != nil { … }
//	defer sim.Close()
//	key := sim.ServiceKeyJSON(simulator.X509Credentials) // the default tenant's service key
//	sub, err := sim.AddTenant(simulator.TenantOptions{Name: "sub-001", Landscape: simulator.CleanLandscape()})
//	// … point clients at the keys, trusting sim.RootCAs() …
//
// # Tenants
//
// One server serves any number of subaccounts (tenants), each with its own client ID, secret,
// X.509 client certificate, tokens, landscape, fault queues and counters. New creates the default
// tenant, whose methods the Server carries (sim.InjectFault is sim.Tenant.InjectFault);
// AddTenant adds more. As with SAP, every tenant uses the same URLs and info path: the token
// endpoint tells tenants apart by the client ID, the API by the bearer token, so a tenant's token
// reads only its own landscape. A request that names no tenant counts for the default tenant.
//
// # Endpoints
//
// POST /oauth/token is XSUAA's client-credentials grant. The client authenticates with
// client_id and client_secret in the form or with HTTP Basic (raw or form-encoded, RFC 6749
// §2.3.1), or, for X.509 bindings, with client_id in the form and the tenant's current client
// certificate as the TLS peer certificate (tls.VerifyClientCertIfGiven with the simulator's own
// CA). Wrong credentials get 401 {"error":"invalid_client","error_description":"Bad credentials"};
// a grant type other than client_credentials 400; other methods 405. Success is
// {"access_token":"<JWT-looking>","token_type":"bearer","expires_in":…,"scope":…,"jti":…}.
//
// GET DefaultInfoPath needs "Authorization: Bearer <token>" with a token the simulator issued
// that is neither expired nor revoked, else 401 with a JSON body and WWW-Authenticate. It answers
// the tenant's landscape as a JSON array (406 if Accept excludes JSON). Other paths get 404.
//
// With Options.TLS the server speaks HTTPS (HTTP/2 too) with a certificate for 127.0.0.1, ::1
// and localhost from a CA generated at start; X.509 client certificates are RSA 2048 with a
// PKCS #1 key, like XSUAA's, issued on first use.
//
// # Bindings, faults and counts
//
// Credentials, ServiceKeyJSON, VCAPServices, WriteKymaBinding and WriteKymaBindingProjected hand
// out bindings in each shape a loader meets; they reflect RotateSecret and RotateCertificate.
// InjectFault queues misbehaviours per tenant and endpoint (see Fault); Options.APILatency and
// TokenLatency slow every answer. Counts are exact under concurrency; IssuedTokens lists the
// tenant's tokens so tests can check none leaks.
//
// # Landscapes
//
// SampleLandscape is the demo landscape: ten agents shaped like SAP's documented example (no
// location attribute); SampleLandscapeWithLocations adds a location_id to nine of them. Each agent
// exercises findings (comments in landscape.go say which): 1 is SAP's reference sample, 2/3 a
// healthy HA pair, 4 high risk on Java 11 with unencrypted protocols, 5 medium risk with an
// unknown rating, 6/7 two masters (in one location in the variant), 8/9 a master whose shadow
// shows no connection, 10 malformed values. CleanLandscape is an HA pair with no findings;
// LargeLandscape builds deterministic landscapes of any size.
package simulator
