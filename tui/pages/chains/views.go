package chains

import (
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// choice is one view: a node, a Service port and the packet whose walk
// the shares are of; walk is -1 for a node without walks, port "" then
// meaning every chain of the node.
type choice struct {
	hop  int
	port string
	walk int
}

// choices lists a view per walk, grouped by node and then by Service port
// in the order the walks first name them, so ] goes through the packets
// of one port before the next port.
func choices(dp []trace.DataplaneHop) []choice {
	var out []choice
	for i, d := range dp {
		if len(d.Walks) == 0 {
			out = append(out, choice{hop: i, walk: -1})
			continue
		}
		var ports []string
		for _, w := range d.Walks {
			if !slices.Contains(ports, w.Packet.ServicePort) {
				ports = append(ports, w.Packet.ServicePort)
			}
		}
		for _, port := range ports {
			for wi, w := range d.Walks {
				if w.Packet.ServicePort == port {
					out = append(out, choice{hop: i, port: port, walk: wi})
				}
			}
		}
	}
	return out
}

// shown appends to idx the indices of the chains view ch lists: those a
// walk of its port passes, from any entry, and the drifted ones (a
// drifted chain or a chain with a drifted rule), which may be missing
// from the dump or unreachable and so met by no walk. A drifted chain no
// walk meets shows in its own port's views only when its rules name a
// port; naming none (a node-wide listing such as kube-ipvs0's addresses),
// it shows in every view.
func (p *Page) shown(ch choice, idx []int) []int {
	hop := p.hops.Dataplane[ch.hop]
	mine, others := map[string]bool{}, map[string]bool{}
	var packets []dataplane.Packet
	for _, w := range hop.Walks {
		met := others
		if w.Packet.ServicePort == ch.port {
			met = mine
			packets = append(packets, w.Packet)
		}
		for _, s := range w.Steps {
			met[s.Chain] = true
		}
		for _, o := range w.Outcomes {
			for _, c := range o.Chains {
				met[c] = true
			}
		}
	}
	for i, c := range hop.Chains {
		switch {
		case len(hop.Walks) == 0 || mine[c.Name]:
			idx = append(idx, i)
		case !drifted(c) || others[c.Name]:
		case len(packets) == 0 || namesPort(c, packets[0]) || !namesAnyPort(c, hop.Walks):
			idx = append(idx, i)
		}
	}
	return idx
}

// drifted reports whether the chain or one of its rules differs from
// what kube-proxy should have written.
func drifted(c dataplane.Listing) bool {
	if c.Drift != "" {
		return true
	}
	for _, r := range c.Rules {
		if r.Drift != "" {
			return true
		}
	}
	return false
}

func namesAnyPort(c dataplane.Listing, walks []dataplane.Walk) bool {
	for _, w := range walks {
		if namesPort(c, w.Packet) {
			return true
		}
	}
	return false
}

// namesPort reports whether the chain serves the packet's Service port:
// by the trace's word when it has one, else by its name or rules naming it
// the way each proxy writes it: iptables comments
// "ns/svc:port", nftables chain names "ns/svc/tcp/port", and IPVS virtual
// servers "VIP:port/TCP".
func namesPort(c dataplane.Listing, pk dataplane.Packet) bool {
	if c.ServicePort != "" && pk.ServicePort != "" {
		// The trace says which port the chain serves: no guessing.
		return c.ServicePort == pk.ServicePort
	}
	var forms []string
	if pk.ServicePort != "" {
		forms = append(forms, pk.ServicePort)
		svc, port, _ := strings.Cut(pk.ServicePort, ":")
		forms = append(forms, svc+"/"+strings.ToLower(pk.Protocol)+"/"+port)
	}
	if pk.Dest.IsValid() {
		forms = append(forms, pk.DestString()+"/")
	}
	texts := []string{c.Name}
	for _, r := range c.Rules {
		texts = append(texts, r.Text)
	}
	for _, t := range texts {
		for _, f := range forms {
			if namesWord(t, f) {
				return true
			}
		}
	}
	return false
}

// namesWord reports whether form occurs in text not followed by a
// character a port name may go on with, so "ns/svc:http" is not found
// in "ns/svc:https".
func namesWord(text, form string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], form)
		if j < 0 {
			return false
		}
		end := i + j + len(form)
		if strings.HasSuffix(form, "/") || end == len(text) || !isNameByte(text[end]) {
			return true
		}
		i = end
	}
}

func isNameByte(b byte) bool {
	return b == '-' || b == '.' || b == ':' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}
