// Package sccadmin reads the Cloud Connector's own administration REST API (the "monitoring
// API" on its administration port, 8443 by default): tunnels per subaccount, certificates and
// their expiry, high-availability state, back-end connections and latency, CPU, memory, disk and
// (2.19+) alerts. It reads a connector the way that API must be read: GET only, HTTP Basic on
// every request and no session, a refused login never retried, the role first and the
// monitoring endpoints on the master only, an endpoint a version lacks reported as not
// supported. A connector is reached directly (url) or, from SAP BTP, through its own tunnel via
// the Connectivity proxy (virtual_host, location_id, via: connectivity-proxy).
//
// Config is the --scc-config file; Reader reads connectors with bounded parallelism, a deadline
// per connector and a cache; Health is the typed answer; Join matches each subaccount a
// connector reports to the Connectivity service's view of that subaccount, saying on what
// evidence. The package depends on nothing of ours above binding.
package sccadmin
