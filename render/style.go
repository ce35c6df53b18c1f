package render

import (
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TextOptions controls the human output.
type TextOptions struct {
	// Color turns on ANSI colour; callers enable it only on a terminal and
	// never when NO_COLOR is set.
	Color bool
	// Wide adds node, zone and pod IP columns.
	Wide bool
	// Width is the column the output wraps at; 0 means 80.
	Width int
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
)

type painter struct{ on bool }

func (p painter) paint(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) ok(b bool) string {
	if b {
		return p.paint(ansiGreen, textfmt.MarkOK)
	}
	return p.paint(ansiRed, textfmt.MarkBad)
}

func (p painter) severity(s trace.Severity) string {
	switch s {
	case trace.SeverityError:
		return p.paint(ansiRed+ansiBold, textfmt.MarkBad+" error")
	case trace.SeverityWarning:
		return p.paint(ansiYellow, textfmt.MarkWarning+" warning")
	default:
		return p.paint(ansiCyan, textfmt.MarkInfo+" info")
	}
}

// wrap breaks s into lines of at most width columns at spaces, never
// narrower than 20.
func wrap(s string, width int) []string { return textfmt.Wrap(s, max(width, 20)) }
