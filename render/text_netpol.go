package render

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// netpolSection lists, per Service pod a NetworkPolicy isolates, who may
// connect to each target port, and with --from the client's verdict per
// endpoint and for DNS.
func (tw *textWriter) netpolSection(t *trace.Trace) []section {
	h := t.NetworkPolicy
	if h == nil {
		return nil
	}
	var items []string
	for _, p := range h.Pods {
		lines := []string{fmt.Sprintf("pod %s: %s", p.Pod, strings.Join(p.Policies, ", "))}
		for _, port := range p.Ports {
			who := "no client"
			if len(port.Clients) > 0 {
				who = strings.Join(port.Clients, "; ")
			}
			lines = append(lines, tw.indented(fmt.Sprintf("%s %d: %s", port.Protocol, port.Port, who))...)
		}
		items = append(items, strings.Join(lines, "\n"))
	}
	if c := h.Client; c != nil {
		lines := []string{"from " + c.Pod + c.From}
		if len(c.EgressPolicies) > 0 {
			lines[0] += " (egress: " + strings.Join(c.EgressPolicies, ", ") + ")"
		}
		for _, x := range c.Connections {
			lines = append(lines, tw.indented(tw.policyConnection("", x))...)
		}
		for _, x := range c.DNS {
			lines = append(lines, tw.indented(tw.policyConnection("DNS ", x))...)
		}
		items = append(items, strings.Join(lines, "\n"))
	}
	return []section{{"NetworkPolicy (applies only where the network plugin enforces it)", branches(items)}}
}

func (tw *textWriter) policyConnection(prefix string, x trace.PolicyConnection) string {
	mark := tw.p.ok(x.Verdict == "allowed")
	if x.Verdict == "unknown" {
		mark = "?"
	}
	what := fmt.Sprintf("%s%s %s:%d/%s", prefix, x.Pod, x.Address, x.Port, x.Protocol)
	var why []string
	for _, s := range []struct {
		name string
		side trace.PolicySide
	}{{"ingress", x.Ingress}, {"egress", x.Egress}} {
		switch {
		case s.side.OwnNode:
			why = append(why, s.name+" from the pod's own node")
		case len(s.side.AllowedBy) > 0:
			why = append(why, s.name+" by "+strings.Join(s.side.AllowedBy, ", "))
		case s.side.Verdict == "denied":
			why = append(why, s.name+" denied by "+strings.Join(s.side.Policies, ", "))
		case len(s.side.Undecided) > 0:
			why = append(why, s.name+" undecided: "+strings.Join(s.side.Undecided, ", "))
		}
	}
	line := fmt.Sprintf("%s %s: %s", mark, what, x.Verdict)
	if len(why) > 0 {
		line += " (" + strings.Join(why, "; ") + ")"
	}
	return line
}

// indented wraps s below a pod's or client's line, inside the tree.
func (tw *textWriter) indented(s string) []string {
	lines := wrap(s, tw.o.Width-10)
	for i := range lines {
		lines[i] = "  " + lines[i]
		if i > 0 {
			lines[i] = "  " + lines[i]
		}
	}
	return lines
}
