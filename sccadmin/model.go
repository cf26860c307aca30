package sccadmin

import "time"

// Health is what one read of a connector's administration API found. A read that could not
// reach the connector, or whose credentials were refused, has Failure set and little else;
// everything else is partial at worst: an endpoint the version lacks is listed in Unsupported,
// one that failed in Problems, and the rest is still there.
type Health struct {
	Name     string    // the configured name
	Endpoint string    // where it was read (Entry.Endpoint)
	User     string    // the configured user (monitoring with Administrator is a finding)
	ReadAt   time.Time // when the read started

	Failure *Failure // nil when the connector answered with data

	Version string // "2.19.0.2"; "" when the connector is older than 2.14 or did not say
	Role    string // RoleMaster or RoleShadow; "" when unknown
	HA      *HAState

	Subaccounts  []Subaccount
	Certificates []Certificate
	Backends     []BackendConnection
	Performance  []BackendPerformance
	CPU          *CPU
	Memory       *Memory
	Disk         *Disk
	Alerts       []Alert

	// Unsupported lists the endpoints this version does not have (answered 400 or 404, or older
	// than the version that brought them), by name ("alerts", "cpu", …).
	Unsupported []string
	// Problems lists endpoints that answered but could not be used, and values that could not be
	// decoded, each a sentence.
	Problems []Problem
}

// Reachable reports whether the connector answered with data.
func (h *Health) Reachable() bool { return h != nil && h.Failure == nil }

// Supported reports whether the read found endpoint name available (not in Unsupported).
func (h *Health) Supported(name string) bool {
	for _, u := range h.Unsupported {
		if u == name {
			return false
		}
	}
	return true
}

// The roles a connector reports.
const (
	RoleMaster = "master"
	RoleShadow = "shadow"
)

// FailureKind says why a connector could not be read.
type FailureKind string

// The failure kinds.
const (
	// FailureUnreachable: no answer (DNS, connection refused, TLS, timeout, the proxy refused).
	FailureUnreachable FailureKind = "unreachable"
	// FailureCredentials: 401 or 403, or a 200 with an HTML login page. Never retried.
	FailureCredentials FailureKind = "credentials_refused"
	// FailureAnswer: the connector answered, but not with anything usable (5xx on the role, a body over the cap).
	FailureAnswer FailureKind = "bad_answer"
	// FailureConfig: the entry cannot be used now (password file unreadable, no proxy configured).
	FailureConfig FailureKind = "config"
)

// Failure says why a connector could not be read, and what to check. It holds no secret.
type Failure struct {
	Kind    FailureKind
	Status  int    // the HTTP status, when one came
	Path    string // the request that failed
	Message string // a sentence: what happened and what to check
}

func (f *Failure) Error() string { return f.Message }

// Problem is an endpoint or value that could not be used; the rest of the read stands.
type Problem struct {
	Endpoint string // e.g. "memory"
	Status   int    // the HTTP status, 0 for a decoding problem
	Message  string
}

// HAState is the high-availability state: a master's view of its shadow, or a shadow's own.
type HAState struct {
	// MasterState is a master's "ALONE", "BINDING", "CONNECTED" or "BROKEN" (as reported).
	MasterState string
	ShadowHost  string // the shadow a master is bound to
	// ShadowState is a shadow's "INITIAL", "DISCONNECTED", "DISCONNECTING", "HANDSHAKE",
	// "INITSYNC", "READY" or "LOST" (as reported).
	ShadowState  string
	OwnHosts     []string
	StateMessage string
}

// Subaccount is one subaccount the connector serves, with its tunnel.
type Subaccount struct {
	Region      string // regionHost, e.g. "cf.eu10.hana.ondemand.com"
	ID          string // the subaccount ID
	DisplayName string
	Description string
	LocationID  string // "" for the default location
	Tunnel      Tunnel
	// Certificate is the subaccount certificate the tunnel logs on with; zero NotAfter when not reported.
	Certificate CertValidity
	// Extra holds members this version does not know, as encoding/json decodes them.
	Extra map[string]any
}

// Tunnel is a subaccount's tunnel as the connector reports it.
type Tunnel struct {
	State          string    // "Connected", "ConnectFailure", "Disconnected" (as reported)
	ConnectedSince time.Time // zero when not reported (ConnectFailure) or malformed
	Connections    int
	User           string // who connected the tunnel (the cloud side's connected_by)
	Applications   []ApplicationConnection
}

// Connected reports whether the tunnel state is Connected.
func (t Tunnel) Connected() bool { return t.State == "Connected" }

// ApplicationConnection is one cloud application's connections through the tunnel.
type ApplicationConnection struct {
	Name        string
	Type        string
	Connections int
}

// CertValidity is a certificate's validity as reported.
type CertValidity struct {
	NotBefore time.Time
	NotAfter  time.Time
	Subject   string
	Issuer    string
}

// Certificate is one certificate of /api/monitoring/certificates.
type Certificate struct {
	Type             string // "UI", "System", "CA" or "subaccount" (as reported)
	Status           string // the connector's own verdict: "expired", "expiring" (within its threshold) or "ok"
	NotAfter         time.Time
	Subject          string
	Issuer           string
	SerialNumber     string
	SubaccountName   string // subaccount certificates only
	SubaccountRegion string
}

// BackendConnection is one back end's open connections.
type BackendConnection struct {
	Region          string // the subaccount's region host
	Subaccount      string // the subaccount ID
	VirtualBackend  string // virtual host:port the cloud calls
	InternalBackend string // internal host:port behind it
	Protocol        string
	Idle, Active    int
}

// BackendPerformance is one back end's calls since SinceTime, with latency percentiles estimated
// from the connector's histogram.
type BackendPerformance struct {
	Region, Subaccount string
	VirtualHost        string
	VirtualPort        string
	Protocol           string
	SinceTime          string // as reported
	Calls              int
	// P50, P90 and P99 are estimated by linear interpolation inside the histogram bucket that
	// holds the rank; in the last, open bucket they are that bucket's lower bound (at least).
	P50, P90, P99 time.Duration
	Buckets       []Bucket
}

// Bucket is one bar of the latency histogram: calls that took at least Min (and less than the
// next bucket's Min).
type Bucket struct {
	Min   time.Duration
	Calls int
}

// CPU is the load in percent.
type CPU struct {
	Total          float64
	CloudConnector float64
}

// Memory is the memory use in KB.
type Memory struct {
	PhysicalTotalKB, PhysicalFreeKB, PhysicalCloudConnectorKB int64
	HeapTotalKB, HeapUsedKB, HeapFreeKB                       int64
}

// HeapUsedPercent returns the heap in use in percent of the heap's total, or -1 when unknown.
func (m *Memory) HeapUsedPercent() float64 {
	if m == nil || m.HeapTotalKB <= 0 {
		return -1
	}
	return 100 * float64(m.HeapUsedKB) / float64(m.HeapTotalKB)
}

// Disk is the disk use in MB.
type Disk struct {
	TotalMB, CloudConnectorMB, OthersMB, FreeMB int64
}

// FreePercent returns the free space in percent of the total, or -1 when unknown.
func (d *Disk) FreePercent() float64 {
	if d == nil || d.TotalMB <= 0 {
		return -1
	}
	return 100 * float64(d.FreeMB) / float64(d.TotalMB)
}

// Alert is one alert the connector raises itself (2.19+).
type Alert struct {
	Time    time.Time // zero when missing or malformed
	Status  string    // "Warning", "Error" (as reported)
	Type    string    // "Disk", "CPU", "UICertificate", "SubaccountCertificate", …
	Origin  string    // "Master" or "Shadow"
	Message string
	Entity  string
}
