package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/termsafe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Text writes t as a tree of hops followed by the findings and their hints.
// Every string of t is escaped first (termsafe): most come from the cluster
// or a dump, and must not reach the terminal as control sequences.
func Text(w io.Writer, t *trace.Trace, o TextOptions) error {
	t = termsafe.Copy(t)
	if o.Width <= 0 {
		o.Width = 80
	}
	tw := &textWriter{p: painter{on: o.Color}, o: o}
	tw.service(t)
	if t.Found {
		var sections []section
		sections = append(sections, tw.dnsSection(t)...)
		sections = append(sections, tw.ports(t)...)
		sections = append(sections, tw.pods(t)...)
		sections = append(sections, tw.nodes(t)...)
		sections = append(sections, tw.dataplaneSections(t)...)
		sections = append(sections, tw.netpolSection(t)...)
		sections = append(sections, tw.probeSection(t)...)
		tw.tree(sections)
	}
	tw.findings(t.Findings)
	_, err := io.WriteString(w, tw.b.String())
	return err
}

type textWriter struct {
	b strings.Builder
	p painter
	o TextOptions
}

func (tw *textWriter) line(format string, a ...any) {
	fmt.Fprintf(&tw.b, format, a...)
	tw.b.WriteByte('\n')
}

func (tw *textWriter) service(t *trace.Trace) {
	s := t.Service
	head := tw.p.paint(ansiBold, fmt.Sprintf("Service %s/%s", s.Namespace, s.Name))
	if !t.Found {
		tw.line("%s  %s", head, tw.p.paint(ansiRed, "not found"))
		return
	}
	parts := []string{s.Type}
	switch {
	case s.Headless:
		parts = append(parts, "headless")
	case s.ExternalName != "":
		parts = append(parts, "→ "+s.ExternalName)
	default:
		parts = append(parts, strings.Join(s.ClusterIPs, ","))
	}
	tw.line("%s  %s", head, strings.Join(parts, " "))
	var facts []string
	if len(s.Selector) > 0 {
		facts = append(facts, "selector "+trace.SelectorString(s.Selector))
	} else if s.ExternalName == "" {
		facts = append(facts, "no selector")
	}
	if len(s.ExternalIPs) > 0 {
		facts = append(facts, "externalIPs "+strings.Join(s.ExternalIPs, ","))
	}
	if len(s.LoadBalancerIPs) > 0 {
		facts = append(facts, "LB "+strings.Join(s.LoadBalancerIPs, ","))
	}
	if s.SessionAffinity == "ClientIP" {
		facts = append(facts, fmt.Sprintf("affinity ClientIP %ds", s.AffinityTimeoutSeconds))
	}
	if s.ExternalTrafficPolicy == "Local" {
		facts = append(facts, "externalTrafficPolicy Local")
	}
	if s.InternalTrafficPolicy == "Local" {
		facts = append(facts, "internalTrafficPolicy Local")
	}
	if s.PublishNotReadyAddresses {
		facts = append(facts, "publishNotReadyAddresses")
	}
	for _, l := range wrap(strings.Join(facts, " · "), tw.o.Width-2) {
		tw.line("  %s", tw.p.paint(ansiDim, l))
	}
}

// section is one top-level hop of the tree: a head line and child lines
// that already carry their own branch marks.
type section struct {
	head     string
	children []string
}

func (tw *textWriter) tree(sections []section) {
	for i, s := range sections {
		last := i == len(sections)-1
		branch, indent := "├─ ", "│  "
		if last {
			branch, indent = "└─ ", "   "
		}
		tw.line("│")
		tw.line("%s%s", branch, s.head)
		for _, c := range s.children {
			for _, l := range strings.Split(c, "\n") {
				tw.line("%s%s", indent, l)
			}
		}
	}
}

// branches prefixes items with tree marks, the last one closing the
// branch; the continuation lines of a multi-line item keep the trunk.
func branches(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		mark, cont := "├─ ", "\n│  "
		if i == len(items)-1 {
			mark, cont = "└─ ", "\n   "
		}
		out[i] = mark + strings.ReplaceAll(it, "\n", cont)
	}
	return out
}

func (tw *textWriter) ports(t *trace.Trace) []section {
	var out []section
	for _, p := range t.Ports {
		head := fmt.Sprintf("port %s → targetPort %s", portName(p), p.TargetPort)
		if p.NodePort != 0 {
			head += fmt.Sprintf(" (nodePort %d)", p.NodePort)
		}
		if len(p.Endpoints) > 0 || unreadReason(t, "list", "endpointslices.discovery.k8s.io") == "" {
			head += fmt.Sprintf("   %d/%d ready", p.ReadyEndpoints(), len(p.Endpoints))
		}
		var items []string
		for _, e := range p.Endpoints {
			items = append(items, tw.endpoint(e))
		}
		if len(items) == 0 {
			items = []string{tw.p.paint(ansiRed, "no endpoints published for this port")}
			if why := unreadReason(t, "list", "endpointslices.discovery.k8s.io"); why != "" {
				items = []string{tw.p.paint(ansiYellow, "EndpointSlices not read ("+why+")")}
			}
		}
		out = append(out, section{head, branches(items)})
	}
	return out
}

func (tw *textWriter) endpoint(e trace.EndpointHop) string {
	addr := fmt.Sprintf("%-21s", textfmt.HostPort(e.Address, e.Port))
	pod := e.Pod
	if pod == "" {
		pod = "(no pod)"
	}
	s := fmt.Sprintf("%s %s %s", tw.p.ok(e.Ready && e.NotServing == ""), addr, pod)
	if tw.o.Wide {
		s += fmt.Sprintf("  %s %s %s", e.Node, e.Zone, e.Slice)
	}
	switch {
	case e.NotServing != "":
		s += "  " + tw.p.paint(ansiRed, "not serving") + "\n  " + e.NotServing
	case e.Terminating:
		s += "  " + tw.p.paint(ansiYellow, "terminating")
	case !e.Ready:
		s += "  " + tw.p.paint(ansiRed, "not ready")
	}
	return s
}

func (tw *textWriter) pods(t *trace.Trace) []section {
	if len(t.Service.Selector) == 0 || t.Service.ExternalName != "" {
		return nil // an ExternalName Service's selector selects nothing
	}
	ready := 0
	var items []string
	for _, p := range t.Pods {
		if p.Ready {
			ready++
		}
		s := fmt.Sprintf("%s %s %s", tw.p.ok(p.Ready), p.Name, p.Phase)
		if p.Terminating {
			s += " " + tw.p.paint(ansiYellow, "terminating")
		}
		if tw.o.Wide {
			s += fmt.Sprintf("  %s %s restarts=%d", strings.Join(p.IPs, ","), p.Node, p.Restarts)
		}
		items = append(items, s)
	}
	head := fmt.Sprintf("pods matching %s: %d, %d ready", trace.SelectorString(t.Service.Selector), len(t.Pods), ready)
	if why := unreadReason(t, "list", "pods"); why != "" && len(t.Pods) == 0 {
		// An empty list here means "unknown", not "none".
		head = fmt.Sprintf("pods matching %s: %s", trace.SelectorString(t.Service.Selector), tw.p.paint(ansiYellow, "not read ("+why+")"))
	}
	return []section{{head, branches(items)}}
}

func (tw *textWriter) nodes(t *trace.Trace) []section {
	if len(t.Nodes) == 0 {
		if why := unreadReason(t, "get", "nodes"); why != "" {
			return []section{{head: "nodes: " + tw.p.paint(ansiYellow, "not read ("+why+")")}}
		}
		return nil
	}
	var parts []string
	for _, n := range t.Nodes {
		state := "Ready"
		switch {
		case n.Missing:
			state = "missing"
		case !n.Ready:
			state = "NotReady"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", tw.p.ok(n.Ready && !n.Missing), n.Name, state))
	}
	return []section{{head: "nodes: " + strings.Join(parts, ", ")}}
}

// unreadReason says why the source could not verb resource, or "" when it
// could.
func unreadReason(t *trace.Trace, verb, resource string) string {
	for _, g := range t.Unchecked {
		if g.Verb == verb && g.Resource == resource {
			if g.Forbidden {
				return "forbidden"
			}
			return g.Reason
		}
	}
	return ""
}

func (tw *textWriter) findings(fs []trace.Finding) {
	tw.line("")
	if len(fs) == 0 {
		tw.line("%s no findings: the Service is wired end to end", tw.p.ok(true))
		return
	}
	tw.line("%s", tw.p.paint(ansiBold, "Findings"))
	for _, f := range fs {
		// The subject goes on its own line when the header would not fit.
		head := fmt.Sprintf("%s  %s", tw.p.severity(f.Severity), tw.p.paint(ansiBold, f.ID))
		plain := len([]rune(fmt.Sprintf("%s  %s  %s", painter{}.severity(f.Severity), f.ID, f.Subject)))
		if plain <= tw.o.Width {
			tw.line("%s  %s", head, f.Subject)
		} else {
			tw.line("%s", head)
			tw.line("    %s", f.Subject)
		}
		for _, l := range wrap(f.Message, tw.o.Width-4) {
			tw.line("    %s", l)
		}
		for i, l := range wrap(f.Hint, tw.o.Width-6) {
			prefix := "      "
			if i == 0 {
				prefix = "    → "
			}
			tw.line("%s%s", prefix, tw.p.paint(ansiCyan, l))
		}
	}
}

func portName(p trace.PortHop) string {
	if p.Name != "" {
		return fmt.Sprintf("%s %d/%s", p.Name, p.Port, p.Protocol)
	}
	return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
}
