package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// Text writes t as a tree of hops followed by the findings and their hints.
func Text(w io.Writer, t *trace.Trace, o TextOptions) error {
	if o.Width <= 0 {
		o.Width = 80
	}
	tw := &textWriter{p: painter{on: o.Color}, o: o}
	tw.service(t)
	if t.Found {
		tw.ports(t)
		tw.pods(t)
		tw.nodes(t)
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
		facts = append(facts, "selector "+selector(s.Selector))
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

func (tw *textWriter) ports(t *trace.Trace) {
	for _, p := range t.Ports {
		tw.line("│")
		head := fmt.Sprintf("├─ port %s → targetPort %s", portName(p), p.TargetPort)
		if p.NodePort != 0 {
			head += fmt.Sprintf(" (nodePort %d)", p.NodePort)
		}
		tw.line("%s   %d/%d ready", head, p.ReadyEndpoints(), len(p.Endpoints))
		if len(p.Endpoints) == 0 {
			tw.line("│  └─ %s", tw.p.paint(ansiRed, "no endpoints published for this port"))
			continue
		}
		for i, e := range p.Endpoints {
			branch := "├─"
			if i == len(p.Endpoints)-1 {
				branch = "└─"
			}
			tw.line("│  %s %s", branch, tw.endpoint(e))
		}
	}
}

func (tw *textWriter) endpoint(e trace.EndpointHop) string {
	addr := fmt.Sprintf("%-21s", fmt.Sprintf("%s:%d", e.Address, e.Port))
	s := fmt.Sprintf("%s %s %s", tw.p.ok(e.Ready), addr, e.Pod)
	if tw.o.Wide {
		s += fmt.Sprintf("  %s %s %s", e.Node, e.Zone, e.Slice)
	}
	switch {
	case e.Terminating:
		s += "  " + tw.p.paint(ansiYellow, "terminating")
	case !e.Ready:
		s += "  " + tw.p.paint(ansiRed, "not ready")
	}
	return s
}

func (tw *textWriter) pods(t *trace.Trace) {
	if len(t.Service.Selector) == 0 {
		return
	}
	ready := 0
	for _, p := range t.Pods {
		if p.Ready {
			ready++
		}
	}
	tw.line("│")
	tw.line("├─ pods matching %s: %d, %d ready", selector(t.Service.Selector), len(t.Pods), ready)
	for i, p := range t.Pods {
		branch := "├─"
		if i == len(t.Pods)-1 {
			branch = "└─"
		}
		s := fmt.Sprintf("%s %s %s", tw.p.ok(p.Ready), p.Name, p.Phase)
		if tw.o.Wide {
			s += fmt.Sprintf("  %s %s restarts=%d", strings.Join(p.IPs, ","), p.Node, p.Restarts)
		}
		tw.line("│  %s %s", branch, s)
	}
}

func (tw *textWriter) nodes(t *trace.Trace) {
	if len(t.Nodes) == 0 {
		return
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
	tw.line("│")
	tw.line("└─ nodes: %s", strings.Join(parts, ", "))
}

func (tw *textWriter) findings(fs []trace.Finding) {
	tw.line("")
	if len(fs) == 0 {
		tw.line("%s no findings: the Service is wired end to end", tw.p.ok(true))
		return
	}
	tw.line("%s", tw.p.paint(ansiBold, "Findings"))
	for _, f := range fs {
		tw.line("%s  %s  %s", tw.p.severity(f.Severity), tw.p.paint(ansiBold, f.ID), f.Subject)
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

func selector(sel map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(sel) {
		parts = append(parts, k+"="+sel[k])
	}
	return strings.Join(parts, ",")
}
