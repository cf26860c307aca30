package assess

// Severity ranks a finding: critical, high, medium, low or info.
type Severity string

// The severities, worst first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities returns the severities from worst to mildest.
func Severities() []Severity { return []Severity{Critical, High, Medium, Low, Info} }

// Rank orders severities from info 0 to critical 4; -1 for anything else.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// AtLeast reports whether s is at least as bad as threshold; an unknown value never is.
func (s Severity) AtLeast(threshold Severity) bool {
	return s.Rank() >= 0 && threshold.Rank() >= 0 && s.Rank() >= threshold.Rank()
}
