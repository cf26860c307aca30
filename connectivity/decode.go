package connectivity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The attribute names of the Cloud Connector info endpoint.
const (
	attrClientID         = "client_id"
	attrAgentType        = "agent_type"
	attrAgentVersion     = "agent_version"
	attrJavaVersion      = "java_version"
	attrJVMVendorVersion = "jvm_vendor_version"
	attrConnectedBy      = "connected_by"
	attrConnectedSince   = "connected_since"
	attrRecentStart      = "agent_recent_start_ms"
	attrSecurityStatus   = "security_status"
	attrExposedSystems   = "exposed_systems"
)

// locationKeys are the names a location ID attribute may carry. The API does not document one yet;
// whichever appears first is surfaced as Connector.LocationID (the others stay in Extra).
var locationKeys = []string{"location_id", "locationId", "location"}

// ErrMalformedResponse marks a response body that is not the documented JSON array.
var ErrMalformedResponse = errors.New("malformed Cloud Connector info response")

// DecodeConnectors decodes the body of the Cloud Connector info endpoint. It fails only when the
// document is not a JSON array of objects; every problem inside one connector's attributes is
// recorded on that connector instead. Connectors that report the same exposed systems (a
// high-availability master and its shadow) may share one ExposedSystems slice: treat the result
// as read-only.
func DecodeConnectors(body []byte) ([]Connector, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedResponse)
	}
	if trimmed[0] != '[' {
		return nil, fmt.Errorf("%w: expected a JSON array, got %s", ErrMalformedResponse, describeJSONStart(trimmed))
	}
	if connectors, ok := decodeConnectorsFast(trimmed); ok {
		return connectors, nil
	}
	return decodeConnectorsGeneral(trimmed)
}

// decodeConnectorsGeneral is DecodeConnectors for any document that starts with '['.
func decodeConnectorsGeneral(trimmed []byte) ([]Connector, error) {
	var elements []json.RawMessage
	if err := json.Unmarshal(trimmed, &elements); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	connectors := make([]Connector, 0, len(elements))
	for i, raw := range elements {
		attrs, problem := decodeElement(raw)
		c := decodeAttributes(attrs)
		if problem != "" {
			c.Problems = append([]Problem{{Attribute: "attributes", Message: problem}}, c.Problems...)
		}
		if c.ClientID == "" {
			c.Problems = append(c.Problems, Problem{Attribute: attrClientID, Message: fmt.Sprintf("missing; this is element %d of the response", i)})
		}
		connectors = append(connectors, c)
	}
	return connectors, nil
}

// decodeElement extracts the attributes of one array element as strings. Values that are not
// strings are kept as their JSON text so nothing is lost, and reported.
func decodeElement(raw json.RawMessage) (map[string]string, string) {
	var element struct {
		Attributes map[string]json.RawMessage `json:"attributes"`
	}
	if err := json.Unmarshal(raw, &element); err != nil {
		return nil, fmt.Sprintf("element is not an object with attributes: %s", describeJSONStart(raw))
	}
	if element.Attributes == nil {
		return nil, "element has no attributes object"
	}
	attrs := make(map[string]string, len(element.Attributes))
	var nonStrings []string
	for k, v := range element.Attributes {
		var s string // null leaves it empty, without an error
		if err := json.Unmarshal(v, &s); err == nil {
			attrs[k] = s
			continue
		}
		attrs[k] = string(v)
		nonStrings = append(nonStrings, k)
	}
	if len(nonStrings) > 0 {
		sort.Strings(nonStrings)
		return attrs, "attributes that are not strings (kept as JSON text): " + strings.Join(nonStrings, ", ")
	}
	return attrs, ""
}

// decodeAttributes turns the string attributes of one connector into a Connector.
func decodeAttributes(attrs map[string]string) Connector {
	c := Connector{
		ClientID:         attrs[attrClientID],
		AgentType:        attrs[attrAgentType],
		AgentVersion:     attrs[attrAgentVersion],
		JavaVersion:      attrs[attrJavaVersion],
		JVMVendorVersion: attrs[attrJVMVendorVersion],
		ConnectedBy:      attrs[attrConnectedBy],
	}
	report := func(attr, format string, args ...any) {
		c.Problems = append(c.Problems, Problem{Attribute: attr, Message: fmt.Sprintf(format, args...)})
	}

	if v, ok := attrs[attrConnectedSince]; ok {
		t, err := DecodeEpochMillis(v)
		if err != nil {
			report(attrConnectedSince, "%v", err)
		}
		c.ConnectedSince = t
	} else {
		report(attrConnectedSince, "missing")
	}
	if v, ok := attrs[attrRecentStart]; ok {
		t, err := DecodeEpochMillis(v)
		if err != nil {
			report(attrRecentStart, "%v", err)
		}
		c.RecentStart = t
	}
	if v, ok := attrs[attrSecurityStatus]; ok {
		s, err := DecodeSecurityStatus(v)
		if err != nil {
			report(attrSecurityStatus, "%v", err)
		}
		c.Security = s
	} else {
		report(attrSecurityStatus, "missing: the security status is unknown")
	}
	if v, ok := attrs[attrExposedSystems]; ok {
		systems, err := DecodeExposedSystems(v)
		if err != nil {
			report(attrExposedSystems, "%v", err)
		}
		c.ExposedSystems = systems
	}

	for k, v := range attrs {
		if isKnownAttribute(k) {
			continue
		}
		if c.Extra == nil {
			c.Extra = make(map[string]string)
		}
		c.Extra[k] = v
	}
	for _, k := range locationKeys {
		if v, ok := c.Extra[k]; ok {
			c.LocationID = v
			delete(c.Extra, k)
			break
		}
	}
	if len(c.Extra) == 0 {
		c.Extra = nil
	}
	return c
}

func isKnownAttribute(k string) bool {
	switch k {
	case attrClientID, attrAgentType, attrAgentVersion, attrJavaVersion, attrJVMVendorVersion,
		attrConnectedBy, attrConnectedSince, attrRecentStart, attrSecurityStatus, attrExposedSystems:
		return true
	}
	return false
}

// DecodeEpochMillis decodes an epoch-milliseconds string such as "1762174293176". An empty string
// decodes to the zero time without error; anything that is not a plausible timestamp is an error.
func DecodeEpochMillis(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an epoch-milliseconds timestamp: %s", quoteShort(s))
	}
	// Reject values outside year 1970..9999: they are corrupt, and time.Time would misformat them.
	const maxMillis = 253402300799999
	if ms <= 0 || ms > maxMillis {
		return time.Time{}, fmt.Errorf("timestamp out of range: %s", quoteShort(s))
	}
	return time.UnixMilli(ms).UTC(), nil
}

// DecodeSecurityStatus decodes the security_status attribute, a JSON object inside a string.
// On error it returns nil and a description of what is wrong.
func DecodeSecurityStatus(s string) (*SecurityStatus, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty: the security status is unknown")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("not a JSON object (%s): the security status is unknown", quoteShort(s))
	}
	status := &SecurityStatus{}
	values := make(map[string]Risk, len(raw))
	var bad []string
	for k, v := range raw {
		str, ok := v.(string)
		if !ok {
			str = fmt.Sprint(v)
			bad = append(bad, k)
		}
		values[k] = Risk(str)
	}
	summary, ok := values["summary"]
	if !ok {
		bad = append(bad, "summary")
	}
	status.Summary = summary
	delete(values, "summary")
	for _, known := range SecurityChecks {
		if v, ok := values[known.Key]; ok {
			status.Checks = append(status.Checks, Check{Key: known.Key, Status: v})
			delete(values, known.Key)
		}
	}
	unknown := make([]string, 0, len(values))
	for k := range values {
		unknown = append(unknown, k)
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		status.Checks = append(status.Checks, Check{Key: k, Status: values[k]})
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return status, fmt.Errorf("security status keys missing or not strings: %s", strings.Join(bad, ", "))
	}
	return status, nil
}

// DecodeExposedSystems decodes the exposed_systems attribute, a JSON array inside a string.
// Elements that are not objects are skipped and reported; an empty string means no systems.
func DecodeExposedSystems(s string) ([]ExposedSystem, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var scratch exposedScratch
	if systems, ok := decodeExposedSystemsFast([]byte(s), &scratch); ok {
		return systems, nil
	}
	return decodeExposedSystemsGeneral(s)
}

// decodeExposedSystemsGeneral is DecodeExposedSystems for any non-blank s.
func decodeExposedSystemsGeneral(s string) ([]ExposedSystem, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("not a JSON array (%s): the exposed systems are unknown", quoteShort(s))
	}
	systems := make([]ExposedSystem, 0, len(raw))
	var skipped int
	for _, r := range raw {
		var fields map[string]any
		if err := json.Unmarshal(r, &fields); err != nil || fields == nil {
			skipped++
			continue
		}
		sys := ExposedSystem{}
		for k, v := range fields {
			str, isString := v.(string)
			switch k {
			case "protocol":
				sys.Protocol = str
			case "host":
				sys.Host = str
			case "description":
				sys.Description = str
			case "type":
				sys.Type = str
			case "status":
				sys.Status = str
			default:
				isString = true
				if sys.Extra == nil {
					sys.Extra = make(map[string]any)
				}
				sys.Extra[k] = v
			}
			if !isString && v != nil {
				if sys.Extra == nil {
					sys.Extra = make(map[string]any)
				}
				sys.Extra[k] = v
			}
		}
		systems = append(systems, sys)
	}
	if skipped > 0 {
		return systems, fmt.Errorf("%d of %d exposed systems are not JSON objects and were skipped", skipped, len(raw))
	}
	return systems, nil
}

// quoteShort quotes a value for an error message, cut to a readable length and valid UTF-8.
func quoteShort(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// describeJSONStart names what kind of document b starts with, for error messages.
func describeJSONStart(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case '<':
		return "HTML or XML (" + quoteShort(string(b)) + ")"
	}
	return quoteShort(string(b))
}

// The fast paths.
//
// The Cloud Connector info of a large subaccount is big (about 17 MB for 1,000 connectors with
// 100 exposed systems each) and regular: an array of {"attributes": {...}} objects whose values
// are strings, exposed_systems itself an array of objects with five string members. The general
// path decodes it with encoding/json in several passes (each Unmarshal first checks its whole
// input, and every exposed system goes through a map[string]any). The fast paths read exactly
// that regular shape in one pass with a strict scanner and give up, returning ok == false, as
// soon as anything differs: another value type, an unknown or repeated member, a syntax error.
// The general path then decodes the input, so the result is always the one it would give;
// decode_fast_test.go checks that the two agree.

// jsonScanner reads JSON tokens from a document.
type jsonScanner struct {
	doc []byte
	pos int
}

// space skips JSON whitespace.
func (s *jsonScanner) space() {
	for s.pos < len(s.doc) {
		switch s.doc[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// take consumes c, after any whitespace, if it comes next.
func (s *jsonScanner) take(c byte) bool {
	s.space()
	if s.pos < len(s.doc) && s.doc[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// null consumes the literal null, after any whitespace, if it comes next.
func (s *jsonScanner) null() bool {
	s.space()
	if bytes.HasPrefix(s.doc[s.pos:], []byte("null")) {
		s.pos += 4
		return true
	}
	return false
}

// end reports whether nothing but whitespace is left.
func (s *jsonScanner) end() bool {
	s.space()
	return s.pos == len(s.doc)
}

// token consumes a string, after any whitespace, and returns the text between its quotes, still
// escaped, and whether it contains a backslash. ok is false if no string comes next or the string
// is cut off or holds a control character; escape sequences are checked when it is unquoted.
func (s *jsonScanner) token() (raw []byte, escaped, ok bool) {
	s.space()
	if s.pos >= len(s.doc) || s.doc[s.pos] != '"' {
		return nil, false, false
	}
	start := s.pos + 1
	for i := start; i < len(s.doc); i++ {
		if !stringSpecial[s.doc[i]] {
			continue
		}
		switch s.doc[i] {
		case '"':
			s.pos = i + 1
			return s.doc[start:i], escaped, true
		case '\\':
			escaped = true
			i++ // skip the escaped character; a quote there does not end the string
		default: // a control character
			return nil, false, false
		}
	}
	return nil, false, false
}

// stringSpecial marks the bytes that end a run of plain text in a JSON string.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// key consumes a member name, then the colon, and reports whether the name was name. A name
// written with escapes does not count.
func (s *jsonScanner) key(name string) bool {
	raw, escaped, ok := s.token()
	return ok && !escaped && string(raw) == name && s.take(':')
}

// unquote returns the value of a string token as encoding/json decodes it.
func unquote(raw []byte, escaped bool) (string, bool) {
	if !escaped && (isASCII(raw) || utf8.Valid(raw)) {
		return string(raw), true
	}
	value, ok := appendUnquoted(nil, raw)
	return string(value), ok
}

// appendUnquoted appends the value of a string token to dst, as encoding/json decodes it:
// escapes resolved, invalid UTF-8 replaced. \u escapes and invalid UTF-8 are rare, and left to
// encoding/json itself.
func appendUnquoted(dst, raw []byte) ([]byte, bool) {
	start := len(dst)
	for i := 0; i < len(raw); {
		j := i + bytes.IndexByte(raw[i:], '\\')
		if j < i {
			dst = append(dst, raw[i:]...)
			break
		}
		dst = append(dst, raw[i:j]...)
		if j+1 == len(raw) {
			return dst, false
		}
		switch c := raw[j+1]; c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		default: // \u (surrogate pairs and all) or an invalid escape
			return appendUnquotedJSON(dst[:start], raw)
		}
		i = j + 2
	}
	if value := dst[start:]; !isASCII(value) && !utf8.Valid(value) {
		return appendUnquotedJSON(dst[:start], raw)
	}
	return dst, true
}

// appendUnquotedJSON decodes a string token with encoding/json.
func appendUnquotedJSON(dst, raw []byte) ([]byte, bool) {
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(quoted, '"')
	quoted = append(quoted, raw...)
	quoted = append(quoted, '"')
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return dst, false
	}
	return append(dst, v...), true
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// decodeConnectorsFast is DecodeConnectors for a document of the regular shape: every element
// {"attributes": {...}} with string (or null) values only.
func decodeConnectorsFast(doc []byte) ([]Connector, bool) {
	s := &jsonScanner{doc: doc}
	if !s.take('[') {
		return nil, false
	}
	connectors := []Connector{}
	if s.take(']') {
		return connectors, s.end()
	}
	attrs := make(map[string]string, 16)
	shared := exposedCache{seed: maphash.MakeSeed()}
	for i := 0; ; i++ {
		clear(attrs)
		if !s.take('{') || !s.key("attributes") || !s.take('{') {
			return nil, false
		}
		// exposed_systems is decoded last, through shared, straight from its token.
		var exposed []byte
		hasExposed := false
		if !s.take('}') {
			for {
				raw, escaped, ok := s.token()
				if !ok || !s.take(':') {
					return nil, false
				}
				name, ok := attributeName(raw, escaped)
				if !ok {
					return nil, false
				}
				// The value's token, or nil for null: encoding/json leaves a string alone for null.
				raw, escaped = nil, false
				if !s.null() {
					if raw, escaped, ok = s.token(); !ok {
						return nil, false
					}
				}
				if name == attrExposedSystems {
					exposed, hasExposed = raw, true
				} else if attrs[name], ok = unquote(raw, escaped); !ok {
					return nil, false
				}
				if s.take(',') {
					continue
				}
				if s.take('}') {
					break
				}
				return nil, false
			}
		}
		if !s.take('}') {
			return nil, false
		}
		c := decodeAttributes(attrs)
		if hasExposed {
			// decodeAttributes reports exposed_systems last, so its problem goes last here too.
			decoded, ok := shared.decode(exposed)
			if !ok {
				return nil, false
			}
			c.ExposedSystems = decoded.systems
			if decoded.err != nil {
				c.Problems = append(c.Problems, Problem{Attribute: attrExposedSystems, Message: decoded.err.Error()})
			}
		}
		if c.ClientID == "" {
			c.Problems = append(c.Problems, Problem{Attribute: attrClientID, Message: fmt.Sprintf("missing; this is element %d of the response", i)})
		}
		connectors = append(connectors, c)
		if s.take(',') {
			continue
		}
		if s.take(']') {
			break
		}
		return nil, false
	}
	return connectors, s.end()
}

// attributeName returns an attribute name, the constant itself for a known one.
func attributeName(raw []byte, escaped bool) (string, bool) {
	if !escaped {
		switch string(raw) {
		case attrClientID:
			return attrClientID, true
		case attrAgentType:
			return attrAgentType, true
		case attrAgentVersion:
			return attrAgentVersion, true
		case attrJavaVersion:
			return attrJavaVersion, true
		case attrJVMVendorVersion:
			return attrJVMVendorVersion, true
		case attrConnectedBy:
			return attrConnectedBy, true
		case attrConnectedSince:
			return attrConnectedSince, true
		case attrRecentStart:
			return attrRecentStart, true
		case attrSecurityStatus:
			return attrSecurityStatus, true
		case attrExposedSystems:
			return attrExposedSystems, true
		}
	}
	return unquote(raw, escaped)
}

// exposedCache decodes the exposed_systems values of one document, each distinct value once: a
// high-availability shadow reports the same systems as its master, and the two connectors then
// share one ExposedSystems slice (and half the memory). Values are told apart by their text in
// the document, so the cache holds no copies; scratch buffers are reused from one value to the
// next.
type exposedCache struct {
	seed    maphash.Seed
	items   map[uint64][]exposedItem
	value   []byte // the unquoted value being decoded
	scratch exposedScratch
}

type exposedItem struct {
	raw     []byte // the value's token in the document, still escaped
	systems []ExposedSystem
	err     error
}

// decode is DecodeExposedSystems for a string token of the document (nil for null), its result
// in the item; ok is false if the token is not a valid string.
func (c *exposedCache) decode(raw []byte) (item exposedItem, ok bool) {
	h := maphash.Bytes(c.seed, raw)
	for _, item := range c.items[h] {
		if bytes.Equal(item.raw, raw) {
			return item, true
		}
	}
	if c.value, ok = appendUnquoted(c.value[:0], raw); !ok {
		return item, false
	}
	if len(bytes.TrimSpace(c.value)) == 0 { // blank: no systems, as in DecodeExposedSystems
		return item, true
	}
	item.raw = raw
	var fast bool
	if item.systems, fast = decodeExposedSystemsFast(c.value, &c.scratch); !fast {
		item.systems, item.err = decodeExposedSystemsGeneral(string(c.value))
	}
	if len(item.systems) > 0 || item.err != nil {
		if c.items == nil {
			c.items = make(map[uint64][]exposedItem)
		}
		c.items[h] = append(c.items[h], item)
	}
	return item, true
}

// The members of an exposed system the fast path knows, as bits.
const (
	memberProtocol = 1 << iota
	memberHost
	memberDescription
	memberType
	memberStatus
)

// commonValues holds the protocol, type and status values every system repeats, so that
// 100,000 systems share a few strings instead of holding 300,000 copies.
var commonValues = func() map[string]string {
	m := map[string]string{"exposed": "exposed"}
	for _, v := range Protocols {
		m[v] = v
	}
	for _, v := range BackendTypes {
		m[v] = v
	}
	return m
}()

// exposedScratch are buffers decodeExposedSystemsFast reuses from one call to the next.
type exposedScratch struct {
	text   []byte // hosts and descriptions
	bounds []int  // where each host and description ends in text
}

// decodeExposedSystemsFast is DecodeExposedSystems for an array of objects whose members are
// among protocol, host, description, type and status, each at most once, with string (or null)
// values. The hosts and descriptions of all systems share one string.
func decodeExposedSystemsFast(doc []byte, scratch *exposedScratch) ([]ExposedSystem, bool) {
	s := &jsonScanner{doc: doc}
	if !s.take('[') {
		return nil, false
	}
	text, bounds := scratch.text[:0], scratch.bounds[:0]
	defer func() { scratch.text, scratch.bounds = text, bounds }()
	// Every system is an object: the opening braces bound their number.
	systems := make([]ExposedSystem, 0, bytes.Count(doc, []byte("{")))
	if s.take(']') {
		return systems, s.end()
	}
	for {
		if !s.take('{') {
			return nil, false
		}
		var sys ExposedSystem
		var host, desc []byte // tokens, still escaped
		var seen int
		if !s.take('}') {
			for {
				raw, escaped, ok := s.token()
				if !ok || escaped || !s.take(':') {
					return nil, false
				}
				var member int
				switch string(raw) {
				case "protocol":
					member = memberProtocol
				case "host":
					member = memberHost
				case "description":
					member = memberDescription
				case "type":
					member = memberType
				case "status":
					member = memberStatus
				default:
					return nil, false
				}
				if seen&member != 0 {
					return nil, false
				}
				seen |= member
				var value []byte // nil for null, which leaves the field empty
				if !s.null() {
					if value, escaped, ok = s.token(); !ok {
						return nil, false
					}
				}
				switch member {
				case memberHost:
					host = value
				case memberDescription:
					desc = value
				default:
					str, common := commonValues[string(value)]
					if !common || escaped {
						if str, ok = unquote(value, escaped); !ok {
							return nil, false
						}
					}
					switch member {
					case memberProtocol:
						sys.Protocol = str
					case memberType:
						sys.Type = str
					case memberStatus:
						sys.Status = str
					}
				}
				if s.take(',') {
					continue
				}
				if s.take('}') {
					break
				}
				return nil, false
			}
		}
		var ok bool
		if text, ok = appendUnquoted(text, host); !ok {
			return nil, false
		}
		bounds = append(bounds, len(text))
		if text, ok = appendUnquoted(text, desc); !ok {
			return nil, false
		}
		bounds = append(bounds, len(text))
		systems = append(systems, sys)
		if s.take(',') {
			continue
		}
		if s.take(']') {
			break
		}
		return nil, false
	}
	if !s.end() {
		return nil, false
	}
	if cap(systems) > len(systems)+len(systems)/8+4 { // braces inside strings: do not keep the slack
		systems = append([]ExposedSystem(nil), systems...)
	}
	all := string(text)
	start := 0
	for i := range systems {
		hostEnd, descEnd := bounds[2*i], bounds[2*i+1]
		systems[i].Host = all[start:hostEnd]
		systems[i].Description = all[hostEnd:descEnd]
		start = descEnd
	}
	return systems, true
}
