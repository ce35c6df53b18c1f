package render

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// dataplaneSections shows, per node view, where a packet to each Service
// port goes: the chain path to every endpoint with its probability.
func (tw *textWriter) dataplaneSections(t *trace.Trace) []section {
	var out []section
	notServing := notServingTargets(t)
	for _, d := range t.Dataplane {
		var items []string
		src := d.Source
		if src == "expected" {
			src = "expected rules: no --iptables-save given"
		}
		if d.SavedAt != "" {
			src += ", saved " + d.SavedAt
		}
		mode := d.Mode
		if d.Family == "IPv6" {
			mode += " IPv6"
		}
		head := fmt.Sprintf("dataplane %s %s", d.Node, mode)
		items = append(items, strings.Join(wrap("from "+src, tw.o.Width-6), "\n"))
		if d.NodeNote != "" {
			items = append(items, strings.Join(wrap(d.NodeNote, tw.o.Width-6), "\n"))
		}
		for _, w := range d.Walks {
			p := w.Packet
			lines := []string{fmt.Sprintf("%s %s %s → %s", p.From, p.Source, p.Protocol, p.DestString())}
			for _, o := range w.Outcomes {
				mark := tw.p.ok(o.Verdict == "DNAT" && !o.NotEndpoint && !notServing[o.Target])
				text := fmt.Sprintf("%s %6s  %s", mark, textfmt.Percent(o.Probability), o.Path)
				if o.Verdict == "DNAT" && notServing[o.Target] {
					text += " (endpoint not serving)"
				}
				if o.Masquerade {
					// The endpoint sees the node's address, not the client's.
					text += " → MASQUERADE"
				}
				if ob := o.Observed; ob != nil {
					text += fmt.Sprintf(" (observed %s: %d)", textfmt.Percent(ob.Share), ob.Packets)
				}
				if o.NotEndpoint {
					text += " (not an endpoint of the Service)"
				}
				if o.Note != "" {
					text += " [" + o.Note + "]"
				}
				lines = append(lines, strings.Join(wrap(text, tw.o.Width-19), "\n         "))
			}
			items = append(items, lines[0]+"\n"+strings.Join(branches(lines[1:]), "\n"))
		}
		if d.Note != "" {
			items = append(items, strings.Join(wrap(d.Note, tw.o.Width-6), "\n"))
		}
		if tw.o.Wide {
			items = append(items, tw.chainItems(d.Chains)...)
		}
		out = append(out, section{head, branches(items)})
	}
	return out
}

// chainItems lists the Service's chains with dump line numbers (-o wide).
func (tw *textWriter) chainItems(chains []dataplane.Listing) []string {
	var items []string
	for _, c := range chains {
		head := strings.TrimSpace(c.Table + " " + c.Name)
		if c.Drift != "" {
			head += " " + tw.p.paint(ansiRed, string(c.Drift))
		}
		var rules []string
		for _, r := range c.Rules {
			line := fmt.Sprintf("%4d  %s", r.Line, r.Text)
			if r.Drift != "" {
				line = tw.p.paint(ansiRed, line+"  ← "+string(r.Drift))
			}
			rules = append(rules, line)
		}
		items = append(items, head+"\n"+strings.Join(rules, "\n"))
	}
	return items
}

// notServingTargets are the "ip:port" DNAT targets of the endpoints the
// trace marks not serving (see EndpointHop.NotServing).
func notServingTargets(t *trace.Trace) map[string]bool {
	out := map[string]bool{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if e.NotServing != "" {
				out[textfmt.HostPort(e.Address, e.Port)] = true
			}
		}
	}
	return out
}
