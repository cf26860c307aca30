package simulator

import (
	"strconv"
	"time"
)

// SampleRegionHost is the region host the sample connectors report.
const SampleRegionHost = "cf.eu10.hana.ondemand.com"

// ms parses an epoch-milliseconds string of the landscapes.
func ms(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.UnixMilli(n).UTC()
}

// SampleSCCs returns the demo's connector admin APIs, joinable with SampleLandscape (same
// connected_since and connected_by) in the subaccount subaccountID, certificates relative to now:
//
//   - "fra-prod master" (284610375, 2.18.2): paired with "fra-prod shadow" (READY); its subaccount
//     certificate expires in 12 days; one back end slow (p90 over 2 s).
//   - "fra-prod shadow" (284610376): READY.
//   - "muc-hr master" (856302417, 2.17.1): its shadow is lost (master state BROKEN), disk nearly full.
//   - "muc-hr shadow" (856302418): LOST.
//   - "sgp-dc" (630174285, 2.16.0): no cpu, disk or alerts endpoints; connectedSince in the older
//     string format.
//
// Every connector accepts the user "monitoring" with the password "secret-monitoring-pw".
func SampleSCCs(now time.Time, subaccountID string) []SCCOptions {
	const basis, hr = "basis-team@acme-corp.example", "hr-it@acme-corp.example"
	year := now.AddDate(1, 0, 0)
	sub := func(loc, since, user string, certNotAfter time.Time) SCCSubaccount {
		return SCCSubaccount{Region: SampleRegionHost, ID: subaccountID, DisplayName: "ACME production", LocationID: loc,
			TunnelState: "Connected", ConnectedSince: ms(since), Connections: 3, User: user, CertNotAfter: certNotAfter}
	}
	certs := func(subNotAfter time.Time) []SCCCertificate {
		status := "ok"
		if subNotAfter.Sub(now) < 30*24*time.Hour {
			status = "expiring"
		}
		return []SCCCertificate{
			{Type: "UI", Status: "ok", Subject: "CN=scc.acme-corp.example", NotAfter: year},
			{Type: "System", Status: "ok", Subject: "CN=scc-system.acme-corp.example", NotAfter: year},
			{Type: "CA", Status: "ok", Subject: "CN=ACME principal propagation CA", NotAfter: now.AddDate(3, 0, 0)},
			{Type: "subaccount", Status: status, SubaccountName: "ACME production", NotAfter: subNotAfter},
		}
	}
	fast := [22]int{120, 340, 410, 260, 90, 40, 12, 4, 2, 1}
	slow := [22]int{2, 4, 6, 10, 14, 20, 30, 40, 60, 60, 50, 40, 30, 30, 20, 20, 14, 10, 6, 4, 2, 1}
	twelveDays := now.Add(12 * 24 * time.Hour)
	return []SCCOptions{
		{Name: "fra-prod master", Version: "2.18.2.1", Role: "master", MasterState: "CONNECTED", ShadowHost: "scc-fra-2.acme-corp.example",
			Subaccounts:  []SCCSubaccount{sub("fra-prod", epochMS(9, 6, 12, 44, 120), basis, twelveDays)},
			Certificates: certs(twelveDays),
			Backends: []SCCBackend{
				{SubaccountID: subaccountID, VirtualHost: "s4h.internal", VirtualPort: 443, InternalHost: "s4hprd01.acme.local:44300", Protocol: "HTTPS", Idle: 4, Active: 2, Calls: fast},
				{SubaccountID: subaccountID, VirtualHost: "gw-prod.internal", VirtualPort: 44300, InternalHost: "gwprd.acme.local:44300", Protocol: "HTTPS", Idle: 1, Active: 6, Calls: slow},
			},
			CPU: [2]float64{23.5, 7.25}, HeapKB: [2]int64{2097152, 812000}, DiskMB: [2]int64{102400, 61440}},
		{Name: "fra-prod shadow", Version: "2.18.2.1", Role: "shadow", ShadowState: "READY",
			OwnHosts: []string{"scc-fra-2.acme-corp.example", "10.20.1.12"}},
		{Name: "muc-hr master", Version: "2.17.1.0", Role: "master", MasterState: "BROKEN", ShadowHost: "scc-muc-2.acme-corp.example",
			Subaccounts:  []SCCSubaccount{sub("muc-hr", epochMS(12, 4, 30, 0, 250), hr, year)},
			Certificates: certs(year),
			Backends: []SCCBackend{{SubaccountID: subaccountID, VirtualHost: "hcm.muc.internal", VirtualPort: 44300, InternalHost: "hcm01.acme.local:44300",
				Protocol: "HTTPS", Idle: 2, Active: 1, Calls: fast}},
			CPU: [2]float64{41, 12}, HeapKB: [2]int64{1048576, 590000}, DiskMB: [2]int64{51200, 1800}},
		{Name: "muc-hr shadow", Version: "2.17.1.0", Role: "shadow", ShadowState: "LOST",
			OwnHosts: []string{"scc-muc-2.acme-corp.example"}},
		{Name: "sgp-dc", Version: "2.16.0.0", Role: "master", MasterState: "ALONE", OldDateFormat: true,
			Subaccounts:  []SCCSubaccount{sub("sgp-dc", epochMS(17, 2, 45, 9, 871), "cc-admin@acme-asia.example", year)},
			Certificates: certs(year), HeapKB: [2]int64{1048576, 300000}},
	}
}
