package connectivity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/buger/jsonparser"
)

// locationKeys are the names a location ID attribute may carry. The API does not document one yet;
// whichever appears first is surfaced as Connector.LocationID (the others stay in Extra).
var locationKeys = [...]string{"location_id", "locationId", "location"}

// checkKeys are the keys of security_status in the order the documentation gives them.
var checkKeys = [...]string{"ui_certificate", "ciphers", "trust_store", "authentication_type", "cpic_trace", "payload_trace", "application_whitelist"}

// ErrMalformedResponse marks a response body that is not the documented JSON array.
var ErrMalformedResponse = errors.New("malformed Cloud Connector info response")

// DecodeConnectors decodes a whole body of the Cloud Connector info endpoint (see Reader).
func DecodeConnectors(body []byte) ([]Connector, error) {
	return NewReader().Decode(bytes.NewReader(body))
}

// Reader decodes the successive answers of one subaccount's Cloud Connector info endpoint. It
// fails only when a document is not a JSON array (or r fails); every problem inside one element
// is recorded on its connector instead. Connectors that report the same exposed systems (a
// high-availability master and its shadow) share one ExposedSystems slice, and a connector
// whose element is the same text as in the previous answer is that connector again, sharing its
// memory: treat the result as read-only.
//
// It splits the array into its elements as the bytes arrive, so a body of many megabytes is never
// held whole, and reads each element in place with github.com/buger/jsonparser: the attribute
// values are JSON inside JSON strings, and typed decoders copy and allocate far more
// (docs/performance.md). It is safe for concurrent use.
type Reader struct {
	seeds [2]maphash.Seed
	mu    sync.Mutex
	prev  map[digest]Connector // the previous answer's connectors, by their element's text
	last  answer               // the previous answer
}

// answer is what an answer decoded to, and the digests of its elements in order.
type answer struct {
	connectors []Connector
	order      []digest
}

// digest identifies a text: two 64-bit hashes under seeds of the process's own.
type digest [2]uint64

// NewReader returns a Reader that has seen no answer yet.
func NewReader() *Reader {
	return &Reader{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

func (r *Reader) digest(b []byte) digest {
	return digest{maphash.Bytes(r.seeds[0], b), maphash.Bytes(r.seeds[1], b)}
}

// Decode decodes the answer read from body. An error of body itself is returned as it is. An
// answer that is the previous one again, element by element, decodes to the very same slice.
func (r *Reader) Decode(body io.Reader) ([]Connector, error) {
	r.mu.Lock()
	prev, last := r.prev, r.last
	r.mu.Unlock()
	var order []digest // of the elements
	e := elements{r: body, buf: make([]byte, 64<<10)}
	d := decoder{reader: r, shared: map[digest]sharedSystems{}, interned: map[string]string{}}
	next := make(map[digest]Connector, len(prev))
	connectors := []Connector{}
	err := e.each(func(elem []byte) {
		key := r.digest(elem)
		order = append(order, key)
		c, ok := prev[key]
		if !ok {
			_, typ, _, _ := jsonparser.Get(elem)
			c = d.connector(elem, typ, len(connectors))
		}
		if c.ClientID != "" { // a problem of a connector without one names its place
			next[key] = c
		}
		connectors = append(connectors, c)
	})
	if err != nil {
		return nil, err
	}
	if len(order) > 0 && slices.Equal(order, last.order) {
		connectors = last.connectors
	}
	r.mu.Lock()
	r.prev, r.last = next, answer{connectors, order}
	r.mu.Unlock()
	return connectors, nil
}

// elements splits a JSON array into the text of its elements as the bytes arrive. Like
// jsonparser.ArrayEach, it finds where an element ends by its brackets and strings alone: a
// syntax error inside an element is that element's problem, not the document's.
type elements struct {
	r    io.Reader
	buf  []byte // what is read at once
	rest []byte // of buf, what is not scanned yet
	err  error  // of the last read of r
	elem []byte // the element being read, reused for the next
}

// next returns the next byte of the document; false at its end or when r failed.
func (e *elements) next() (byte, bool) {
	if len(e.rest) == 0 && !e.fill() {
		return 0, false
	}
	c := e.rest[0]
	e.rest = e.rest[1:]
	return c, true
}

// fill reads the next chunk of the document into e.rest.
func (e *elements) fill() bool {
	for e.err == nil {
		var n int
		n, e.err = e.r.Read(e.buf)
		if e.rest = e.buf[:n]; n > 0 {
			return true
		}
	}
	return false
}

// skip returns the next byte that is not white space.
func (e *elements) skip() (byte, bool) {
	for {
		if c, ok := e.next(); !ok || (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			return c, ok
		}
	}
}

// each calls f with the text of every element of the array, in order; the text is only valid
// during the call.
func (e *elements) each(f func(elem []byte)) error {
	c, ok := e.skip()
	if !ok || c != '[' {
		doc := []byte{}
		for ok && len(doc) < 80 {
			doc = append(doc, c)
			c, ok = e.next()
		}
		kind := ""
		if len(doc) > 0 {
			kind = map[byte]string{'{': "a JSON object, ", '<': "HTML or XML, "}[doc[0]]
		}
		return e.fail(fmt.Errorf("%w: expected a JSON array, got %s%s", ErrMalformedResponse, kind, quoteShort(string(doc))))
	}
	c, ok = e.skip()
	empty := ok && c == ']'
	for n := 0; !empty; n++ {
		if !ok || c == ',' || c == ']' {
			return e.fail(fmt.Errorf("%w: the array breaks off before element %d", ErrMalformedResponse, n))
		}
		if c, ok = e.element(c); !ok {
			return e.fail(fmt.Errorf("%w: the array breaks off in element %d", ErrMalformedResponse, n))
		}
		f(e.elem)
		if c == ']' {
			break
		}
		if c != ',' {
			return e.fail(fmt.Errorf("%w: a comma or the end of the array must follow element %d", ErrMalformedResponse, n))
		}
		c, ok = e.skip()
	}
	if _, ok := e.skip(); ok {
		return e.fail(fmt.Errorf("%w: text after the array", ErrMalformedResponse))
	}
	return e.fail(nil)
}

// element reads into e.elem the element that starts with c, and returns the first byte after it
// that is not white space; false when the document ends first. It scans what was read in place.
func (e *elements) element(c byte) (byte, bool) {
	e.elem = append(e.elem[:0], c)
	depth, inString, escaped := 0, c == '"', false
	if c == '{' || c == '[' {
		depth = 1
	}
	for {
		if len(e.rest) == 0 && !e.fill() {
			return 0, false
		}
		i, end := 0, false
	scan:
		for ; i < len(e.rest); i++ {
			switch c := e.rest[i]; {
			case inString:
				inString, escaped = escaped || c != '"', !escaped && c == '\\'
				if !inString && depth == 0 { // the end of a string
					i, end = i+1, true
					break scan
				}
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case depth == 0: // the end of a number or literal: a comma, the array's end or space
				if c == ',' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
					end = true
					break scan
				}
			case c == '}' || c == ']':
				if depth--; depth == 0 {
					i, end = i+1, true
					break scan
				}
			}
		}
		e.elem = append(e.elem, e.rest[:i]...)
		if e.rest = e.rest[i:]; end {
			return e.skip()
		}
	}
}

// fail returns the error of the document: r's own when r failed, else err.
func (e *elements) fail(err error) error {
	if e.err != nil && e.err != io.EOF {
		return e.err
	}
	return err
}

// decoder holds what one answer's decoding reuses from one connector to the next.
type decoder struct {
	reader   *Reader
	shared   map[digest]sharedSystems // decoded exposed_systems values by their text
	interned map[string]string        // attribute names; protocol, type and status values
	buf      []byte                   // the string being unescaped
}

// sharedSystems is one decoded exposed_systems value.
type sharedSystems struct {
	systems []ExposedSystem
	err     error
}

// connector decodes the i-th element of the array, of JSON type typ.
func (d *decoder) connector(elem []byte, typ jsonparser.ValueType, i int) Connector {
	var c Connector
	if typ != jsonparser.Object {
		elem = nil // the problems of missing attributes
	}
	problem, err := d.attributes(&c, elem, "attributes")
	if err != nil {
		problem = misshapen(elem, typ, err)
	}
	if problem != "" {
		c.Problems = append([]Problem{{Attribute: "attributes", Message: problem}}, c.Problems...)
	}
	if c.ClientID == "" {
		c.report("client_id", "missing; this is element %d of the response", i)
	}
	return c
}

// misshapen says what is wrong with an element that is not {"attributes": {...}}, err being what
// reading it as one gave.
func misshapen(elem []byte, typ jsonparser.ValueType, err error) string {
	if typ != jsonparser.Object {
		return "element is not an object with attributes: a JSON " + typ.String()
	}
	switch _, t, _, _ := jsonparser.Get(elem, "attributes"); t {
	case jsonparser.NotExist, jsonparser.Null:
		return "element has no attributes object"
	case jsonparser.Object:
		return "attributes are not a valid JSON object: " + err.Error()
	default:
		return "element is not an object with attributes: its attributes are a JSON " + t.String()
	}
}

// attributes decodes the attributes object at the key path in data into c. It returns a problem
// with the object as a whole, if any (values that are not strings are kept as their JSON text,
// and named there), and the error of an object it could not read to its end.
func (d *decoder) attributes(c *Connector, data []byte, keys ...string) (string, error) {
	attrs := make(map[string]string, 12)
	var exposed []byte
	exposedType := jsonparser.NotExist
	var notStrings []string
	err := jsonparser.ObjectEach(data, func(key, value []byte, typ jsonparser.ValueType, _ int) error {
		if string(key) == "exposed_systems" { // decoded last, and once for a master and its shadow
			exposed, exposedType = value, typ
			if typ != jsonparser.String && typ != jsonparser.Null {
				notStrings = append(notStrings, "exposed_systems")
			}
			return nil
		}
		s, ok := d.text(value, typ)
		if !ok {
			notStrings = append(notStrings, validString(key))
		}
		attrs[intern(d.interned, key)] = s
		return nil
	}, keys...)

	take := func(name string) (v string, ok bool) {
		v, ok = attrs[name]
		delete(attrs, name)
		return v, ok
	}
	c.ClientID, _ = take("client_id")
	if v, ok := take("agent_type"); !ok {
		c.report("agent_type", "missing: the high-availability role is unknown")
	} else if c.AgentType = v; !c.IsMaster() && !c.IsShadow() {
		c.report("agent_type", "%q is neither master nor shadow: the high-availability role is unknown", v)
	}
	c.AgentVersion, _ = take("agent_version")
	c.JavaVersion, _ = take("java_version")
	c.JVMVendorVersion, _ = take("jvm_vendor_version")
	c.ConnectedBy, _ = take("connected_by")
	var bad error
	if v, ok := take("connected_since"); !ok {
		c.report("connected_since", "missing")
	} else if c.ConnectedSince, bad = decodeEpochMillis(v); bad != nil {
		c.report("connected_since", "%v", bad)
	}
	if v, ok := take("agent_recent_start_ms"); ok {
		if c.RecentStart, bad = decodeEpochMillis(v); bad != nil {
			c.report("agent_recent_start_ms", "%v", bad)
		}
	}
	if v, ok := take("security_status"); !ok {
		c.report("security_status", "missing: the security status is unknown")
	} else if c.Security, bad = decodeSecurityStatus([]byte(v)); bad != nil {
		c.report("security_status", "%v", bad)
	}
	if exposedType != jsonparser.NotExist {
		if c.ExposedSystems, bad = d.exposedSystems(exposed, exposedType); bad != nil {
			c.report("exposed_systems", "%v", bad)
		}
	}
	for _, k := range locationKeys {
		if v, ok := take(k); ok {
			c.LocationID = v
			break
		}
	}
	if len(attrs) > 0 {
		c.Extra = attrs
	}
	if len(notStrings) == 0 {
		return "", err
	}
	slices.Sort(notStrings)
	return "attributes that are not strings (kept as JSON text): " + strings.Join(slices.Compact(notStrings), ", "), err
}

// report records a problem with an attribute of c.
func (c *Connector) report(attr, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Attribute: attr, Message: fmt.Sprintf(format, args...)})
}

// text returns an attribute value of JSON type typ as a string: a string's value, empty for null,
// and the JSON text of anything else, with ok false.
func (d *decoder) text(value []byte, typ jsonparser.ValueType) (s string, ok bool) {
	switch typ {
	case jsonparser.String:
		if u, ok := unquote(value, d.grow(len(value))); ok {
			return string(u), true
		}
		return `"` + validString(value) + `"`, false // an invalid escape
	case jsonparser.Null: // as encoding/json decodes null into a string
		return "", true
	}
	return validString(value), false
}

// grow returns the decoder's buffer with room for n bytes; what it held before is lost.
func (d *decoder) grow(n int) []byte {
	d.buf = slices.Grow(d.buf[:0], n)
	return d.buf
}

// exposedSystems is decodeExposedSystems for an exposed_systems value of JSON type typ, each
// distinct value decoded once: a high-availability shadow reports the same systems as its master,
// and the two then share one slice (and half the memory).
func (d *decoder) exposedSystems(value []byte, typ jsonparser.ValueType) ([]ExposedSystem, error) {
	h := d.reader.digest(value)
	if s, ok := d.shared[h]; ok {
		return s.systems, s.err
	}
	text := value // the JSON text of a value that is not a string
	switch typ {
	case jsonparser.Null:
		return nil, nil
	case jsonparser.String:
		var ok bool
		if text, ok = unquote(value, d.grow(len(value))); !ok {
			return nil, errors.New("not a valid JSON string: the exposed systems are unknown")
		}
	}
	systems, err := decodeExposedSystems(text, d.interned)
	d.shared[h] = sharedSystems{systems, err}
	return systems, err
}

// decodeEpochMillis decodes an epoch-milliseconds string such as "1762174293176". An empty string
// decodes to the zero time without error; anything that is not a plausible timestamp is an error.
func decodeEpochMillis(s string) (time.Time, error) {
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

// decodeSecurityStatus decodes the security_status attribute, a JSON object inside a string.
// It returns nil when s is not an object, and a status with an error when some keys are missing
// or not strings.
func decodeSecurityStatus(s []byte) (*SecurityStatus, error) {
	if s = bytes.TrimSpace(s); len(s) == 0 {
		return nil, errors.New("empty: the security status is unknown")
	}
	values := make(map[string]Risk, len(checkKeys)+1)
	var bad []string
	err := jsonparser.ObjectEach(s, func(key, value []byte, typ jsonparser.ValueType, _ int) error {
		u, ok := unquote(value, nil)
		if typ != jsonparser.String || !ok {
			u = value
			bad = append(bad, validString(key))
		}
		values[validString(key)] = Risk(validString(u))
		return nil
	})
	if err != nil || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("not a JSON object (%s): the security status is unknown", quoteShort(string(s)))
	}
	status := &SecurityStatus{}
	var ok bool
	if status.Summary, ok = values["summary"]; !ok {
		bad = append(bad, "summary")
	}
	delete(values, "summary")
	for _, k := range checkKeys {
		if v, ok := values[k]; ok {
			status.Checks = append(status.Checks, Check{Key: k, Status: v})
			delete(values, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		status.Checks = append(status.Checks, Check{Key: k, Status: values[k]})
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return status, fmt.Errorf("security status keys missing or not strings: %s", strings.Join(slices.Compact(bad), ", "))
	}
	return status, nil
}

// decodeExposedSystems decodes the exposed_systems attribute, a JSON array inside a string.
// Elements that are not objects are skipped and reported; an empty string means no systems.
// Protocol, type and status values are shared through interned.
func decodeExposedSystems(s []byte, interned map[string]string) ([]ExposedSystem, error) {
	if s = bytes.TrimSpace(s); len(s) == 0 {
		return nil, nil
	}
	// Every system is an object: the opening braces bound their number.
	systems := make([]ExposedSystem, 0, bytes.Count(s, []byte("{")))
	var total int
	end, err := jsonparser.ArrayEach(s, func(value []byte, typ jsonparser.ValueType, _ int, _ error) {
		total++
		if sys, ok := decodeExposedSystem(value, typ, interned); ok {
			systems = append(systems, sys)
		}
	})
	if err != nil || s[0] != '[' || end != len(s)-1 {
		return nil, fmt.Errorf("not a JSON array (%s): the exposed systems are unknown", quoteShort(string(s[:min(len(s), 80)])))
	}
	if skipped := total - len(systems); skipped > 0 {
		return systems, fmt.Errorf("%d of %d exposed systems are not JSON objects and were skipped", skipped, total)
	}
	return systems, nil
}

// decodeExposedSystem decodes one element of exposed_systems; ok is false if it is not a valid
// object. Members this version does not know, and known ones that are not strings, go to Extra.
func decodeExposedSystem(value []byte, typ jsonparser.ValueType, interned map[string]string) (sys ExposedSystem, ok bool) {
	if typ != jsonparser.Object {
		return sys, false
	}
	err := jsonparser.ObjectEach(value, func(key, value []byte, typ jsonparser.ValueType, _ int) error {
		var field *string
		switch string(key) {
		case "protocol":
			field = &sys.Protocol
		case "host":
			field = &sys.Host
		case "description":
			field = &sys.Description
		case "type":
			field = &sys.Type
		case "status":
			field = &sys.Status
		}
		var v any
		switch {
		case typ == jsonparser.String:
			var stack [64]byte
			u, ok := unquote(value, stack[:])
			switch {
			case !ok:
				return jsonparser.MalformedStringEscapeError
			case field == &sys.Host || field == &sys.Description:
				*field = string(u)
				return nil
			case field != nil:
				*field = intern(interned, u)
				return nil
			}
			v = string(u)
		case typ == jsonparser.Null && field != nil:
			return nil // leaves the field empty
		case typ != jsonparser.Null:
			v = anyValue(value)
		}
		if sys.Extra == nil {
			sys.Extra = make(map[string]any)
		}
		sys.Extra[validString(key)] = v
		return nil
	})
	return sys, err == nil
}

// anyValue returns a JSON value as encoding/json decodes it into any, or its text if it is not
// valid JSON. (A variable of its own: &v would move every member's v to the heap.)
func anyValue(value []byte) (v any) {
	if json.Unmarshal(value, &v) != nil {
		return validString(value)
	}
	return v
}

// intern returns b as a string, the same string for the same bytes while fewer than 1,000
// distinct values have been seen: 100,000 systems then share a few protocol, type and status
// strings instead of holding 300,000 copies.
func intern(interned map[string]string, b []byte) string {
	if s, ok := interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(interned) < 1000 {
		interned[s] = s
	}
	return s
}

// unquote returns the contents of a JSON string (without its quotes) with its escapes resolved,
// in buf if it is large enough, and invalid UTF-8 replaced as encoding/json does. ok is false for
// an invalid escape.
func unquote(raw, buf []byte) (value []byte, ok bool) {
	value, err := jsonparser.Unescape(raw, buf)
	if err != nil {
		// jsonparser refuses half a UTF-16 surrogate pair, which JSON allows: read it as
		// encoding/json does, as U+FFFD.
		var s string
		if json.Unmarshal(slices.Concat([]byte(`"`), raw, []byte(`"`)), &s) != nil {
			return nil, false
		}
		return []byte(s), true
	}
	if !utf8.Valid(value) {
		value = bytes.ToValidUTF8(value, []byte(string(utf8.RuneError)))
	}
	return value, true
}

// validString returns b as a string with invalid UTF-8 replaced.
func validString(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }

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
