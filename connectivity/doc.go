// Package connectivity reads one subaccount's Cloud Connector information from the SAP BTP
// Connectivity service REST API: it gets and caches the XSUAA token of a binding (client secret
// or X.509), calls the Cloud Connector info endpoint with bounded retries and a capped body,
// decodes the answer into a typed model (Connector, SecurityStatus, ExposedSystem) that keeps
// every connector and records what it could not read as per-attribute Problems; a Snapshot holds
// the connectors of one or more subaccounts at one moment.
//
// It holds data only: it knows nothing of MCP, and ratings, labels and advice live in package
// assess.
package connectivity
