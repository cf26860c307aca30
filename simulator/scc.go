package simulator

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SCC plays one Cloud Connector's administration REST API (port 8443 on a real one): the role,
// version, HA state and monitoring endpoints, with HTTP Basic on every request. Its quirks are
// switches: an expired session answers 200 with an HTML login page, an older version lacks the
// newer endpoints (400/404), OldDateFormat sends connectedSince as a string, AlertsBare sends the
// alerts unwrapped. Every request is logged (method, path, status), so tests can prove that a
// client only ever sends GET and stops after a 401.

// SCCOptions describe one simulated connector.
type SCCOptions struct {
	Name     string // for messages
	Version  string // four parts, "2.19.0.2"; decides which endpoints exist
	Role     string // "master" or "shadow"
	User     string // the accepted user; "" means "monitoring"
	Password string // the accepted password; "" means "secret-monitoring-pw"

	MasterState string // a master's HA state: "ALONE", "BINDING", "CONNECTED", "BROKEN"
	ShadowHost  string // a master's shadow
	ShadowState string // a shadow's state: "READY", "LOST", …
	OwnHosts    []string

	Subaccounts  []SCCSubaccount
	Certificates []SCCCertificate
	Backends     []SCCBackend
	CPU          [2]float64 // total, Cloud Connector (percent)
	HeapKB       [2]int64   // total, used
	DiskMB       [2]int64   // total, free
	Alerts       []SCCAlert

	OldDateFormat bool // connectedSince "2021-02-17T12:44:10.546 +0100" instead of connectedSinceTimeStamp
	AlertsBare    bool // alerts as a bare array instead of {"alerts":[…]}
	TLS           bool // serve https with a CA of its own (CACertificatePEM)
	// RequireClientCert (with TLS) demands a client certificate issued by IssueClientCert, as a
	// connector with client-certificate logon does.
	RequireClientCert bool
	Latency           time.Duration
}

// SCCSubaccount is one subaccount the connector serves, with its tunnel.
type SCCSubaccount struct {
	Region, ID, DisplayName, LocationID string
	TunnelState                         string // "Connected", "ConnectFailure", "Disconnected"
	ConnectedSince                      time.Time
	Connections                         int
	User                                string
	CertNotAfter                        time.Time
}

// SCCCertificate is one certificate of /api/monitoring/certificates.
type SCCCertificate struct {
	Type, Status, Subject string // Type "UI", "System", "CA", "subaccount"; Status "ok", "expiring", "expired"
	NotAfter              time.Time
	SubaccountName        string
}

// SCCBackend is one back end: its connections and its latency histogram (22 buckets, calls per bucket).
type SCCBackend struct {
	SubaccountID, VirtualHost, InternalHost, Protocol string
	VirtualPort                                       int
	Idle, Active                                      int
	Calls                                             [22]int
}

// SCCBucketsMs are the lower bounds of the 22 histogram buckets, 10 ms to 5,000 ms.
var SCCBucketsMs = [22]int{10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000}

// SCCAlert is one alert the connector raises (2.19+).
type SCCAlert struct {
	Type, Status, Message, Entity string
	Time                          time.Time
}

// SCCRequest is one logged request.
type SCCRequest struct {
	Method, Path, Location string // Location: the SAP-Connectivity-SCC-Location_ID header through the proxy
	Status                 int
	ViaProxy               bool
}

// SCC is a running simulated connector. Methods are safe for concurrent use.
type SCC struct {
	opts SCCOptions
	srv  *http.Server
	url  string
	pki  *pki

	inflight, maxInflight atomic.Int64

	mu             sync.Mutex
	password       string
	sessionExpired bool
	log            []SCCRequest
}

// StartSCC starts a simulated connector on 127.0.0.1, on a random port. Call Close when done.
func StartSCC(o SCCOptions) (*SCC, error) {
	o.User = cmpOr(o.User, "monitoring")
	o.Password = cmpOr(o.Password, "secret-monitoring-pw")
	o.Role = cmpOr(o.Role, "master")
	o.Version = cmpOr(o.Version, "2.19.0.2")
	s := &SCC{opts: o, password: o.Password}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, false) }),
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulator: listen: %w", err)
	}
	scheme := "http"
	if o.TLS {
		if s.pki, err = newPKI(); err != nil {
			ln.Close()
			return nil, err
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.pki.server}, MinVersion: tls.VersionTLS12}
		if o.RequireClientCert {
			s.srv.TLSConfig.ClientAuth, s.srv.TLSConfig.ClientCAs = tls.RequireAndVerifyClientCert, s.pki.pool()
		}
		scheme = "https"
	}
	s.url = scheme + "://" + ln.Addr().String()
	go func() {
		if o.TLS {
			_ = s.srv.ServeTLS(ln, "", "")
		} else {
			_ = s.srv.Serve(ln)
		}
	}()
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// URL returns the connector's base URL, "http://127.0.0.1:41234".
func (s *SCC) URL() string { return s.url }

// User returns the accepted user.
func (s *SCC) User() string { return s.opts.User }

// Password returns the accepted password.
func (s *SCC) Password() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.password
}

// SetPassword changes the accepted password.
func (s *SCC) SetPassword(pw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = pw
}

// SetHAState changes the high-availability state the connector reports: a shadow's own state
// ("READY", "LOST", …), else a master's ("CONNECTED", "ALONE", "BROKEN", …).
func (s *SCC) SetHAState(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Role == "shadow" {
		s.opts.ShadowState = state
	} else {
		s.opts.MasterState = state
	}
}

// SetSessionExpired makes every credentialed path answer 200 with an HTML login page.
func (s *SCC) SetSessionExpired(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionExpired = on
}

// CACertificatePEM returns the CA of an https connector, or nil.
func (s *SCC) CACertificatePEM() []byte {
	if s.pki == nil {
		return nil
	}
	return slices.Clone(s.pki.caPEM)
}

// IssueClientCert issues a client certificate for client-certificate logon (TLS only): the PEM
// chain and the PKCS #1 key.
func (s *SCC) IssueClientCert() (certPEM, keyPEM string, err error) {
	if s.pki == nil {
		return "", "", fmt.Errorf("simulator: connector %q serves no TLS", s.opts.Name)
	}
	c, err := s.pki.issueClient("scc-monitoring")
	if err != nil {
		return "", "", err
	}
	return c.certPEM, c.keyPEM, nil
}

// Requests returns the request log, oldest first.
func (s *SCC) Requests() []SCCRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Unauthorized counts the requests answered 401 (wrong or missing credentials).
func (s *SCC) Unauthorized() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

// MaxInFlight returns the most requests the connector has served at once.
func (s *SCC) MaxInFlight() int { return int(s.maxInflight.Load()) }

// Close stops the connector.
func (s *SCC) Close() { _ = s.srv.Close() }

// has reports whether the simulated version has a path that came with since.
func (s *SCC) has(since string) bool { return !versionBelow(s.opts.Version, since) }

func versionBelow(v, since string) bool {
	a, b := strings.Split(v, "."), strings.Split(since, ".")
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// serve answers one request and logs it.
func (s *SCC) serve(w http.ResponseWriter, r *http.Request, viaProxy bool) {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for m := s.maxInflight.Load(); n > m && !s.maxInflight.CompareAndSwap(m, n); m = s.maxInflight.Load() {
	}
	status, ctype, body := s.answer(r)
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-r.Context().Done():
		}
	}
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	s.mu.Lock()
	s.log = append(s.log, SCCRequest{Method: r.Method, Path: path, Status: status, Location: r.Header.Get("SAP-Connectivity-SCC-Location_ID"), ViaProxy: viaProxy})
	s.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

const sccLoginPage = `<!DOCTYPE html><html><head><title>SAP Cloud Connector</title></head><body><form method="post" action="j_security_check">` +
	`<input name="j_username"><input type="password" name="j_password"></form></body></html>`

func sccError(status int, typ, msg string) (int, string, []byte) {
	return status, "application/json", encodeJSON(map[string]string{"type": typ, "message": msg})
}

// answer builds the answer of one request.
func (s *SCC) answer(r *http.Request) (int, string, []byte) {
	if r.Method != http.MethodGet {
		return sccError(http.StatusMethodNotAllowed, "INVALID_REQUEST", "method not allowed")
	}
	s.mu.Lock()
	o := s.opts // SetHAState changes it
	s.mu.Unlock()
	master := o.Role == "master"
	if r.URL.Path == "/exposed" {
		switch action := r.URL.Query().Get("action"); {
		case action == "ping":
			return http.StatusOK, "text/plain", []byte("pong")
		case action == "hasMasterRole" && s.has("2.15"):
			return http.StatusOK, "application/json", []byte(strconv.FormatBool(master))
		}
		return sccError(http.StatusBadRequest, "INVALID_REQUEST", "unknown action")
	}
	s.mu.Lock()
	expired, pw := s.sessionExpired, s.password
	s.mu.Unlock()
	if expired {
		return http.StatusOK, "text/html;charset=UTF-8", []byte(sccLoginPage)
	}
	if user, got, ok := basicAuth(r); !ok || user != o.User || got != pw {
		return sccError(http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	}
	notFound := func() (int, string, []byte) { return sccError(http.StatusNotFound, "NOT_FOUND", "resource not found") }
	monitoring := func(since string, v func() any) (int, string, []byte) {
		switch {
		case !s.has(since):
			return notFound()
		case !master:
			return sccError(http.StatusBadRequest, "INVALID_REQUEST", "monitoring data is available on the master instance only")
		}
		return http.StatusOK, "application/json", encodeJSON(v())
	}
	switch r.URL.Path {
	case "/api/v1/connector/version":
		if !s.has("2.14") {
			return notFound()
		}
		return http.StatusOK, "application/json", encodeJSON(map[string]string{"version": o.Version})
	case "/api/v1/configuration/connector/haRole":
		return http.StatusOK, "application/json", encodeJSON(o.Role)
	case "/api/v1/configuration/connector":
		return http.StatusOK, "application/json", encodeJSON(map[string]string{"ha": o.Role, "description": o.Name})
	case "/api/v1/configuration/connector/ha/master/state":
		if !master {
			return sccError(http.StatusBadRequest, "INVALID_REQUEST", "not a master instance")
		}
		return http.StatusOK, "application/json", encodeJSON(map[string]any{"state": o.MasterState, "shadowHost": o.ShadowHost})
	case "/api/v1/configuration/connector/ha/shadow/state":
		if master {
			return sccError(http.StatusForbidden, "FORBIDDEN_REQUEST", "not a shadow instance")
		}
		return http.StatusOK, "application/json", encodeJSON(map[string]any{"state": o.ShadowState, "ownHosts": o.OwnHosts, "stateMessage": ""})
	case "/api/monitoring/subaccounts":
		return monitoring("2.10", s.subaccounts)
	case "/api/monitoring/connections/backends":
		return monitoring("2.10", s.backendConnections)
	case "/api/monitoring/performance/backends":
		return monitoring("2.10", s.performance)
	case "/api/monitoring/memory":
		return monitoring("2.13", func() any {
			return map[string]any{"physicalKB": map[string]int64{"total": 16777216, "CloudConnector": 2097152, "others": 8388608, "free": 6291456},
				"virtualKB":            map[string]int64{"total": 33554432, "CloudConnector": 4194304, "others": 12582912, "free": 16777216},
				"cloudConnectorHeapKB": map[string]int64{"total": o.HeapKB[0], "used": o.HeapKB[1], "free": o.HeapKB[0] - o.HeapKB[1]}}
		})
	case "/api/monitoring/disk":
		return monitoring("2.17", func() any {
			return map[string]int64{"total": o.DiskMB[0], "CloudConnector": 900, "others": o.DiskMB[0] - o.DiskMB[1] - 900, "free": o.DiskMB[1]}
		})
	case "/api/monitoring/cpu":
		return monitoring("2.17", func() any { return map[string]float64{"total": o.CPU[0], "CloudConnector": o.CPU[1]} })
	case "/api/monitoring/certificates":
		return monitoring("2.13", s.certificates)
	case "/api/monitoring/alerts":
		return monitoring("2.19", func() any {
			list := []map[string]any{}
			for _, a := range o.Alerts {
				list = append(list, map[string]any{"timestamp": a.Time.UnixMilli(), "status": a.Status, "type": a.Type, "origin": "Master", "message": a.Message, "entity": a.Entity})
			}
			if o.AlertsBare {
				return list
			}
			return map[string]any{"alerts": list, "version": 1}
		})
	}
	return notFound()
}

func basicAuth(r *http.Request) (user, pw string, ok bool) {
	h := r.Header.Get("Authorization")
	raw, found := strings.CutPrefix(h, "Basic ")
	if !found {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", "", false
	}
	user, pw, ok = strings.Cut(string(dec), ":")
	return user, pw, ok
}

func (s *SCC) subaccounts() any {
	list := []map[string]any{}
	for _, sa := range s.opts.Subaccounts {
		tunnel := map[string]any{"state": sa.TunnelState, "connections": sa.Connections, "user": sa.User,
			"applicationConnections": []map[string]any{{"name": "app-" + sa.DisplayName, "type": "JAVA", "connectionCount": sa.Connections}},
			"serviceChannels":        []any{},
			"subaccountCertificate": map[string]any{"notBeforeTimeStamp": sa.CertNotAfter.AddDate(-1, 0, 0).UnixMilli(), "notAfterTimeStamp": sa.CertNotAfter.UnixMilli(),
				"subjectDN": "CN=" + sa.ID + ",L=" + sa.Region + ",OU=SAP Cloud Platform Clients,O=SAP SE,C=DE", "issuer": "CN=SAP Cloud Platform Client CA,O=SAP SE,C=DE"}}
		if !sa.ConnectedSince.IsZero() && sa.TunnelState != "ConnectFailure" {
			if s.opts.OldDateFormat {
				tunnel["connectedSince"] = sa.ConnectedSince.In(time.FixedZone("CET", 3600)).Format("2006-01-02T15:04:05.000 -0700")
			} else {
				tunnel["connectedSinceTimeStamp"] = sa.ConnectedSince.UnixMilli()
			}
		}
		item := map[string]any{"regionHost": sa.Region, "subaccount": sa.ID, "displayName": sa.DisplayName, "description": "",
			"tunnel": tunnel, "customAttribute": "kept"}
		if sa.LocationID != "" {
			item["locationID"] = sa.LocationID
		}
		list = append(list, item)
	}
	return map[string]any{"subaccounts": list, "version": 1}
}

func (s *SCC) region(id string) string {
	for _, sa := range s.opts.Subaccounts {
		if sa.ID == id {
			return sa.Region
		}
	}
	return ""
}

// perSubaccount groups the back ends by subaccount, in first-seen order: each subaccount's
// object (with more from head) holds the items under key.
func (s *SCC) perSubaccount(key string, head func(id string) map[string]any, item func(b SCCBackend) map[string]any) any {
	bySub := map[string][]map[string]any{}
	var order []string
	for _, b := range s.opts.Backends {
		if _, ok := bySub[b.SubaccountID]; !ok {
			order = append(order, b.SubaccountID)
		}
		bySub[b.SubaccountID] = append(bySub[b.SubaccountID], item(b))
	}
	list := []map[string]any{}
	for _, id := range order {
		sub := head(id)
		sub["regionHost"], sub["subaccount"], sub[key] = s.region(id), id, bySub[id]
		list = append(list, sub)
	}
	return map[string]any{"subaccounts": list}
}

func (s *SCC) backendConnections() any {
	return s.perSubaccount("backendConnections", func(string) map[string]any { return map[string]any{} }, func(b SCCBackend) map[string]any {
		return map[string]any{"virtualBackend": fmt.Sprintf("%s:%d", b.VirtualHost, b.VirtualPort),
			"internalBackend": b.InternalHost, "protocol": b.Protocol, "idle": b.Idle, "active": b.Active}
	})
}

func (s *SCC) performance() any {
	head := func(string) map[string]any { return map[string]any{"sinceTime": "2026-11-01T00:00:00.000 +0000"} }
	return s.perSubaccount("backendPerformance", head, func(b SCCBackend) map[string]any {
		buckets := make([]map[string]int, len(SCCBucketsMs))
		for i, ms := range SCCBucketsMs {
			buckets[i] = map[string]int{"numberOfCalls": b.Calls[i], "minimumCallDurationMs": ms}
		}
		return map[string]any{"virtualHost": b.VirtualHost, "virtualPort": strconv.Itoa(b.VirtualPort), "protocol": b.Protocol, "buckets": buckets}
	})
}

func (s *SCC) certificates() any {
	out := map[string][]map[string]any{"expired": {}, "expiring": {}, "ok": {}}
	for _, c := range s.opts.Certificates {
		item := map[string]any{"type": c.Type, "validTo": c.NotAfter.UnixMilli()}
		if c.Type == "subaccount" {
			item["subaccountName"], item["subaccountRegion"] = c.SubaccountName, "cf.eu10.hana.ondemand.com"
		} else {
			item["subjectDN"], item["issuerDN"], item["serialNumber"] = c.Subject, "CN=ACME Corp CA", "4711"
		}
		status := cmpOr(c.Status, "ok")
		out[status] = append(out[status], item)
	}
	return out
}
