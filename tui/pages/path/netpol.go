package path

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// policyNode shows what NetworkPolicies say: who each isolated pod
// admits on each target port and, with --from, the client's verdict per
// endpoint and for DNS. Its mark is ✘ when the client is denied somewhere
// and ◐ when some port admits no client.
func policyNode(root *node, np *trace.NetworkPolicyHop) {
	n := root.add(&node{key: "netpol", subject: "networkpolicy", kind: kindNote, expanded: true, state: stateOK,
		label: "NetworkPolicy (where the network plugin enforces it)"})
	for _, p := range np.Pods {
		for _, port := range p.Ports {
			who, st := strings.Join(port.Clients, "; "), stateNone
			if len(port.Clients) == 0 {
				who, st = "no client", stateWarn
				if n.state == stateOK {
					n.state = stateWarn
				}
			}
			n.add(&node{key: fmt.Sprintf("netpol/pod/%s/%s/%d", p.Pod, port.Protocol, port.Port), kind: kindNote, state: st,
				label: fmt.Sprintf("pod %s %s %d admits %s", p.Pod, port.Protocol, port.Port, who)})
		}
	}
	c := np.Client
	if c == nil {
		return
	}
	for i, x := range append(append([]trace.PolicyConnection{}, c.Connections...), c.DNS...) {
		what := "to"
		if i >= len(c.Connections) {
			what = "DNS to"
		}
		st := okState(x.Verdict == "allowed")
		if x.Verdict == "unknown" {
			st = stateWarn
		}
		if st == stateBad {
			n.state = stateBad
		}
		n.add(&node{key: fmt.Sprintf("netpol/client/%d", i), kind: kindNote, state: st,
			label: fmt.Sprintf("from %s %s %s %s: %s", c.Pod+c.From, what, x.Pod, hostPortLabel(x.Address, x.Port), x.Verdict)})
	}
}

func hostPortLabel(addr string, port int32) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}
