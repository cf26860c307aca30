package assess

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// AcceptedRisks are the findings a team has accepted on purpose, read from a YAML (or JSON) file:
//
//	accepted:
//	  - rule: ha.no_shadow            # required: a rule ID
//	    client_id: scc-lab-01         # optional selectors: subaccount, client_id, subject
//	    reason: lab system, no failover needed   # required
//	    owner: basis-team@example.com            # required
//	    expires: 2027-06-30                      # required: a date, at most one year ahead
type AcceptedRisks struct {
	File    string
	Entries []Entry
}

// Entry is one accepted risk.
type Entry struct {
	Rule       string `yaml:"rule" json:"rule"`
	Subaccount string `yaml:"subaccount" json:"subaccount,omitempty"`
	ClientID   string `yaml:"client_id" json:"client_id,omitempty"`
	Subject    string `yaml:"subject" json:"subject,omitempty"`
	Reason     string `yaml:"reason" json:"reason"`
	Owner      string `yaml:"owner" json:"owner"`
	Expires    string `yaml:"expires" json:"expires"`
	Line       int    `yaml:"-" json:"line"` // where the entry starts in the file

	expires time.Time // the first instant after the expiry date (UTC)
}

// Acceptance is what a finding says about the entry that covers it.
type Acceptance struct {
	Reason, Owner, Expires string
}

// FileError is a problem with an accepted-risks file: the program refuses to start with it.
type FileError struct {
	File  string
	Entry int // 1-based; 0 when the problem is not in one entry
	Line  int
	Err   error
}

func (e *FileError) Error() string {
	where := e.File
	if e.Entry > 0 {
		where = fmt.Sprintf("%s, entry %d (line %d)", e.File, e.Entry, e.Line)
	}
	return fmt.Sprintf("accepted risks %s: %v", where, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// LoadAcceptedRisks reads and checks an accepted-risks file. Nothing is guessed: an unreadable
// file, a parse error, an unknown rule ID or key, a missing required field or a bad date is an
// error that names the file, the entry and the problem. now bounds the expiry dates.
func LoadAcceptedRisks(path string, now time.Time) (*AcceptedRisks, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{File: path, Err: fmt.Errorf("cannot be read: %w", err)}
	}
	return ParseAcceptedRisks(path, data, now)
}

// ParseAcceptedRisks checks the contents of an accepted-risks file named name.
func ParseAcceptedRisks(name string, data []byte, now time.Time) (*AcceptedRisks, error) {
	fail := func(err error) error { return &FileError{File: name, Err: err} }
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fail(fmt.Errorf("not valid YAML: %s", yaml.FormatError(err, false, false)))
	}
	var top *ast.MappingNode
	if len(file.Docs) == 1 && file.Docs[0].Body != nil {
		top, _ = file.Docs[0].Body.(*ast.MappingNode)
	}
	if top == nil {
		return nil, fail(errors.New(`must be a mapping with the key "accepted", a list of entries`))
	}
	var list *ast.SequenceNode
	for _, kv := range top.Values {
		if key := kv.Key.GetToken().Value; key != "accepted" {
			return nil, fail(fmt.Errorf("unknown key %q at line %d; the file holds only \"accepted\"", key, kv.Key.GetToken().Position.Line))
		}
		if list, _ = kv.Value.(*ast.SequenceNode); list == nil {
			return nil, fail(errors.New(`"accepted" must be a list of entries`))
		}
	}
	if list == nil {
		return nil, fail(errors.New(`the key "accepted" is missing`))
	}
	risks := &AcceptedRisks{File: name}
	today := now.UTC().Truncate(24 * time.Hour)
	for i, node := range list.Values {
		e := Entry{Line: node.GetToken().Position.Line}
		if err := yaml.NodeToValue(node, &e, yaml.DisallowUnknownField()); err != nil {
			return nil, &FileError{File: name, Entry: i + 1, Line: e.Line, Err: errors.New(yaml.FormatError(err, false, false))}
		}
		if err := e.check(today); err != nil {
			return nil, &FileError{File: name, Entry: i + 1, Line: e.Line, Err: err}
		}
		risks.Entries = append(risks.Entries, e)
	}
	return risks, nil
}

// check validates an entry against the rules and fixes its expiry instant.
func (e *Entry) check(today time.Time) error {
	var missing []string
	for _, f := range []struct{ name, value string }{{"rule", e.Rule}, {"reason", e.Reason}, {"owner", e.Owner}, {"expires", e.Expires}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required %s", strings.Join(missing, ", "))
	}
	if _, ok := LookupRule(e.Rule); !ok {
		return fmt.Errorf("unknown rule %q; rules are %s, security.<check> or decode.<attribute>", e.Rule, ruleList())
	}
	day, err := time.Parse(time.DateOnly, strings.TrimSpace(e.Expires))
	if err != nil {
		return fmt.Errorf("expires %q is not a date like 2027-06-30", e.Expires)
	}
	if limit := today.AddDate(1, 0, 0); day.After(limit) {
		return fmt.Errorf("expires %s is more than one year ahead (at most %s): accept a risk for a year at most, then review it", e.Expires, limit.Format(time.DateOnly))
	}
	e.expires = day.AddDate(0, 0, 1)
	return nil
}

func ruleList() string {
	var ids []string
	for _, r := range append(fixedRules[:], deepRules[:]...) {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ", ")
}

// matches reports whether the entry selects the finding.
func (e *Entry) matches(f *Finding) bool {
	return e.Rule == f.Rule &&
		(e.Subaccount == "" || e.Subaccount == f.Subaccount) &&
		(e.ClientID == "" || e.ClientID == f.ClientID) &&
		(e.Subject == "" || strings.EqualFold(e.Subject, f.Subject))
}

// Holds reports whether an assessment made at since still holds at now for the same facts: no
// accepted risk expired in between.
func (p Policy) Holds(since, now time.Time) bool {
	if p.Accepted == nil {
		return true
	}
	for _, e := range p.Accepted.Entries {
		if since.Before(e.expires) && !now.Before(e.expires) {
			return false
		}
	}
	return true
}

// apply marks the findings that entries cover and returns the entries that matched nothing.
// An expired entry no longer applies, but the finding it covered says so.
func (r *AcceptedRisks) apply(findings []Finding, now time.Time) []Entry {
	if r == nil {
		return nil
	}
	var unused []Entry
	for _, e := range r.Entries {
		used := false
		for i := range findings {
			f := &findings[i]
			if !e.matches(f) {
				continue
			}
			used = true
			a := &Acceptance{Reason: e.Reason, Owner: e.Owner, Expires: e.Expires}
			switch {
			case now.Before(e.expires) && f.Accepted == nil:
				f.Accepted = a
			case !now.Before(e.expires) && f.Expired == nil:
				f.Expired = a
			}
		}
		if !used {
			unused = append(unused, e)
		}
	}
	for i := range findings { // an unexpired entry outweighs an expired one
		if findings[i].Accepted != nil {
			findings[i].Expired = nil
		}
	}
	return unused
}
