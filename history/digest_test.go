package history

import (
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// TestDigestCoversEveryField changes each field of a connector in turn: every change must move
// the digest, or Record would keep a stale state for it.
func TestDigestCoversEveryField(t *testing.T) {
	t.Parallel()
	edits := map[string]func(c *connectivity.Connector){
		"ClientID":         func(c *connectivity.Connector) { c.ClientID = "x" },
		"AgentType":        func(c *connectivity.Connector) { c.AgentType = "shadow" },
		"AgentVersion":     func(c *connectivity.Connector) { c.AgentVersion = "x" },
		"JavaVersion":      func(c *connectivity.Connector) { c.JavaVersion = "x" },
		"JVMVendorVersion": func(c *connectivity.Connector) { c.JVMVendorVersion = "x" },
		"ConnectedBy":      func(c *connectivity.Connector) { c.ConnectedBy = "x" },
		"LocationID":       func(c *connectivity.Connector) { c.LocationID = "x" },
		"ConnectedSince":   func(c *connectivity.Connector) { c.ConnectedSince = c.ConnectedSince.Add(time.Millisecond) },
		"RecentStart":      func(c *connectivity.Connector) { c.RecentStart = time.Time{} },
		"Security nil":     func(c *connectivity.Connector) { c.Security = nil },
		"Security summary": func(c *connectivity.Connector) {
			c.Security = &connectivity.SecurityStatus{Summary: "ok", Checks: c.Security.Checks}
		},
		"Security check": func(c *connectivity.Connector) {
			c.Security = &connectivity.SecurityStatus{Summary: c.Security.Summary, Checks: []connectivity.Check{{Key: "ciphers", Status: "ok"}}}
		},
		"Extra":    func(c *connectivity.Connector) { c.Extra = map[string]string{"a": "b"} },
		"Problems": func(c *connectivity.Connector) { c.Problems = []connectivity.Problem{{Attribute: "a", Message: "b"}} },
		"System": func(c *connectivity.Connector) {
			c.ExposedSystems = []connectivity.ExposedSystem{{Protocol: "RFC", Host: "erp:443"}}
		},
		"System extra": func(c *connectivity.Connector) {
			c.ExposedSystems = []connectivity.ExposedSystem{c.ExposedSystems[0]}
			c.ExposedSystems[0].Extra = map[string]any{"sid": "ERP"}
		},
		"no systems": func(c *connectivity.Connector) { c.ExposedSystems = nil },
	}
	base := connector("c1")
	var d digester
	want := d.connector(&base)
	for name, edit := range edits {
		c := connector("c1")
		edit(&c)
		if got := d.connector(&c); got == want {
			t.Errorf("changing %s leaves the digest unchanged", name)
		}
	}
	again := connector("c1")
	if got := d.connector(&again); got != want {
		t.Errorf("equal connectors digest differently: %s, %s", got, want)
	}
}
