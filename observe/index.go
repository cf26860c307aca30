package observe

import (
	"strings"
	"unicode/utf8"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// SystemIndex is what find_exposed_system searches in one snapshot: the lower-cased host and
// description of every exposed system, joined by a NUL, each a substring of one string (one
// allocation instead of one per system). A high-availability shadow shares its master's
// ExposedSystems slice (see connectivity.DecodeConnectors), so each distinct slice is indexed,
// and searched, once.
type SystemIndex struct {
	texts []string   // of each distinct system
	grams []trigrams // of each text
	first []int      // first[i] is where connector i's systems start in texts
}

// trigrams is a 256-bit set of the (hashed) byte trigrams of a text: a text contains a query only
// if its set holds every trigram of the query's, so most texts are ruled out by four ANDs.
type trigrams [4]uint64

func trigramsOf(s string) (t trigrams) {
	for i := 0; i+3 <= len(s); i++ {
		h := (uint32(s[i])<<16 | uint32(s[i+1])<<8 | uint32(s[i+2])) * 2654435761 >> 24
		t[h>>6] |= 1 << (h & 63)
	}
	return t
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
	seen := make(map[list]int) // where each distinct slice's systems start in texts
	var distinct [][]connectivity.ExposedSystem
	n, size := 0, 0
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
			for _, sys := range systems {
				size += len(sys.Host) + 1 + len(sys.Description)
			}
		}
		x.first[i] = at
	}
	var text strings.Builder
	text.Grow(size) // grows again only for non-ASCII text whose lower case is longer
	ends := make([]int, 0, n)
	for _, systems := range distinct {
		for _, sys := range systems {
			writeLower(&text, sys.Host)
			text.WriteByte(0)
			writeLower(&text, sys.Description)
			ends = append(ends, text.Len())
		}
	}
	all, start := text.String(), 0
	x.texts, x.grams = make([]string, n), make([]trigrams, n)
	for k, end := range ends {
		x.texts[k], start = all[start:end], end
		x.grams[k] = trigramsOf(x.texts[k])
	}
	return x
}

// writeLower writes strings.ToLower(s) to b, without allocating for ASCII.
func writeLower(b *strings.Builder, s string) {
	start := 0 // s[:start] is written
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			b.WriteString(strings.ToLower(s[start:]))
			return
		case 'A' <= c && c <= 'Z':
			b.WriteString(s[start:i])
			b.WriteByte(c + 'a' - 'A')
			start = i + 1
		}
	}
	b.WriteString(s[start:])
}

// SystemText returns the search text of system j of connector i.
func (x *SystemIndex) SystemText(i, j int) string { return x.texts[x.first[i]+j] }

// Matcher returns a function that reports whether system j of connector i has lowerQuery in
// its virtual host or description. It searches each distinct system text once.
func (x *SystemIndex) Matcher(lowerQuery string) func(i, j int) bool {
	if lowerQuery == "" {
		return func(int, int) bool { return true }
	}
	q := trigramsOf(lowerQuery)
	matched := make([]bool, len(x.texts))
	for k, text := range x.texts {
		matched[k] = x.grams[k].holds(&q) && strings.Contains(text, lowerQuery)
	}
	return func(i, j int) bool { return matched[x.first[i]+j] }
}
