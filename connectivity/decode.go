package connectivity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
// recorded on that connector instead.
func DecodeConnectors(body []byte) ([]Connector, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedResponse)
	}
	if trimmed[0] != '[' {
		return nil, fmt.Errorf("%w: expected a JSON array, got %s", ErrMalformedResponse, describeJSONStart(trimmed))
	}
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
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			attrs[k] = s
			continue
		}
		if string(bytes.TrimSpace(v)) == "null" {
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
