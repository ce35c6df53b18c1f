package path

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
)

type kind int

const (
	kindService kind = iota
	kindDNS
	kindDNSCheck
	kindSearchPath
	kindPort
	kindSlice
	kindEndpoint
	kindPods
	kindPod
	kindNodes
	kindNode
	kindNote
)

type state int

const (
	stateNone state = iota
	stateOK
	stateBad
	stateWarn
)

// node is one line of the tree. Keys are stable across reloads so the
// cursor and the expanded branches survive a refresh.
type node struct {
	key      string
	subject  string
	kind     kind
	label    string
	state    state
	port     int // index into Ports, for ports, slices and endpoints
	ref      int // index into the slice that kind refers to
	parent   *node
	children []*node
	depth    int
	expanded bool
}

func (n *node) add(c *node) *node {
	c.parent = n
	c.depth = n.depth + 1
	n.children = append(n.children, c)
	return c
}

func okState(ok bool) state {
	if ok {
		return stateOK
	}
	return stateBad
}

// readyState is ✔ when all of total are ready, ✘ when none is and ◐ in
// between: two of three ready is not healthy.
func readyState(ready, total int) state {
	switch {
	case ready == 0:
		return stateBad
	case ready < total:
		return stateWarn
	}
	return stateOK
}

// build lays the hops out in the order a packet meets them: name, port,
// slice, endpoint, pod, node.
func build(h *trace.Trace) *node {
	s := h.Service
	root := &node{key: "service", subject: "service/" + s.Name, kind: kindService, expanded: true,
		label: serviceLabel(h), state: okState(h.Found && !trace.HasErrors(h.Findings))}
	if !h.Found {
		return root
	}
	if h.DNS != nil {
		dnsNode(root, h.DNS)
	}
	for i, p := range h.Ports {
		portNode(root, h, i, p)
	}
	if len(s.Selector) > 0 || len(h.Pods) > 0 {
		podsNode(root, h)
	}
	if len(h.Nodes) > 0 {
		nodesNode(root, h)
	}
	if h.NetworkPolicy != nil {
		policyNode(root, h.NetworkPolicy)
	}
	return root
}

func serviceLabel(t *trace.Trace) string {
	s := t.Service
	label := fmt.Sprintf("Service %s/%s", s.Namespace, s.Name)
	switch {
	case !t.Found:
		return label + "  not found"
	case s.Headless:
		return label + "  " + s.Type + " headless"
	case s.ExternalName != "":
		return label + "  " + s.Type + " → " + s.ExternalName
	}
	return label + "  " + s.Type + " " + strings.Join(s.ClusterIPs, ",")
}

func dnsNode(root *node, d *trace.DNSHop) {
	ok := true
	for _, c := range d.Checks {
		ok = ok && (c.OK || !c.Queried)
	}
	label := "DNS " + d.Zone
	if d.Server != "" {
		label += " via " + d.Server
	}
	n := root.add(&node{key: "dns", subject: "dns", kind: kindDNS, label: label, state: okState(ok), expanded: true})
	for i, c := range d.Checks {
		st := stateNone
		if c.Queried {
			st = okState(c.OK)
		}
		n.add(&node{key: "dns/" + c.Name + "/" + c.Type, subject: "dns/" + c.Name, kind: kindDNSCheck, ref: i, state: st,
			label: c.Type + " " + c.Name + "  → " + dnsResult(c)})
	}
	if sp := d.SearchPath; sp != nil {
		n.add(&node{key: "dns/search", kind: kindSearchPath, state: okState(sp.Resolves != ""),
			label: fmt.Sprintf("search path from %s: %q → %s", sp.Pod, sp.Query, orDash(sp.Resolves))})
	}
}

// dnsResult ends a check's row: the expected records when offline (the
// row then has no mark), the answer when queried (the row's ✔ or ✘ says
// whether it was right), and what was expected when the answer is wrong.
// Names are long, so the row says no more; the details pane has both.
func dnsResult(c trace.DNSCheck) string {
	switch {
	case !c.Queried:
		return answer(c.Expected)
	case c.OK:
		return answer(c.Answered)
	}
	return answer(c.Answered) + " (want " + answer(c.Expected) + ")"
}

func answer(vals []string) string {
	if len(vals) == 0 {
		return "nothing"
	}
	return strings.Join(vals, ",")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func portNode(root *node, h *trace.Trace, i int, p trace.PortHop) {
	key := fmt.Sprintf("port/%s/%d/%s", p.Name, p.Port, p.Protocol)
	label := fmt.Sprintf("port %s → targetPort %s", portName(p), p.TargetPort)
	if p.NodePort != 0 {
		label += fmt.Sprintf(" (nodePort %d)", p.NodePort)
	}
	ready := p.ReadyEndpoints()
	label += fmt.Sprintf("   %d/%d ready", ready, len(p.Endpoints))
	st := readyState(ready, len(p.Endpoints))
	pk := p.Name
	if pk == "" {
		pk = fmt.Sprint(p.Port)
	}
	pn := root.add(&node{key: key, subject: "service/" + h.Service.Name + ":" + pk, kind: kindPort,
		port: i, label: label, state: st, expanded: true})
	if len(p.Endpoints) == 0 {
		pn.add(&node{key: key + "/none", kind: kindNote, state: stateBad, label: "no endpoints published for this port"})
		return
	}
	for _, name := range sliceOrder(p) {
		sliceNode(pn, h, i, name)
	}
}

// sliceOrder lists the slices that carry the port's endpoints, in the order
// their first endpoint appears.
func sliceOrder(p trace.PortHop) []string {
	var names []string
	seen := map[string]bool{}
	for _, e := range p.Endpoints {
		if !seen[e.Slice] {
			seen[e.Slice] = true
			names = append(names, e.Slice)
		}
	}
	return names
}

func sliceNode(pn *node, h *trace.Trace, port int, name string) {
	p := h.Ports[port]
	ref := -1
	for i, s := range h.Slices {
		if s.Name == name {
			ref = i
		}
	}
	total, ready := 0, 0
	for _, e := range p.Endpoints {
		if e.Slice == name {
			total++
			if e.Ready {
				ready++
			}
		}
	}
	label := fmt.Sprintf("EndpointSlice %s  %d/%d ready", name, ready, total)
	if ref >= 0 {
		label = fmt.Sprintf("EndpointSlice %s %s  %d/%d ready", name, h.Slices[ref].AddressType, ready, total)
	}
	sn := pn.add(&node{key: pn.key + "/slice/" + name, kind: kindSlice, port: port, ref: ref, label: label,
		state: readyState(ready, total), expanded: true})
	for i, e := range p.Endpoints {
		if e.Slice != name {
			continue
		}
		endpointNode(sn, h, port, i, e)
	}
}

func endpointNode(sn *node, h *trace.Trace, port, i int, e trace.EndpointHop) {
	st := stateOK
	switch {
	case e.Terminating:
		st = stateWarn
	case !e.Ready:
		st = stateBad
	}
	label := fmt.Sprintf("%-21s %s  %s", textfmt.HostPort(e.Address, e.Port), e.Pod, endpointConditions(e))
	en := sn.add(&node{key: fmt.Sprintf("%s/ep/%s:%d", sn.key, e.Address, e.Port), kind: kindEndpoint,
		port: port, ref: i, label: label, state: st})
	if pi := podIndex(h.Pods, e.Pod); pi >= 0 {
		pod := en.add(podLeaf(en.key, h.Pods[pi], pi))
		if ni := nodeIndex(h.Nodes, h.Pods[pi].Node); ni >= 0 {
			pod.add(nodeLeaf(pod.key, h.Nodes[ni], ni))
		}
	} else if ni := nodeIndex(h.Nodes, e.Node); ni >= 0 {
		en.add(nodeLeaf(en.key, h.Nodes[ni], ni))
	}
}

// endpointConditions spells out the three EndpointSlice conditions, the
// way kube-proxy reads them.
func endpointConditions(e trace.EndpointHop) string {
	var parts []string
	for _, c := range []struct {
		on   bool
		name string
	}{{e.Ready, "ready"}, {e.Serving, "serving"}, {e.Terminating, "terminating"}} {
		if c.on {
			parts = append(parts, c.name)
		}
	}
	if len(parts) == 0 {
		return "not ready"
	}
	return strings.Join(parts, ",")
}

func podsNode(root *node, h *trace.Trace) {
	ready := 0
	for _, p := range h.Pods {
		if p.Ready {
			ready++
		}
	}
	label := fmt.Sprintf("pods matching %s: %d, %d ready", trace.SelectorString(h.Service.Selector), len(h.Pods), ready)
	pn := root.add(&node{key: "pods", kind: kindPods, label: label, state: readyState(ready, len(h.Pods)), expanded: true})
	for i, p := range h.Pods {
		leaf := pn.add(podLeaf("pods", p, i))
		leaf.subject = "pod/" + p.Name
		if ni := nodeIndex(h.Nodes, p.Node); ni >= 0 {
			leaf.add(nodeLeaf(leaf.key, h.Nodes[ni], ni))
		}
	}
}

func podLeaf(parent string, p trace.PodHop, i int) *node {
	label := fmt.Sprintf("pod %s %s", p.Name, p.Phase)
	st := okState(p.Ready)
	if p.Terminating {
		label += " terminating"
		st = stateWarn
	}
	if p.Reason != "" {
		label += "  " + p.Reason
	}
	return &node{key: parent + "/pod/" + p.Name, kind: kindPod, ref: i, label: label, state: st}
}

func nodesNode(root *node, h *trace.Trace) {
	nn := root.add(&node{key: "nodes", kind: kindNodes, label: fmt.Sprintf("nodes: %d", len(h.Nodes)), state: stateNone, expanded: true})
	ok := true
	for i, n := range h.Nodes {
		leaf := nn.add(nodeLeaf("nodes", n, i))
		leaf.subject = "node/" + n.Name
		ok = ok && leaf.state == stateOK
	}
	nn.state = okState(ok)
}

func nodeLeaf(parent string, n trace.NodeHop, i int) *node {
	st, word := stateOK, "Ready"
	switch {
	case n.Missing:
		st, word = stateBad, "missing"
	case !n.Ready:
		st, word = stateBad, "NotReady"
	}
	label := fmt.Sprintf("node %s %s", n.Name, word)
	if n.InternalIP != "" {
		label += " " + n.InternalIP
	}
	return &node{key: parent + "/node/" + n.Name, kind: kindNode, ref: i, label: label, state: st}
}

func podIndex(pods []trace.PodHop, name string) int {
	for i, p := range pods {
		if name != "" && p.Name == name {
			return i
		}
	}
	return -1
}

func nodeIndex(nodes []trace.NodeHop, name string) int {
	for i, n := range nodes {
		if name != "" && n.Name == name {
			return i
		}
	}
	return -1
}

func portName(p trace.PortHop) string {
	if p.Name != "" {
		return fmt.Sprintf("%s %d/%s", p.Name, p.Port, p.Protocol)
	}
	return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
}
