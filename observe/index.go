package observe

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// SystemIndex is what find_exposed_system searches in one snapshot: of every exposed system, the
// set of trigrams of its lower-cased host and description. A query is looked for only in the
// systems whose set holds every trigram of the query's; the index keeps no text of its own. A
// high-availability shadow shares its master's ExposedSystems slice (see connectivity.Reader),
// so each distinct slice is indexed, and searched, once.
type SystemIndex struct {
	systems []*connectivity.ExposedSystem // each distinct system
	grams   []trigrams                    // of each system's host and description
	first   []int                         // first[i] is where connector i's systems start in systems
}

// trigrams is a 256-bit set of the (hashed) byte trigrams of a text: a text contains a query only
// if its set holds every trigram of the query's, so most texts are ruled out by four ANDs.
type trigrams [4]uint64

func (t *trigrams) add(s []byte) {
	for i := 0; i+3 <= len(s); i++ {
		h := (uint32(s[i])<<16 | uint32(s[i+1])<<8 | uint32(s[i+2])) * 2654435761 >> 24
		t[h>>6] |= 1 << (h & 63)
	}
}

func (t *trigrams) holds(q *trigrams) bool {
	return t[0]&q[0] == q[0] && t[1]&q[1] == q[1] && t[2]&q[2] == q[2] && t[3]&q[3] == q[3]
}

// NewSystemIndex indexes the exposed systems of snap.
func NewSystemIndex(snap *connectivity.Snapshot) *SystemIndex {
	type list struct { // a slice of systems: where it starts, and its length
		first *connectivity.ExposedSystem
		len   int
	}
	x := &SystemIndex{first: make([]int, len(snap.Connectors))}
	seen := make(map[list]int) // where each distinct slice's systems start in x.systems
	var distinct [][]connectivity.ExposedSystem
	n := 0
	for i := range snap.Connectors {
		systems := snap.Connectors[i].ExposedSystems
		if len(systems) == 0 {
			continue
		}
		at, ok := seen[list{&systems[0], len(systems)}]
		if !ok {
			at, seen[list{&systems[0], len(systems)}] = n, n
			n += len(systems)
			distinct = append(distinct, systems)
		}
		x.first[i] = at
	}
	x.systems, x.grams = make([]*connectivity.ExposedSystem, 0, n), make([]trigrams, n)
	var lower []byte
	for _, systems := range distinct {
		for j := range systems {
			t := &x.grams[len(x.systems)]
			lower = appendLower(lower[:0], systems[j].Host)
			t.add(lower)
			lower = appendLower(lower[:0], systems[j].Description)
			t.add(lower)
			x.systems = append(x.systems, &systems[j])
		}
	}
	return x
}

// appendLower appends strings.ToLower(s) to b, without allocating for ASCII.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return append(b[:len(b)-i], strings.ToLower(s)...)
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return b
}

// Matcher returns a function that reports whether system j of connector i has lowerQuery in
// its virtual host or description. It searches each distinct system once.
func (x *SystemIndex) Matcher(lowerQuery string) func(i, j int) bool {
	if lowerQuery == "" {
		return func(int, int) bool { return true }
	}
	query := []byte(lowerQuery)
	var q trigrams
	q.add(query)
	matched := make([]bool, len(x.systems))
	var lower []byte
	for k, sys := range x.systems {
		if !x.grams[k].holds(&q) {
			continue
		}
		lower = appendLower(lower[:0], sys.Host)
		matched[k] = bytes.Contains(lower, query)
		if !matched[k] {
			lower = appendLower(lower[:0], sys.Description)
			matched[k] = bytes.Contains(lower, query)
		}
	}
	return func(i, j int) bool { return matched[x.first[i]+j] }
}
