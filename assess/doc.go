// Package assess holds the health and security rules for Cloud Connectors: it turns the
// connectors of a snapshot into findings with stable rule IDs, severities and fingerprints, pairs
// high-availability masters and shadows by evidence, applies the version policy and the accepted
// risks of a team, and owns every piece of advice (check labels, remediation sentences).
//
// It knows nothing of MCP: tools shape its results into answers, and the check command renders
// them. docs/assessment.md explains every rule, the HA inference and the version policy.
package assess
