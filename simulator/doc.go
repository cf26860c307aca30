// Package simulator is a fake SAP XSUAA and SAP Connectivity service REST API: a real HTTP server
// on 127.0.0.1 (random port) that every test of the project and the server's --demo mode talk
// to instead of SAP. It depends on the standard library only and speaks the wire format; it never
// imports the project's connectivity package, so the two cannot agree with each other by accident.
//
//	sim, err := simulator.New(simulator.Options{TLS: true})
//	if err != nil { … }
//	defer sim.Close()
//	key := sim.ServiceKeyJSON(simulator.X509Credentials) // a service key pointing at sim
//	// … point the client at key, trusting sim.RootCAs() …
//
// # Endpoints
//
// POST /oauth/token is XSUAA's client-credentials grant. The client authenticates with
// client_id and client_secret in the form or with HTTP Basic (raw or form-encoded, RFC 6749
// §2.3.1), or, for X.509 bindings, with client_id in the form, no secret, and the current client
// certificate issued by the simulator as the TLS peer certificate (the TLS server uses
// tls.VerifyClientCertIfGiven with its own CA, so a Go client holding a certificate from another CA
// sends none and gets a 401). Wrong or missing credentials get 401
// {"error":"invalid_client","error_description":"Bad credentials"}; a grant type other than
// client_credentials gets 400 unsupported_grant_type (missing: 400 invalid_request); other methods
// 405. Success is {"access_token":"<JWT-looking>","token_type":"bearer","expires_in":<seconds>,
// "scope":"uaa.resource","jti":"…"} with Content-Type "application/json;charset=UTF-8".
//
// GET <InfoPath> (the binding's connectivity_service.scc_info_path, default
// /api/v1/cloudconnectors) needs "Authorization: Bearer <token>" with a token the simulator
// issued that is neither expired nor revoked, else 401 with a small JSON body and a
// WWW-Authenticate header. It answers the landscape as a JSON array, Content-Type
// application/json (406 if an Accept header excludes JSON). Other paths get 404, other methods 405.
//
// With Options.TLS the server speaks HTTPS with a certificate for 127.0.0.1, ::1 and localhost
// signed by a CA generated at start (ECDSA P-256); RootCAs and CACertificatePEM give that CA.
// X.509 client certificates are RSA 2048 with a PKCS #1 key, like XSUAA's, and are issued on
// first use.
//
// # Bindings
//
// Credentials, ServiceKeyJSON, VCAPServices, WriteKymaBinding and WriteKymaBindingProjected hand
// out the binding in each of the shapes a loader meets (see the facts sheet, §1). All URLs in
// them (token_service_url, url, certurl, connectivity_service.url) are the server's URL. They
// reflect RotateSecret and RotateCertificate, so calling them again yields the rotated binding.
//
// # Faults, counts and tokens
//
// InjectFault queues misbehaviours per endpoint (error statuses, Retry-After, replaced bodies,
// delays, hangs, truncated bodies, oversized bodies); see Fault. Hangs and delays end as soon as
// the client goes away or Close is called. Counts are atomic counters incremented when a request
// arrives, so they are exact under concurrency. IssuedTokens lists every access token handed out,
// so tests can check none leaks; RevokeTokens, RotateSecret and RotateCertificate invalidate
// credentials the way a rotation in SAP BTP would.
//
// # The sample landscape
//
// SampleLandscape is the demo landscape: ten agents shaped like SAP's documented example, with no
// location attribute. SampleLandscapeWithLocations is the same with a location_id attribute (which
// SAP does not document) on nine of them, in the seven locations of the table below; the
// assessment's rules are tested on both. Timestamps are fixed, in November 2026, except the
// reference agent's, which are SAP's (November 2025).
//
//	#  client_id  location*  role    version  Java     what it is there to exercise (* only in the WithLocations variant)
//	1  123456789  (none)     master  2.18.0   17.0.14  SAP's reference sample, verbatim; no location_id attribute (default
//	                                                   location); a master without a shadow; low_risk checks; plain HTTP to a nonSAPsys
//	2  284610375  fra-prod   master  2.18.2   21.0.5   healthy HA pair with 3: all checks ok; HTTPS, RFCS, TCPS; abapSys, netweaverGW, hana
//	3  284610376  fra-prod   shadow  2.18.2   21.0.5   the shadow of 2; reports the same exposed systems as its master
//	4  517203948  ham-plant  master  2.15.0   11.0.22  high risk: summary, trust_store and payload_trace high_risk, cpic_trace medium_risk;
//	                                                   oldest version and Java 11; unencrypted HTTP, RFC, LDAP, TCP; BC and PI backends; no shadow
//	5  630174285  sgp-dc     master  2.16.0   17.0.14  medium risk (summary and ciphers medium_risk); authentication_type "not_evaluated"
//	                                                   (an unknown rating); LDAPS; applServerJava, netweaverCE, otherSAPsys; no shadow
//	6  745019362  us-east    master  2.18.2   21.0.5   with locations: double master with 7 (connected since 20 Nov); without: a second location
//	7  745019363  us-east    master  2.18.2   21.0.5   the other master (connected since 24 Nov); one system with status "disabled" (an unknown status)
//	8  856302417  muc-hr     master  2.17.1   17.0.14  a connected master whose shadow does not look connected
//	9  856302418  muc-hr     shadow  2.17.1   17.0.14  the not-connected shadow: connected_since is "" and agent_recent_start_ms is absent;
//	                                                   exposed_systems "[]"
//	10 961847203  lab        master  2.17.1   21.0.5   malformed: security_status and exposed_systems are cut-off JSON, connected_since
//	                                                   is "yesterday"; an unknown attribute scc_build_id; no shadow
//
// Between them the agents expose every protocol (HTTP, HTTPS, RFC, RFCS, LDAP, LDAPS, TCP, TCPS)
// and every backend type (abapSys, netweaverCE, netweaverGW, applServerJava, BC, PI, hana,
// otherSAPsys, nonSAPsys). "Not connected" for the shadow (agent 9) is expressed the only ways the
// documented attributes allow: an empty connected_since and no agent_recent_start_ms; the API
// has no explicit connection-state attribute.
//
// CleanLandscape is an HA pair (CleanLandscapeWithLocations: in location eu-central) with no findings:
// every check ok, version 2.18.2 on Java 21, only HTTPS, RFCS, LDAPS and TCPS exposed.
// LargeLandscape (and LargeLandscapeWithLocations) build deterministic landscapes of any size.
package simulator
