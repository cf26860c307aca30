package tools

import (
	"strings"
	"sync"
	"unicode/utf8"
	"weak"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// systemIndex is what find_exposed_system searches in one snapshot: the lower-cased host and
// description of every exposed system, joined by a NUL, written back to back into one string
// (one allocation instead of one per system). A high-availability shadow shares its master's
// ExposedSystems slice (see connectivity.DecodeConnectors), so each distinct slice is indexed,
// and searched, once.
type systemIndex struct {
	// snap is the snapshot indexed, held weakly: a tool keeps the index of the last snapshot it
	// was asked about, which must not keep a replaced snapshot alive.
	snap weak.Pointer[connectivity.Snapshot]
	text string
	// ends[k] is where the k-th distinct system's text ends in text, and first[i] is k of
	// connector i's first system.
	ends  []int
	first []int
}

func newSystemIndex(snap *connectivity.Snapshot) *systemIndex {
	type list struct { // a slice of systems: where it starts, and its length
		first *connectivity.ExposedSystem
		len   int
	}
	connectors := snap.Connectors
	seen := make(map[list]int)            // where each distinct slice's systems start in ends
	first := make([]int, len(connectors)) // where each connector's systems start in ends
	distinct, size := 0, 0
	for i := range connectors {
		systems := connectors[i].ExposedSystems
		if len(systems) == 0 {
			continue
		}
		key := list{&systems[0], len(systems)}
		if at, ok := seen[key]; ok {
			first[i] = at
			continue
		}
		seen[key] = distinct
		first[i] = distinct
		distinct += len(systems)
		for _, sys := range systems {
			size += len(sys.Host) + 1 + len(sys.Description)
		}
	}
	text := make([]byte, 0, size) // grows only for non-ASCII text whose lower case is longer
	ends := make([]int, 0, distinct)
	for i := range connectors {
		systems := connectors[i].ExposedSystems
		if len(systems) == 0 || first[i] < len(ends) {
			continue // no systems, or the same slice as an earlier connector's
		}
		for _, sys := range systems {
			text = appendLower(text, sys.Host)
			text = append(text, 0)
			text = appendLower(text, sys.Description)
			ends = append(ends, len(text))
		}
	}
	return &systemIndex{snap: weak.Make(snap), text: string(text), ends: ends, first: first}
}

// appendLower appends strings.ToLower(s) to dst, without allocating for ASCII.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// systemText returns the search text of system j of connector i.
func (x *systemIndex) systemText(i, j int) string {
	k := x.first[i] + j
	start := 0
	if k > 0 {
		start = x.ends[k-1]
	}
	return x.text[start:x.ends[k]]
}

// matcher returns a function that reports whether system j of connector i has lowerQuery in
// its virtual host or description. It searches each distinct system text once.
func (x *systemIndex) matcher(lowerQuery string) func(i, j int) bool {
	if lowerQuery == "" {
		return func(int, int) bool { return true }
	}
	matched := make([]bool, len(x.ends))
	start := 0
	for k, end := range x.ends {
		matched[k] = strings.Contains(x.text[start:end], lowerQuery)
		start = end
	}
	return func(i, j int) bool { return matched[x.first[i]+j] }
}

// lastSystemIndex keeps the index of the latest snapshot a tool was asked about, so that it
// is built once per snapshot, not once per call.
type lastSystemIndex struct {
	mu    sync.Mutex
	index *systemIndex
}

// of returns the index of snap, building it if snap is not the snapshot last indexed.
func (l *lastSystemIndex) of(snap *connectivity.Snapshot) *systemIndex {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.index == nil || l.index.snap.Value() != snap {
		l.index = newSystemIndex(snap)
	}
	return l.index
}
