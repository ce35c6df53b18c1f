// Package textfmt holds the text helpers the text output (render), the
// terminal UI (tui) and the trace's sentences share, so all wrap, round,
// list and mark alike: wrapping at spaces, percentages, share bars,
// shortened lists, host:port with IPv6 brackets, and the state marks.
package textfmt

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// The state marks; they carry meaning without colour.
const (
	MarkOK      = "✔"
	MarkBad     = "✘"
	MarkWarning = "⚠"
	MarkInfo    = "ℹ"
)

// Wrap breaks plain text s into lines of at most width cells at spaces
// only, so chain names and addresses stay whole; a word longer than a line
// is cut.
func Wrap(s string, width int) []string {
	width = max(1, width)
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		for ansi.StringWidth(w) > width {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			lines = append(lines, ansi.Cut(w, 0, width))
			w = ansi.Cut(w, width, ansi.StringWidth(w))
		}
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
			line += " " + w
		default:
			lines, line = append(lines, line), w
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// Percent formats a probability with one decimal: "33.3%".
func Percent(p float64) string {
	return fmt.Sprintf("%.1f%%", p*100)
}

// Bar draws p (0..1) as a bar of width cells.
func Bar(p float64, width int) string {
	if width <= 0 {
		return ""
	}
	full := int(p*float64(width) + 0.5)
	full = max(0, min(full, width))
	return strings.Repeat("█", full) + strings.Repeat("░", width-full)
}

// HostPort joins an address and a port, bracketing an IPv6 address so its
// port stays apart.
func HostPort(addr string, port int32) string {
	return net.JoinHostPort(addr, strconv.Itoa(int(port)))
}

// ShortList joins vals with commas, eliding all but the first max.
func ShortList(vals []string, max int) string {
	if len(vals) <= max {
		return strings.Join(vals, ", ")
	}
	return fmt.Sprintf("%s, … %d more", strings.Join(vals[:max], ", "), len(vals)-max)
}
