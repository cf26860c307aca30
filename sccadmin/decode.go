package sccadmin

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Decoding is tolerant: documentation and real answers differ, and versions add members. Each
// answer is decoded into generic JSON and the known members are picked; a member that is missing
// leaves its field at the zero value, a malformed one adds a Problem, and members of a subaccount
// nobody knows are kept in Extra.

// object is a JSON object decoded with numbers kept as json.Number.
type object map[string]any

// decodeAny decodes a JSON document keeping numbers exact.
func decodeAny(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return v, nil
}

// decoder collects the problems of one endpoint's answer.
type decoder struct {
	endpoint string
	problems []Problem
}

func (d *decoder) problem(format string, args ...any) {
	d.problems = append(d.problems, Problem{Endpoint: d.endpoint, Message: fmt.Sprintf(format, args...)})
}

// asObject returns v as an object, or nil.
func asObject(v any) object {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return nil
}

// list returns the array under key of v, or v itself when it is a bare array (both shapes exist).
func list(v any, key string) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if a, ok := asObject(v)[key].([]any); ok {
		return a
	}
	return nil
}

// str returns a string member; numbers and booleans are rendered, anything else is "".
func (o object) str(key string) string {
	switch v := o[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// num returns a numeric member (a number or a numeric string); ok is false when missing, and a
// malformed value adds a problem.
func (d *decoder) num(o object, key, what string) (float64, bool) {
	var s string
	switch v := o[key].(type) {
	case nil:
		return 0, false
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		d.problem("%s: %s is not a number", what, key)
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.problem("%s: %s %q is not a number", what, key, clip(s, 40))
		return 0, false
	}
	return f, true
}

func (d *decoder) integer(o object, key, what string) int64 {
	f, _ := d.num(o, key, what)
	return int64(f)
}

// millis returns an epoch-milliseconds member as a time, zero when missing or malformed.
func (d *decoder) millis(o object, key, what string) time.Time {
	f, ok := d.num(o, key, what)
	if !ok || f <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(f)).UTC()
}

// oldTimeLayouts are the string forms older connectors send, "2021-02-17T12:44:10.546 +0100".
var oldTimeLayouts = []string{"2006-01-02T15:04:05.000 -0700", "2006-01-02T15:04:05 -0700", time.RFC3339Nano, "2006-01-02 15:04:05.000 -0700"}

// parseTime reads a time given as epoch milliseconds (number or digits) or in one of the string forms.
func parseTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case json.Number:
		if ms, err := v.Int64(); err == nil && ms > 0 {
			return time.UnixMilli(ms).UTC(), true
		}
	case string:
		s := strings.TrimSpace(v)
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
			return time.UnixMilli(ms).UTC(), true
		}
		for _, layout := range oldTimeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// decodeVersion reads {"version":"2.19.0.2"} (or a bare string).
func decodeVersion(v any) string {
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(asObject(v).str("version"))
}

// decodeRole reads hasMasterRole (true/false) or haRole ("master", or an object with "ha").
func decodeRole(v any) string {
	var s string
	switch v := v.(type) {
	case bool:
		if v {
			return RoleMaster
		}
		return RoleShadow
	case string:
		s = v
	default:
		o := asObject(v)
		s = o.str("ha")
		if s == "" {
			s = o.str("haRole")
		}
	}
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "true":
		return RoleMaster
	case "false":
		return RoleShadow
	}
	return s
}

func (d *decoder) subaccounts(v any) []Subaccount {
	known := []string{"regionHost", "subaccount", "displayName", "description", "locationID", "tunnel"}
	var out []Subaccount
	for i, item := range list(v, "subaccounts") {
		o := asObject(item)
		if o == nil {
			d.problem("subaccount %d is not an object", i+1)
			continue
		}
		s := Subaccount{Region: o.str("regionHost"), ID: o.str("subaccount"), DisplayName: o.str("displayName"),
			Description: o.str("description"), LocationID: o.str("locationID")}
		what := "subaccount " + s.ID
		if t := asObject(o["tunnel"]); t != nil {
			s.Tunnel = Tunnel{State: t.str("state"), User: t.str("user"), Connections: int(d.integer(t, "connections", what))}
			switch {
			case t["connectedSinceTimeStamp"] != nil:
				s.Tunnel.ConnectedSince = d.millis(t, "connectedSinceTimeStamp", what)
			case t["connectedSince"] != nil: // older connectors: "2021-02-17T12:44:10.546 +0100"
				if ts, ok := parseTime(t["connectedSince"]); ok {
					s.Tunnel.ConnectedSince = ts
				} else {
					d.problem("%s: connectedSince %q is not a time", what, clip(t.str("connectedSince"), 40))
				}
			}
			for _, a := range list(t["applicationConnections"], "") {
				if ao := asObject(a); ao != nil {
					s.Tunnel.Applications = append(s.Tunnel.Applications, ApplicationConnection{
						Name: ao.str("name"), Type: ao.str("type"), Connections: int(d.integer(ao, "connectionCount", what))})
				}
			}
			if c := asObject(t["subaccountCertificate"]); c != nil {
				s.Certificate = CertValidity{NotBefore: d.millis(c, "notBeforeTimeStamp", what), NotAfter: d.millis(c, "notAfterTimeStamp", what),
					Subject: c.str("subjectDN"), Issuer: c.str("issuer")}
			}
		}
		for k, val := range o {
			if !slices.Contains(known, k) {
				if s.Extra == nil {
					s.Extra = map[string]any{}
				}
				s.Extra[k] = val
			}
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) certificates(v any) []Certificate {
	o := asObject(v)
	var out []Certificate
	for _, status := range []string{"expired", "expiring", "ok"} {
		for _, item := range list(o[status], "") {
			c := asObject(item)
			if c == nil {
				continue
			}
			out = append(out, Certificate{Type: c.str("type"), Status: status, NotAfter: d.millis(c, "validTo", "certificate "+c.str("type")),
				Subject: c.str("subjectDN"), Issuer: c.str("issuerDN"), SerialNumber: c.str("serialNumber"),
				SubaccountName: c.str("subaccountName"), SubaccountRegion: c.str("subaccountRegion")})
		}
	}
	return out
}

// perSubaccount calls fn for each object in the list key of each subaccount of v.
func perSubaccount(v any, key string, fn func(sub, item object)) {
	for _, s := range list(v, "subaccounts") {
		sub := asObject(s)
		for _, b := range list(sub[key], "") {
			if o := asObject(b); o != nil {
				fn(sub, o)
			}
		}
	}
}

func (d *decoder) backends(v any) []BackendConnection {
	var out []BackendConnection
	perSubaccount(v, "backendConnections", func(s, o object) {
		what := "back end " + o.str("virtualBackend")
		out = append(out, BackendConnection{Region: s.str("regionHost"), Subaccount: s.str("subaccount"),
			VirtualBackend: o.str("virtualBackend"), InternalBackend: o.str("internalBackend"), Protocol: o.str("protocol"),
			Idle: int(d.integer(o, "idle", what)), Active: int(d.integer(o, "active", what))})
	})
	return out
}

func (d *decoder) performance(v any) []BackendPerformance {
	var out []BackendPerformance
	perSubaccount(v, "backendPerformance", func(s, o object) {
		p := BackendPerformance{Region: s.str("regionHost"), Subaccount: s.str("subaccount"), SinceTime: s.str("sinceTime"),
			VirtualHost: o.str("virtualHost"), VirtualPort: o.str("virtualPort"), Protocol: o.str("protocol")}
		what := "back end " + p.VirtualHost
		for _, bk := range list(o["buckets"], "") {
			if bo := asObject(bk); bo != nil {
				ms, _ := d.num(bo, "minimumCallDurationMs", what)
				p.Buckets = append(p.Buckets, Bucket{Min: time.Duration(ms * float64(time.Millisecond)), Calls: int(d.integer(bo, "numberOfCalls", what))})
			}
		}
		p.estimate()
		out = append(out, p)
	})
	return out
}

// estimate fills Calls and the percentiles from the buckets.
func (p *BackendPerformance) estimate() {
	slices.SortStableFunc(p.Buckets, func(a, b Bucket) int { return cmp.Compare(a.Min, b.Min) })
	p.Calls = 0
	for _, b := range p.Buckets {
		p.Calls += max(b.Calls, 0)
	}
	p.P50, p.P90, p.P99 = Percentile(p.Buckets, 0.50), Percentile(p.Buckets, 0.90), Percentile(p.Buckets, 0.99)
}

// Percentile estimates the q-quantile (0 < q ≤ 1) of a latency histogram whose buckets are sorted
// by Min: linear interpolation between the bucket's Min and the next bucket's Min at the rank
// q × calls; in the last, open bucket its Min (a lower bound). No calls: 0.
func Percentile(buckets []Bucket, q float64) time.Duration {
	total := 0
	for _, b := range buckets {
		total += max(b.Calls, 0)
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	seen := 0.0
	for i, b := range buckets {
		n := float64(max(b.Calls, 0))
		if n == 0 || seen+n < rank {
			seen += n
			continue
		}
		if i == len(buckets)-1 {
			return b.Min
		}
		frac := (rank - seen) / n
		return b.Min + time.Duration(frac*float64(buckets[i+1].Min-b.Min))
	}
	return buckets[len(buckets)-1].Min
}

func (d *decoder) memory(v any) *Memory {
	o := asObject(v)
	if o == nil {
		d.problem("not an object")
		return nil
	}
	phys, heap := asObject(o["physicalKB"]), asObject(o["cloudConnectorHeapKB"])
	return &Memory{
		PhysicalTotalKB: d.integer(phys, "total", "physicalKB"), PhysicalFreeKB: d.integer(phys, "free", "physicalKB"),
		PhysicalCloudConnectorKB: d.integer(phys, "CloudConnector", "physicalKB"),
		HeapTotalKB:              d.integer(heap, "total", "cloudConnectorHeapKB"), HeapUsedKB: d.integer(heap, "used", "cloudConnectorHeapKB"),
		HeapFreeKB: d.integer(heap, "free", "cloudConnectorHeapKB"),
	}
}

func (d *decoder) disk(v any) *Disk {
	o := asObject(v)
	if o == nil {
		d.problem("not an object")
		return nil
	}
	return &Disk{TotalMB: d.integer(o, "total", "disk"), CloudConnectorMB: d.integer(o, "CloudConnector", "disk"),
		OthersMB: d.integer(o, "others", "disk"), FreeMB: d.integer(o, "free", "disk")}
}

func (d *decoder) cpu(v any) *CPU {
	o := asObject(v)
	if o == nil {
		d.problem("not an object")
		return nil
	}
	total, _ := d.num(o, "total", "cpu")
	own, _ := d.num(o, "CloudConnector", "cpu")
	return &CPU{Total: total, CloudConnector: own}
}

func (d *decoder) alerts(v any) []Alert {
	var out []Alert
	for _, item := range list(v, "alerts") { // wrapped {"alerts":[…]} or bare […]
		o := asObject(item)
		if o == nil {
			continue
		}
		a := Alert{Status: o.str("status"), Type: o.str("type"), Origin: o.str("origin"), Message: o.str("message"), Entity: o.str("entity")}
		if o["timestamp"] != nil {
			if ts, ok := parseTime(o["timestamp"]); ok {
				a.Time = ts
			} else {
				d.problem("alert %s: timestamp %q is not a time", a.Type, clip(o.str("timestamp"), 40))
			}
		}
		out = append(out, a)
	}
	return out
}

func decodeMasterState(v any) *HAState {
	o := asObject(v)
	return &HAState{MasterState: o.str("state"), ShadowHost: o.str("shadowHost")}
}

func decodeShadowState(v any) *HAState {
	o := asObject(v)
	h := &HAState{ShadowState: o.str("state"), StateMessage: o.str("stateMessage")}
	for _, host := range list(o["ownHosts"], "") {
		if s, ok := host.(string); ok {
			h.OwnHosts = append(h.OwnHosts, s)
		}
	}
	return h
}

// clip shortens a value from an answer for a message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
