package trace

import "fmt"

// DumpExtraLines is reported for lines skipped before a dump's output.
const DumpExtraLines = "DumpExtraLines"

// SkippedLines are the lines of one dump that came before its output.
type SkippedLines struct {
	// Flag and File name the dump as the command line did.
	Flag, File string
	Lines      []string
}

// skippedLinesFindings says which lines of which dump were not read, so
// nothing in a file is ignored silently.
func skippedLinesFindings(in Input, _ *Trace) []Finding {
	if in.Dataplane == nil {
		return nil
	}
	var out []Finding
	for _, s := range in.Dataplane.Skipped {
		first := s.Lines[0]
		if len(first) > 100 {
			first = first[:100] + "…"
		}
		more := ""
		if len(s.Lines) > 1 {
			more = fmt.Sprintf(" and %d more", len(s.Lines)-1)
		}
		out = append(out, Finding{ID: DumpExtraLines, Severity: SeverityInfo, Subject: s.Flag + " " + s.File,
			Message: fmt.Sprintf("%s %s: skipped %d line(s) before the dump's output: %q%s", s.Flag, s.File, len(s.Lines), first, more),
			Hint:    "the rest of the dump was read; to keep kubectl debug's own messages out of a dump, add -q (--quiet) to kubectl debug"})
	}
	return out
}
