package history

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// digester hashes connectors without encoding JSON, so that an unchanged connector of a large
// landscape costs a hash, not an encoding. It covers every field of the Connector; a master and
// its shadow often share one exposed-systems slice, which is hashed once.
type digester struct {
	buf     []byte
	systems map[*connectivity.ExposedSystem][sha256.Size]byte
}

func (d *digester) connector(c *connectivity.Connector) string {
	b := appendStrings(d.buf[:0], c.ClientID, c.AgentType, c.AgentVersion, c.JavaVersion, c.JVMVendorVersion, c.ConnectedBy, c.LocationID)
	b = appendTime(appendTime(b, c.ConnectedSince), c.RecentStart)
	if c.Security != nil {
		b = appendStrings(b, "security", string(c.Security.Summary))
		for _, ch := range c.Security.Checks {
			b = appendStrings(b, ch.Key, string(ch.Status))
		}
	}
	b = appendStrings(b, "extra")
	for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
		b = appendStrings(b, k, c.Extra[k])
	}
	b = appendStrings(b, "problems")
	for _, p := range c.Problems {
		b = appendStrings(b, p.Attribute, p.Message)
	}
	b = appendStrings(b, "systems")
	if len(c.ExposedSystems) > 0 {
		sum := d.exposed(c.ExposedSystems)
		b = append(b, sum[:]...)
	}
	d.buf = b
	return hash(b)
}

func (d *digester) exposed(list []connectivity.ExposedSystem) [sha256.Size]byte {
	if sum, ok := d.systems[&list[0]]; ok && len(list) == cap(list) {
		return sum
	}
	var b []byte
	for _, s := range list {
		b = appendStrings(b, s.Protocol, s.Host, s.Description, s.Type, s.Status)
		if len(s.Extra) > 0 {
			extra, _ := json.Marshal(s.Extra) // sorted keys; values came from JSON
			b = append(b, extra...)
		}
	}
	sum := sha256.Sum256(b)
	if d.systems == nil {
		d.systems = map[*connectivity.ExposedSystem][sha256.Size]byte{}
	}
	if len(list) == cap(list) { // a full slice cannot be a prefix of another that shares its array
		d.systems[&list[0]] = sum
	}
	return sum
}

func appendStrings(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t.UnixNano())
}

// hashFindings is the hash of the JSON of findings, encoded one at a time: 30,000 findings are
// never one document in memory.
func hashFindings(findings []Finding) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, f := range findings {
		_ = enc.Encode(f) // plain strings always encode
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}
