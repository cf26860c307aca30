package sccadmin

import (
	"testing"
)

// FuzzDecode feeds every decoder arbitrary JSON: none may panic, whatever a connector sends.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"subaccounts":[{"regionHost":"cf.eu10.hana.ondemand.com","subaccount":"s","tunnel":{"state":"Connected","connectedSince":"2021-02-17T12:44:10.546 +0100","connections":"x","subaccountCertificate":{"notAfterTimeStamp":1e400}}}]}`,
		`{"subaccounts":[{"backendPerformance":[{"buckets":[{"numberOfCalls":-5,"minimumCallDurationMs":"a"},null]}],"backendConnections":[1,{"idle":true}]}]}`,
		`{"expired":[{"type":"UI","validTo":"soon"}],"ok":{}}`, `[{"timestamp":"x"}]`, `{"alerts":[null,{"timestamp":12}]}`,
		`{"physicalKB":[],"cloudConnectorHeapKB":{"total":"NaN"}}`, `true`, `"master"`, `{"ha":1}`, `null`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := decodeAny(body)
		if err != nil {
			return
		}
		d := &decoder{endpoint: "fuzz"}
		d.subaccounts(v)
		d.certificates(v)
		d.backends(v)
		for _, p := range d.performance(v) {
			if p.P50 > p.P90 || p.P90 > p.P99 || p.P50 < 0 && p.Calls > 0 {
				t.Errorf("percentiles out of order: %v %v %v", p.P50, p.P90, p.P99)
			}
		}
		d.memory(v)
		d.disk(v)
		d.cpu(v)
		d.alerts(v)
		decodeRole(v)
		decodeVersion(v)
		decodeMasterState(v)
		decodeShadowState(v)
		parseTime(v)
	})
}
