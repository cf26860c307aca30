package sccadmin

import (
	"strconv"
	"strings"
)

// The paths this package reads; all are GET.
const (
	PathHasMasterRole  = "/exposed?action=hasMasterRole"
	PathHARole         = "/api/v1/configuration/connector/haRole"
	PathVersion        = "/api/v1/connector/version"
	PathMasterState    = "/api/v1/configuration/connector/ha/master/state"
	PathShadowState    = "/api/v1/configuration/connector/ha/shadow/state"
	PathSubaccounts    = "/api/monitoring/subaccounts"
	PathBackends       = "/api/monitoring/connections/backends"
	PathPerformance    = "/api/monitoring/performance/backends"
	PathMemory         = "/api/monitoring/memory"
	PathDisk           = "/api/monitoring/disk"
	PathCPU            = "/api/monitoring/cpu"
	PathCertificates   = "/api/monitoring/certificates"
	PathAlerts         = "/api/monitoring/alerts"
	monitoringPrefix   = "/api/monitoring/"
	configurationRoot  = "/api/v1/configuration/connector"
	tunnelExposedPaths = "/api/monitoring, " + PathHARole + " and /exposed"
)

// endpoint is one monitoring endpoint read on a master.
type endpoint struct {
	name  string
	path  string
	since string // the first version that has it
	apply func(h *Health, d *decoder, v any)
}

// masterEndpoints are read on a master, in this order (subaccounts first: it proves the
// credentials when the version endpoint could not).
var masterEndpoints = []endpoint{
	{"subaccounts", PathSubaccounts, "2.10", func(h *Health, d *decoder, v any) { h.Subaccounts = d.subaccounts(v) }},
	{"certificates", PathCertificates, "2.13", func(h *Health, d *decoder, v any) { h.Certificates = d.certificates(v) }},
	{"backend_connections", PathBackends, "2.10", func(h *Health, d *decoder, v any) { h.Backends = d.backends(v) }},
	{"backend_performance", PathPerformance, "2.10", func(h *Health, d *decoder, v any) { h.Performance = d.performance(v) }},
	{"memory", PathMemory, "2.13", func(h *Health, d *decoder, v any) { h.Memory = d.memory(v) }},
	{"disk", PathDisk, "2.17", func(h *Health, d *decoder, v any) { h.Disk = d.disk(v) }},
	{"cpu", PathCPU, "2.17", func(h *Health, d *decoder, v any) { h.CPU = d.cpu(v) }},
	{"alerts", PathAlerts, "2.19", func(h *Health, d *decoder, v any) { h.Alerts = d.alerts(v) }},
	{"ha_master_state", PathMasterState, "2.13", func(h *Health, _ *decoder, v any) { h.HA = decodeMasterState(v) }},
}

// exposedThroughTunnel reports whether the Cloud ALM mapping (the connector's own tunnel)
// exposes path: /api/monitoring with sub-paths, haRole and /exposed.
func exposedThroughTunnel(path string) bool {
	return strings.HasPrefix(path, monitoringPrefix) || path == PathHARole || strings.HasPrefix(path, "/exposed?")
}

// versionParts parses "2.19.0.2" into its numbers; nil when it is not a version.
func versionParts(v string) []int {
	if v == "" {
		return nil
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// olderThan reports whether version v is known and lower than since.
func olderThan(v, since string) bool {
	a, b := versionParts(v), versionParts(since)
	if a == nil || b == nil {
		return false
	}
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}
