package render

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/probe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// probeSection lists what the probe inside the cluster connected to and
// how each attempt ended.
func (tw *textWriter) probeSection(t *trace.Trace) []section {
	p := t.Probe
	if p == nil {
		return nil
	}
	head := "Probe from " + p.From
	if p.Error != "" {
		return []section{{head, branches([]string{tw.p.paint(ansiRed, "did not run: "+p.Error)})}}
	}
	var items []string
	for _, r := range p.Results {
		ok := r.Outcome == probe.OK
		mark := tw.p.ok(ok)
		if r.Outcome == probe.NoReply {
			mark = "?"
		}
		what := string(r.Target.Kind) + " " + r.Target.Addr.String() + "/" + r.Target.Protocol
		if r.Target.Pod != "" {
			what += " (" + r.Target.Pod + ")"
		}
		how := string(r.Outcome)
		if r.HTTPStatus != 0 {
			how = fmt.Sprintf("HTTP %d", r.HTTPStatus)
		}
		line := fmt.Sprintf("%s %s: %s, %.1f ms", mark, what, how, r.Millis)
		if !ok {
			line = mark + " " + tw.p.paint(ansiRed, strings.TrimPrefix(line, mark+" "))
		}
		items = append(items, line)
	}
	if len(items) == 0 {
		items = append(items, "no address to connect to")
	}
	return []section{{head, branches(items)}}
}
