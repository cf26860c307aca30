package assess

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Version is a Cloud Connector version: major.minor.patch.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare orders versions.
func (v Version) Compare(w Version) int {
	return cmp.Or(cmp.Compare(v.Major, w.Major), cmp.Compare(v.Minor, w.Minor), cmp.Compare(v.Patch, w.Patch))
}

func (v Version) release() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// versionPattern matches "2.18.2", "2.18", "v2.18.2" and versions with a suffix such as
// "2.18.2-SNAPSHOT" or "2.18.2.1"; the suffix is ignored.
var versionPattern = regexp.MustCompile(`^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?:[-+._ ].*)?$`)

// ParseVersion reads a Cloud Connector version such as 2.18.2.
func ParseVersion(s string) (Version, error) {
	m := versionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a Cloud Connector version like 2.18.2", s)
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

// VersionBar is the version below which a subaccount's connectors are outdated, and why.
type VersionBar struct {
	Subaccount string
	// Source is configured (--min-scc-version), derived (from the subaccount's own connectors)
	// or none (no version could be read).
	Source string
	Min    string // the lowest version that is not outdated; empty with source none
	// Release is the established release line of a derived bar: the newest major.minor that at
	// least half of the subaccount's connectors run (or a newer one), e.g. "2.18".
	Release string
	Newest  string // the newest version seen in the subaccount
	min     Version
}

// bars holds the version bar of each subaccount.
type bars struct {
	bySubaccount map[string]*VersionBar
	order        []string
}

// versionBars sets the bar of every subaccount. A configured minimum applies to all. Otherwise
// each subaccount's bar is its established release line, at the newest patch of that line the
// subaccount already runs: one early adopter on a newer release moves nothing, and no subaccount
// is measured against another's connectors.
func versionBars(snap *connectivity.Snapshot, configured string) (bars, error) {
	b := bars{bySubaccount: map[string]*VersionBar{}}
	var fixed Version
	if strings.TrimSpace(configured) != "" {
		v, err := ParseVersion(configured)
		if err != nil {
			return b, fmt.Errorf("the minimum Cloud Connector version (--min-scc-version): %w", err)
		}
		fixed = v
	}
	versions := map[string][]Version{}
	for i := range snap.Connectors {
		sub := ""
		if i < len(snap.Subaccounts) {
			sub = snap.Subaccounts[i]
		}
		if _, ok := versions[sub]; !ok {
			b.order = append(b.order, sub)
			versions[sub] = nil
		}
		if v, err := ParseVersion(snap.Connectors[i].AgentVersion); err == nil {
			versions[sub] = append(versions[sub], v)
		}
	}
	for _, sub := range b.order {
		vs := versions[sub]
		bar := &VersionBar{Subaccount: sub, Source: "none"}
		b.bySubaccount[sub] = bar
		if len(vs) > 0 {
			slices.SortFunc(vs, func(x, y Version) int { return y.Compare(x) }) // newest first
			bar.Newest = vs[0].String()
		}
		switch {
		case configured != "":
			bar.Source, bar.min = "configured", fixed
		case len(vs) > 0:
			// The established release: walking from the newest, the first release line at which
			// half of the connectors run that line or a newer one.
			half := (len(vs) + 1) / 2
			i := half - 1
			line := Version{Major: vs[i].Major, Minor: vs[i].Minor}
			bar.min = line
			for _, v := range vs { // the newest patch of that line seen here
				if v.Major == line.Major && v.Minor == line.Minor {
					bar.min = v
					break
				}
			}
			bar.Source, bar.Release = "derived", line.release()
		default:
			continue
		}
		bar.Min = bar.min.String()
	}
	return b, nil
}

// version reports an agent_version below its subaccount's bar, or one that cannot be read.
// A connector a release line or more behind is medium; one on the bar's release line but
// behind on patches is low. The bar's basis is said once, in the answer's policy.
func (a *assessor) version(i int, b bars) {
	c := &a.snap.Connectors[i]
	v, err := ParseVersion(c.AgentVersion)
	if err != nil {
		what := "not reported"
		if strings.TrimSpace(c.AgentVersion) != "" {
			what = "not a version: " + strconv.Quote(c.AgentVersion)
		}
		a.add(i, "decode.agent_version", Low, "agent_version", "Cloud Connector version unknown, so the version rule skips this connector",
			Evidence{{"agent_version", what}})
		return
	}
	bar := b.bySubaccount[a.subaccount(i)]
	if bar == nil || bar.Source == "none" || v.Compare(bar.min) >= 0 {
		return
	}
	severity := Medium
	if v.Major == bar.min.Major && v.Minor == bar.min.Minor {
		severity = Low
	}
	a.add(i, RuleVersionOutdated, severity, "", "Cloud Connector "+c.AgentVersion+" is "+behind(v, bar.min)+" "+bar.Min,
		Evidence{{"agent_version", c.AgentVersion}, {"min_scc_version", bar.Min}})
}

// behind says how far v is behind bar (v < bar): "three releases behind", "a patch behind",
// "a major version behind".
func behind(v, bar Version) string {
	switch {
	case v.Major < bar.Major:
		return count(bar.Major-v.Major, "major version", "major versions") + " behind"
	case v.Minor < bar.Minor:
		return count(bar.Minor-v.Minor, "release", "releases") + " behind"
	}
	return count(bar.Patch-v.Patch, "patch", "patches") + " behind"
}

// count writes n things in words: "a release", "three releases", "12 releases".
func count(n int, one, many string) string {
	words := []string{"", "a", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	if n == 1 {
		return "a " + one
	}
	if n > 1 && n < len(words) {
		return words[n] + " " + many
	}
	return strconv.Itoa(n) + " " + many
}

// legacyJava matches java_version values of Java 8 and older ("1.8.0_292"), modernJava those of
// Java 9 and newer ("17.0.14 (SAP SE)", "21", "11.0.22+7-LTS").
var (
	legacyJava = regexp.MustCompile(`^1\.(\d{1,2})(?:[._\s-]|$)`)
	modernJava = regexp.MustCompile(`^(\d{1,3})(?:[.+\s-]|$)`)
	// vendorJava finds a runtime version in jvm_vendor_version, with or without a vendor part:
	// "(SAP SE, 17.0.14+7-LTS, …)", "(17.0.14+7-LTS, mixed mode)", "(21.0.5, mixed mode)" or a
	// legacy "1.8.0_292-b10". A HotSpot VM build number (25.292-b10 for Java 8) has neither a
	// "+build" nor three numbers, so it is never taken for Java 25; nor is "64-Bit".
	vendorJava = regexp.MustCompile(`\b(?:1\.(\d{1,2})\.\d+_\d+|(\d{1,3})(?:\.\d+)*\+\d+|(\d{1,3})\.\d+\.\d+)\b`)
)

// JavaMajor reads the Java major version from java_version, or failing that from
// jvm_vendor_version.
func JavaMajor(javaVersion, jvmVendorVersion string) (int, bool) {
	jv := strings.TrimSpace(javaVersion)
	if m := legacyJava.FindStringSubmatch(jv); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, n > 0
	}
	if m := modernJava.FindStringSubmatch(jv); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 2 { // "1" alone is not a Java release
			return n, true
		}
	}
	for _, m := range vendorJava.FindAllStringSubmatch(jvmVendorVersion, -1) {
		n, _ := strconv.Atoi(m[1] + m[2] + m[3]) // exactly one group is set
		if m[3] != "" && n < 9 {
			continue // x.y.z with x < 9 is no Java version of that form
		}
		return n, n > 0
	}
	return 0, false
}

// java reports a Java runtime below the floor, or one that cannot be read.
func (a *assessor) java(i int, floor int) {
	c := &a.snap.Connectors[i]
	evidence := Evidence{{"java_version", c.JavaVersion}}
	if c.JVMVendorVersion != "" {
		evidence = append(evidence, Field{"jvm_vendor_version", c.JVMVendorVersion})
	}
	major, ok := JavaMajor(c.JavaVersion, c.JVMVendorVersion)
	if !ok {
		a.add(i, "decode.java_version", Low, "java_version", "Java version unknown, so the Java rule skips this connector", evidence)
		return
	}
	if major >= floor {
		return
	}
	evidence = append(evidence, Field{"java_major", strconv.Itoa(major)}, Field{"min_java_major", strconv.Itoa(floor)})
	a.add(i, RuleVersionJava, Medium, "", fmt.Sprintf("Runs on Java %d, below Java %d", major, floor), evidence)
}
