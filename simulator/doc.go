// Package simulator is a fake SAP XSUAA and SAP Connectivity service REST API: a real HTTP server
// on 127.0.0.1 (random port) that every test of the project and the server's --demo mode talk to
// instead of SAP. It uses the standard library only and never imports the project's packages, so
// they cannot agree with it by accident.
//
//	sim, err := simulator.New(simulator.Options{TLS: true})
//	if err != nil { … }
//	defer sim.Close()
//	key := sim.ServiceKeyJSON(simulator.X509Credentials) // the default tenant's service key
//	sub, err := sim.AddTenant(simulator.TenantOptions{Name: "sub-001", Landscape: simulator.CleanLandscape()})
//
// One server serves any number of subaccounts (tenants), each with its own credentials, tokens,
// landscape, faults and counters; New creates the default tenant, whose methods the Server carries.
// As with SAP, every tenant uses the same URLs: the token endpoint (POST TokenPath, client
// credentials by form, HTTP Basic or X.509 client certificate) tells tenants apart by client ID,
// the API (GET DefaultInfoPath) by bearer token. A request that names no tenant counts for the
// default tenant. Errors are answered with the status and JSON error document SAP sends.
//
// Credentials, ServiceKeyJSON, VCAPServices, WriteKymaBinding and WriteKymaBindingProjected hand
// out bindings in each shape a loader meets. InjectFault queues misbehaviours per tenant and
// endpoint; Options.APILatency and TokenLatency slow every answer.
//
// SampleLandscape is the demo landscape: ten agents shaped like SAP's documented example, each
// exercising findings (comments in landscape.go say which). CleanLandscape has no findings;
// LargeLandscape builds deterministic landscapes of any size.
package simulator
