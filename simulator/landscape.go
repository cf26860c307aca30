package simulator

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Agent is one element of the Cloud Connector info response: {"attributes": {...}}. Every value
// is a string, as the API sends it (timestamps in epoch milliseconds, security_status and
// exposed_systems JSON documents), so malformed values are representable.
type Agent struct {
	Attributes map[string]string `json:"attributes"`
}

// epochMS renders a November 2026 UTC instant as the API does: epoch milliseconds in a string.
func epochMS(day, hour, minute, sec, milli int) string {
	t := time.Date(2026, time.November, day, hour, minute, sec, milli*int(time.Millisecond), time.UTC)
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// security builds a security_status string from the summary and the seven checks' ratings, in
// the API's order: cpic_trace, trust_store, ciphers, ui_certificate, payload_trace,
// authentication_type, application_whitelist.
func security(summary string, checks ...string) string {
	return fmt.Sprintf(`{"summary":%q,"cpic_trace":%q,"trust_store":%q,"ciphers":%q,"ui_certificate":%q,"payload_trace":%q,"authentication_type":%q,"application_whitelist":%q}`,
		summary, checks[0], checks[1], checks[2], checks[3], checks[4], checks[5], checks[6])
}

func allOK() string { return security("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok") }

// system is one element of exposed_systems, fields in the order the API sends them.
type system struct {
	Protocol    string `json:"protocol"`
	Host        string `json:"host"`
	Description string `json:"description"`
	Type        string `json:"type"`
	Status      string `json:"status"`
}

func systems(list ...system) string { return string(encodeJSON(append([]system{}, list...))) }

// javaRuntime returns the java_version and jvm_vendor_version of an SAP JVM of that major version.
func javaRuntime(major int) [2]string {
	return map[int][2]string{
		11: {"11.0.22 (SAP SE)", "OpenJDK 64-Bit Server VM (SAP SE, 11.0.22+7-LTS, mixed mode)"},
		17: {"17.0.14 (SAP SE)", "OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)"},
		21: {"21.0.5 (SAP SE)", "OpenJDK 64-Bit Server VM (SAP SE, 21.0.5+11-LTS, mixed mode, sharing)"},
	}[major]
}

// agent builds an agent's attributes; an empty start or location leaves that attribute out.
func agent(id, role, version string, java int, by, since, start, sec, exposed, location string) Agent {
	rt := javaRuntime(java)
	attrs := map[string]string{
		"client_id": id, "agent_type": role, "agent_version": version, "java_version": rt[0],
		"jvm_vendor_version": rt[1], "connected_by": by, "connected_since": since, "agent_recent_start_ms": start,
		"security_status": sec, "exposed_systems": exposed, "location_id": location,
	}
	for _, k := range []string{"agent_recent_start_ms", "location_id"} {
		if attrs[k] == "" {
			delete(attrs, k)
		}
	}
	return Agent{Attributes: attrs}
}

// ReferenceAgent is the sample element of SAP's "Calling the Connectivity Service REST API" page
// (the same values; a test compares it with the page's JSON). It is SampleLandscape's first agent.
func ReferenceAgent() Agent {
	return agent("123456789", "master", "2.18.0", 17, "admin@example.com", "1762174293176", "1762167520212",
		security("low_risk", "ok", "ok", "low_risk", "low_risk", "ok", "low_risk", "ok"),
		systems(system{"HTTP", "virtualhost:1234", "", "nonSAPsys", "exposed"}), "")
}

// SampleLandscape returns the demo landscape: ten agents that between them exercise every finding,
// without location attribute like SAP's documented example. It is deterministic and a fresh copy
// on every call.
func SampleLandscape() []Agent { return withoutLocations(SampleLandscapeWithLocations()) }

// SampleLandscapeWithLocations is SampleLandscape with a location_id on nine agents (seven
// locations), for the case that the API ever reports one (SAP does not document it).
func SampleLandscapeWithLocations() []Agent {
	const basis, hr = "basis-team@acme-corp.example", "hr-it@acme-corp.example"
	fraSystems := systems(
		system{"HTTPS", "s4h.internal:443", "S/4HANA 2023 production, Fiori launchpad", "abapSys", "exposed"},
		system{"RFCS", "s4h.internal:4800", "S/4HANA production, RFC over SNC", "abapSys", "exposed"},
		system{"HTTPS", "gw-prod.internal:44300", "Central SAP Gateway hub (OData)", "netweaverGW", "exposed"},
		system{"TCPS", "hana-prd.internal:30015", "HANA SQL port (TLS) for reporting", "hana", "exposed"},
	)
	usSystems := []system{
		{"HTTPS", "s4h-us.internal:443", "S/4HANA US, Fiori launchpad", "abapSys", "exposed"},
		{"RFCS", "s4h-us.internal:4800", "S/4HANA US, RFC over SNC", "abapSys", "exposed"},
		{"TCPS", "hana-us.internal:30041", "HANA tenant database (TLS)", "hana", "exposed"},
	}
	usSystemsB := append([]system(nil), usSystems...)
	usSystemsB[2].Status = "disabled" // the one unknown status of the landscape
	lowRisk := security("low_risk", "ok", "ok", "ok", "low_risk", "ok", "ok", "ok")
	lab := agent("961847203", "master", "2.17.1", 21, "lab-admin", "yesterday", epochMS(23, 15, 2, 11, 500),
		`{"summary":"low_risk","cpic_trace":"ok","trust_store":`,
		`[{"protocol":"HTTPS","host":"lab-s4:443","description":"sandbox",`, "lab")
	lab.Attributes["scc_build_id"] = "2.17.1-20260915.2" // an attribute nobody knows

	return []Agent{
		// 1. The reference page's sample, verbatim: a master alone in the default location.
		ReferenceAgent(),
		// 2. A healthy high-availability pair.
		agent("284610375", "master", "2.18.2", 21, basis, epochMS(9, 6, 12, 44, 120), epochMS(9, 6, 11, 2, 981), allOK(), fraSystems, "fra-prod"),
		agent("284610376", "shadow", "2.18.2", 21, basis, epochMS(9, 6, 20, 13, 554), epochMS(9, 6, 18, 40, 7), allOK(), fraSystems, "fra-prod"),
		// 3. High risk: old connector on Java 11 exposing unencrypted protocols.
		agent("517203948", "master", "2.15.0", 11, "S0021983456", epochMS(2, 21, 3, 17, 402), epochMS(2, 20, 58, 51, 230),
			security("high_risk", "medium_risk", "high_risk", "low_risk", "low_risk", "high_risk", "low_risk", "low_risk"),
			systems(
				system{"HTTP", "erp-prod:8000", "ECC 6.0 ICF services (plain HTTP)", "abapSys", "exposed"},
				system{"RFC", "erp-prod:3300", "ECC 6.0 RFC gateway", "abapSys", "exposed"},
				system{"LDAP", "ad-dc01.corp.local:389", "Active Directory, plain LDAP", "nonSAPsys", "exposed"},
				system{"TCP", "mes-gateway:5020", "Shop-floor MES socket interface", "nonSAPsys", "exposed"},
				system{"HTTP", "pi-legacy:50000", "PI 7.31 Adapter Engine", "PI", "exposed"},
				system{"HTTP", "bc-legacy:5555", "SAP Business Connector 4.8", "BC", "exposed"},
			), "ham-plant"),
		// 4. Medium risk, an unknown check value, and no shadow.
		agent("630174285", "master", "2.16.0", 17, "cc-admin@acme-asia.example", epochMS(17, 2, 45, 9, 871), epochMS(17, 2, 43, 55, 310),
			security("medium_risk", "ok", "ok", "medium_risk", "low_risk", "ok", "not_evaluated", "low_risk"),
			systems(
				system{"HTTPS", "portal.sgp.internal:50001", "NetWeaver AS Java, Enterprise Portal", "applServerJava", "exposed"},
				system{"HTTPS", "nwce.sgp.internal:50101", "NetWeaver Composition Environment (BPM)", "netweaverCE", "exposed"},
				system{"LDAPS", "ldap.sgp.internal:636", "Corporate directory", "nonSAPsys", "exposed"},
				system{"HTTPS", "bobj.sgp.internal:443", "BusinessObjects BI platform", "otherSAPsys", "exposed"},
			), "sgp-dc"),
		// 5. Double master: two masters in one location.
		agent("745019362", "master", "2.18.2", 21, basis, epochMS(20, 3, 14, 27, 6), epochMS(20, 3, 12, 50, 447), lowRisk, systems(usSystems...), "us-east"),
		agent("745019363", "master", "2.18.2", 21, basis, epochMS(24, 6, 58, 2, 713), epochMS(24, 6, 57, 31, 90), lowRisk, systems(usSystemsB...), "us-east"),
		// 6. A connected master whose shadow does not look connected.
		agent("856302417", "master", "2.17.1", 17, hr, epochMS(12, 4, 30, 0, 250), epochMS(12, 4, 28, 44, 913), lowRisk,
			systems(
				system{"HTTPS", "hcm.muc.internal:44300", "HCM Employee Self-Service", "abapSys", "exposed"},
				system{"RFCS", "hcm.muc.internal:4800", "HCM payroll RFC (SNC)", "abapSys", "exposed"},
				system{"HTTPS", "gw.muc.internal:44301", "Gateway for HR Fiori apps", "netweaverGW", "exposed"},
			), "muc-hr"),
		agent("856302418", "shadow", "2.17.1", 17, hr, "", "", lowRisk, "[]", "muc-hr"),
		// 7. Malformed values everywhere, plus an attribute nobody knows.
		lab,
	}
}

// CleanLandscape returns a high-availability pair with no findings: every check ok, the newest
// version on Java 21, only encrypted protocols exposed, no location attribute.
func CleanLandscape() []Agent { return withoutLocations(CleanLandscapeWithLocations()) }

// CleanLandscapeWithLocations is CleanLandscape with both agents in location "eu-central".
func CleanLandscapeWithLocations() []Agent {
	exposed := systems(
		system{"HTTPS", "s4h.internal:443", "S/4HANA production, Fiori launchpad", "abapSys", "exposed"},
		system{"RFCS", "s4h.internal:4800", "S/4HANA production, RFC over SNC", "abapSys", "exposed"},
		system{"LDAPS", "ldap.internal:636", "Corporate directory", "nonSAPsys", "exposed"},
		system{"TCPS", "hana.internal:30015", "HANA SQL port (TLS)", "hana", "exposed"},
	)
	const basis = "basis-team@acme-corp.example"
	return []Agent{
		agent("318204756", "master", "2.18.2", 21, basis, epochMS(10, 5, 1, 12, 345), epochMS(10, 4, 59, 48, 2), allOK(), exposed, "eu-central"),
		agent("318204757", "shadow", "2.18.2", 21, basis, epochMS(10, 5, 9, 40, 871), epochMS(10, 5, 8, 3, 120), allOK(), exposed, "eu-central"),
	}
}

// LargeLandscape returns a deterministic landscape of connectors agents with systemsPer exposed
// systems each, for benchmarks and scale tests: master and shadow pairs (every seventh master
// alone), versions and ratings from a fixed-seed generator, no location attribute.
func LargeLandscape(connectors, systemsPer int) []Agent {
	return withoutLocations(LargeLandscapeWithLocations(connectors, systemsPer))
}

// LargeLandscapeWithLocations is LargeLandscape with a location_id attribute ("loc-0000", …).
func LargeLandscapeWithLocations(connectors, systemsPer int) []Agent {
	rng := rand.New(rand.NewPCG(0x5a9c0ffee, 2026))
	versions := []struct {
		agent string
		java  int
	}{{"2.18.2", 21}, {"2.18.2", 17}, {"2.18.1", 21}, {"2.17.1", 17}, {"2.16.0", 17}, {"2.15.0", 11}}
	ratings := []string{"ok", "ok", "ok", "ok", "ok", "low_risk", "low_risk", "medium_risk", "high_risk"} // ascending

	agents := make([]Agent, 0, max(connectors, 0))
	base := time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for loc := 0; len(agents) < connectors; loc++ {
		v := versions[rng.IntN(len(versions))]
		checks, worst := make([]string, 7), 0
		for i := range checks {
			r := rng.IntN(len(ratings))
			checks[i], worst = ratings[r], max(worst, r)
		}
		sec := security(ratings[worst], checks...)
		exposed := largeSystems(loc, max(systemsPer, 0))
		roles := []string{"master", "shadow"}
		if loc%7 == 6 {
			roles = roles[:1]
		}
		for r, role := range roles {
			if len(agents) == connectors {
				break
			}
			start := base + int64(loc)*97_000 + int64(rng.IntN(3_600_000))
			since := start + int64(30_000+rng.IntN(120_000))
			agents = append(agents, agent(strconv.Itoa(400_000_000+loc*10+r), role, v.agent, v.java,
				fmt.Sprintf("admin%02d@acme-corp.example", loc%37), strconv.FormatInt(since, 10), strconv.FormatInt(start, 10),
				sec, exposed, fmt.Sprintf("loc-%04d", loc)))
		}
	}
	return agents
}

func withoutLocations(agents []Agent) []Agent {
	for _, a := range agents {
		delete(a.Attributes, "location_id")
	}
	return agents
}

// largeSystems returns n exposed systems of location loc as the API's JSON string.
func largeSystems(loc, n int) string {
	protocols := [...]string{"HTTP", "HTTPS", "RFC", "RFCS", "LDAP", "LDAPS", "TCP", "TCPS"}
	ports := [...]int{8000, 443, 3300, 4800, 389, 636, 5020, 30015}
	types := [...]string{"abapSys", "netweaverCE", "netweaverGW", "applServerJava", "BC", "PI", "hana", "otherSAPsys", "nonSAPsys"}
	list := make([]system, n)
	for j := range list {
		p, typ := (loc+j)%len(protocols), types[(loc*3+j)%len(types)]
		list[j] = system{protocols[p], fmt.Sprintf("sys%d.loc%d.internal:%d", j, loc, ports[p]+j%10),
			fmt.Sprintf("%s system %d of location %d", typ, j, loc), typ, "exposed"}
	}
	return systems(list...)
}

// DemoLandscapes is the demo landscape changing between reads, one change a read, for --demo's
// history: the sample, then a system exposed over plain HTTP on the healthy pair (284610375 and
// its shadow), then payload_trace worsened to high_risk on 630174285, then 517203948 upgraded
// to 2.18.2 on Java 21, then 745019363 gone (disconnected).
func DemoLandscapes() [][]Agent {
	steps := [][]Agent{SampleLandscape()}
	next := func(change func(byID map[string]map[string]string) []Agent) {
		prev := steps[len(steps)-1]
		agents := make([]Agent, 0, len(prev))
		byID := map[string]map[string]string{}
		for _, a := range prev {
			attrs := maps.Clone(a.Attributes)
			byID[attrs["client_id"]] = attrs
			agents = append(agents, Agent{Attributes: attrs})
		}
		if out := change(byID); out != nil {
			agents = out
		}
		steps = append(steps, agents)
	}
	next(func(byID map[string]map[string]string) []Agent {
		for _, id := range []string{"284610375", "284610376"} {
			byID[id]["exposed_systems"] = strings.Replace(byID[id]["exposed_systems"], "[",
				`[{"protocol":"HTTP","host":"hr-portal.internal:8080","description":"HR portal, exposed for a pilot","type":"nonSAPsys","status":"exposed"},`, 1)
		}
		return nil
	})
	next(func(byID map[string]map[string]string) []Agent {
		byID["630174285"]["security_status"] = strings.Replace(byID["630174285"]["security_status"], `"payload_trace":"ok"`, `"payload_trace":"high_risk"`, 1)
		return nil
	})
	next(func(byID map[string]map[string]string) []Agent {
		a := byID["517203948"]
		rt := javaRuntime(21)
		a["agent_version"], a["java_version"], a["jvm_vendor_version"] = "2.18.2", rt[0], rt[1]
		return nil
	})
	next(func(byID map[string]map[string]string) []Agent {
		var out []Agent
		for _, a := range steps[len(steps)-1] {
			if id := a.Attributes["client_id"]; id != "745019363" {
				out = append(out, Agent{Attributes: byID[id]})
			}
		}
		return out
	})
	return steps
}
