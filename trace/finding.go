package trace

import (
	"sort"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Severity ranks a finding. Only errors make the command exit non-zero.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	default:
		return 2
	}
}

// Finding is one diagnosis. ID is stable across releases so scripts can match
// on it; Hint is the next thing the operator should do.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint"`
	// Where is the place in a node's dataplane a dataplane finding is
	// about; nil for findings about API objects or DNS.
	Where *dataplane.Locator `json:"where,omitempty"`
}

// SortFindings orders findings by severity, then ID, then subject, so output
// is stable between runs.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.rank() != b.Severity.rank() {
			return a.Severity.rank() < b.Severity.rank()
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Subject < b.Subject
	})
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
