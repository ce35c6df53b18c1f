package trace

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/probe"
)

// NoServingPath is reported when nothing in the trace lets a connection
// through and no other error says so: a script trusting the exit code must
// not pass a Service whose packets all end refused or dropped.
const NoServingPath = "NoServingPath"

// servingPathFindings looks for evidence that a client gets through: a
// walked packet DNATed, with some share, to an endpoint that is ready (or
// serving while terminating) and not marked not serving. Without walks
// there is no dataplane evidence either way, and another error already
// fails the trace.
func servingPathFindings(in Input, t *Trace, found []Finding) []Finding {
	if HasErrors(found) || kubeProxySkips(in) != "" || probeGotThrough(in) {
		return nil // failed already, another proxy's, or seen working
	}
	serving := map[string]bool{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			ip, err := netip.ParseAddr(e.Address)
			if err == nil && (e.Ready || (e.Serving && e.Terminating)) && e.NotServing == "" {
				serving[netip.AddrPortFrom(ip, uint16(e.Port)).String()] = true
			}
		}
	}
	var ends []string
	seen := map[string]bool{}
	for _, h := range t.Dataplane {
		for _, w := range h.Walks {
			for _, o := range w.Outcomes {
				if o.Verdict == dataplane.VerdictDNAT && o.Probability > 0 && serving[o.Target] {
					return nil
				}
				end := fmt.Sprintf("%s from %s to %s: %s", h.Node, w.Packet.From, w.Packet.DestString(), outcomeEnd(o))
				if !seen[end] {
					seen[end] = true
					ends = append(ends, end)
				}
			}
		}
	}
	if len(ends) == 0 {
		return nil
	}
	return []Finding{{ID: NoServingPath, Severity: SeverityError, Subject: "service/" + in.Name,
		Message: "no walked packet reaches a serving endpoint: " + limitList(ends, 4),
		Hint:    "the warnings above say why; -o wide lists the node's chains for the Service, and --from pod/NAME, --from external or --node N walk the packet your clients send"}}
}

// outcomeEnd is how one outcome of a walk ends, in a few words.
func outcomeEnd(o dataplane.Outcome) string {
	switch {
	case o.Verdict == dataplane.VerdictDNAT && o.Probability == 0:
		return "DNAT " + o.Target + " with no share of new connections"
	case o.Verdict == dataplane.VerdictDNAT:
		return "DNAT " + o.Target + ", not a serving endpoint"
	case o.Untranslated:
		return "not translated"
	}
	return strings.ToUpper(string(o.Verdict))
}

// probeGotThrough reports whether a --probe connection to the Service
// itself (its cluster IP, a node port, an external IP) succeeded.
func probeGotThrough(in Input) bool {
	if in.Probe == nil || in.Probe.Report == nil {
		return false
	}
	for _, r := range in.Probe.Report.Results {
		if r.Target.Kind != probe.KindEndpoint && r.Outcome == probe.OK {
			return true
		}
	}
	return false
}
