package trace

import (
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// DataplaneNotChecked is reported when the rules could not be generated or
// walked (a corrupt dump), so the dataplane hop is missing.
const DataplaneNotChecked = "DataplaneNotChecked"

// viewResult is what building one view's hop learnt for the checks: the
// differences of the node's rules, or why the hop could not be built.
type viewResult struct {
	node string
	mode string
	// source names the view's dump ("expected" for generated rules).
	source string
	diffs  []dataplane.Diff
	older  []string
	err    error
}

// dataplaneHops are the node's views of the Service: the iptables view
// (from a dump, or generated when no dump of another mode was given), and
// nftables and IPVS views for their dumps.
func dataplaneHops(in Input, t *Trace) ([]DataplaneHop, []viewResult) {
	s := in.Service
	if s.Spec.Type == corev1.ServiceTypeExternalName || t.Service.Headless || len(t.Service.ClusterIPs) == 0 {
		return nil, nil
	}
	if in.Dataplane == nil {
		in.Dataplane = &DataplaneInput{}
	}
	d := in.Dataplane
	if !d.hasDumps() && in.unread(slicesResource) {
		// Rules generated from endpoints nobody could read would show a
		// REJECT that is not there.
		v := resolveNode(in, t)
		return []DataplaneHop{{Node: v.name, Mode: "iptables", Walks: []dataplane.Walk{}, Chains: []dataplane.Listing{},
			Note: "the EndpointSlices could not be read, so the rules kube-proxy should write are unknown; pass a node's --iptables-save (or --nft, --ipvs) to walk its real rules"}}, nil
	}
	var hops []DataplaneHop
	var results []viewResult
	base, nodeNote, runs := pickNode(in, t, resolveNode(in, t))
	for i, vw := range views(in, base) {
		run, err := runs.get(i, in, vw)
		var hop DataplaneHop
		if err == nil {
			hop, err = build(run, in, base, vw)
		}
		if err != nil {
			results = append(results, viewResult{node: vw.v.name, err: err})
			continue
		}
		hop.NodeNote = nodeNote
		finishHop(&hop, vw.v, in.Dataplane.Port, t)
		if hop.SavedAt == "" && hop.Source != "expected" && !in.Dataplane.SavedAt.IsZero() {
			hop.SavedAt = in.Dataplane.SavedAt.UTC().Format(time.RFC3339)
		}
		switch why := kubeProxySkips(in); {
		case len(hop.Walks) > 0 || why == "":
		case servedByServe(in):
			hop.Note = "no rule of --serve to walk: the Service is " + why
		default:
			hop.Note = "no kube-proxy rule to walk: the Service is " + why
		}
		hops = append(hops, hop)
		results = append(results, viewResult{node: vw.v.name, mode: hop.Mode, source: hop.Source, diffs: run.diffs(), older: run.olderLayout()})
	}
	return hops, results
}

// dataplaneFindings reports the differences of each view, the views that
// could not be built, and stale conntrack entries.
func dataplaneFindings(in Input, t *Trace, results []viewResult) []Finding {
	var out []Finding
	for _, r := range results {
		if r.err != nil {
			out = append(out, Finding{ID: DataplaneNotChecked, Severity: SeverityWarning, Subject: "node/" + r.node,
				Message: "could not follow the Service through the node's rules: " + r.err.Error(),
				Hint:    "check the dump is complete and from this node (iptables-save, nft -j list ruleset, ipvsadm-save -n)"})
			continue
		}
		fs := diffFindings(r.diffs, in.Name)
		if servedByServe(in) && (r.mode == string(dataplane.ModeIPTables) || r.mode == string(dataplane.ModeIPVS) ||
			r.mode == string(dataplane.ModeNFTables) && nftProxier(in, familiesInOrder(in.Service)[0]) == nftables.Serve) {
			serveHints(fs, in)
		}
		out = append(out, dumpAge(in, r.source, fs)...)
		if r.mode == string(dataplane.ModeNFTables) {
			out = append(out, nftLayoutFindings(in, r.node)...)
		}
		if len(r.older) > 0 {
			out = append(out, olderLayoutFinding(r))
		}
	}
	if in.Dataplane != nil && in.Dataplane.ConntrackName != "" && len(results) > 0 {
		out = append(out, conntrackFindings(in, t)...)
	}
	return out
}

// build walks the view's packets, then, with EveryEntry, those of the
// other entries, each with a source fitting it, all through the one
// prepared run, and lists the chains.
func build(run prepared, in Input, base nodeView, vw view) (DataplaneHop, error) {
	hop := run.hop()
	walks, err := run.walks(vw.v)
	if err != nil {
		return hop, err
	}
	hop.Walks = walks
	if in.Dataplane.EveryEntry {
		for _, entry := range dataplane.Entries {
			if entry == base.from {
				continue
			}
			other := base
			other.from = entry
			other.src = defaultSource(other, in)
			if ws, err := run.walks(vw.of(other)); err == nil {
				hop.Walks = append(hop.Walks, ws...)
			}
		}
	}
	hop.Chains = run.listings()
	return hop, nil
}

// view is one dataplane hop to build: how to prepare its mode's run, and
// whose view, derived from the node's by of.
type view struct {
	prepare func(Input, nodeView) (prepared, error)
	v       nodeView
	of      func(nodeView) nodeView
}

// runs are prepared runs of views, kept by index; nil ones are prepared
// when asked for.
type runs []prepared

func (rs runs) get(i int, in Input, vw view) (prepared, error) {
	if i < len(rs) && rs[i] != nil {
		return rs[i], nil
	}
	return vw.prepare(in, vw.v)
}

// views picks the hops: the dumps given, or, with none, what each IP
// family's iptables proxier should write.
func views(in Input, v nodeView) []view {
	d := in.Dataplane
	var out []view
	family := func(f corev1.IPFamily) view {
		of := func(v nodeView) nodeView { return v.forFamily(f, in) }
		return view{iptablesRun, of(v), of}
	}
	switch {
	case len(v.iptDumps) > 0:
		for _, f := range dumpFamilies(in.Service, v.iptDumps) {
			out = append(out, family(f))
		}
	case d.NFT == nil && d.IPVS == nil:
		for _, f := range familiesInOrder(in.Service) {
			out = append(out, family(f))
		}
	}
	if d.NFT != nil {
		for _, f := range nftFamilies(in.Service, d.NFT) {
			of := func(v nodeView) nodeView { return v.forFamily(f, in) }
			out = append(out, view{nftRun, of(v), of})
		}
	}
	if d.IPVS != nil {
		for _, f := range familiesInOrder(in.Service) {
			of := func(v nodeView) nodeView { return v.forFamily(f, in) }
			out = append(out, view{ipvsRun, of(v), of})
		}
	}
	return out
}

func iptablesRun(in Input, v nodeView) (prepared, error) {
	d := in.Dataplane
	head := DataplaneHop{Node: v.name, Mode: string(dataplane.ModeIPTables), Family: string(v.family), Source: "expected"}
	var dump *iptables.Dump
	if fd := v.iptDumps[v.family]; fd != nil {
		dump, head.Source, head.SavedAt = fd.dump, fd.name, fd.savedAt
	}
	return prepare(iptables.Proxier{}, dump, dump != nil, in, v, head, generated(d.Port))
}

func nftRun(in Input, v nodeView) (prepared, error) {
	d := in.Dataplane
	head := DataplaneHop{Node: v.name, Mode: string(dataplane.ModeNFTables), Source: d.NFTName}
	if namesFamily(in.Service, v.family) {
		head.Family = string(v.family) // kube-proxy's table of this family: ip6 for IPv6
	}
	return prepare(nftProxier(in, v.family), d.NFT, true, in, v, head, fromService[*nftables.Want](in.Service, d.Port, v.family))
}

func ipvsRun(in Input, v nodeView) (prepared, error) {
	d := in.Dataplane
	head := DataplaneHop{Node: v.name, Mode: string(dataplane.ModeIPVS), Source: d.IPVSName}
	got := &ipvs.State{Table: *d.IPVS, Local: d.IPVSLocal, LocalRead: d.IPVSLocalName != ""}
	p := ipvs.Proxier{}
	if servedByServe(in) {
		p = ipvs.Serve // scoped --serve programs it, in the same table
	}
	var m dataplane.Proxier[*ipvs.Want, *ipvs.State] = p
	if len(in.Service.Spec.IPFamilies) > 1 {
		m = ipvsFamily{Proxier: p, family: v.family}
	}
	if namesFamily(in.Service, v.family) {
		head.Family = string(v.family)
	}
	return prepare(m, got, true, in, v, head, fromService[*ipvs.Want](in.Service, d.Port, v.family))
}

// namesFamily tells whether an nftables or IPVS hop names its family: for a
// dual-stack Service (one hop per family) and for an IPv6 one, so an
// IPv6-only Service's hop says it walked the ip6 table; an IPv4-only
// Service's hop, the usual case, leaves it out.
func namesFamily(s *corev1.Service, f corev1.IPFamily) bool {
	return len(s.Spec.IPFamilies) > 1 || f == corev1.IPv6Protocol
}

// finishHop fills what every hop needs for output: a node name, lists that
// are never null, a note when nothing was walked, and judged outcomes.
func finishHop(hop *DataplaneHop, v nodeView, port string, t *Trace) {
	if hop.Node == "" {
		hop.Node = "(unknown node)"
	}
	if hop.Walks == nil {
		hop.Walks = []dataplane.Walk{}
		hop.Note = noWalkNote(v, port, t)
	}
	if hop.Chains == nil {
		hop.Chains = []dataplane.Listing{}
	}
	judgeOutcomes(hop, t)
}

// noWalkNote explains an empty list of walks.
func noWalkNote(v nodeView, port string, t *Trace) string {
	switch {
	case v.from == dataplane.EntryExternal && len(v.ips) == 0 && hasNodePort(t):
		family := ""
		if v.family == corev1.IPv6Protocol {
			family = "IPv6 "
		}
		return fmt.Sprintf("no packet from outside to walk: node %s has no %saddress to receive the NodePort on", v.name, family)
	case v.from == dataplane.EntryExternal:
		return "no packet from outside to walk: the Service has no NodePort, LoadBalancer IP or external IP"
	case port != "":
		return "no Service port named or numbered " + port
	}
	return "no packet to walk: the Service has no cluster IP of this family"
}

func hasNodePort(t *Trace) bool {
	for _, p := range t.Ports {
		if p.NodePort != 0 {
			return true
		}
	}
	return false
}

// familiesInOrder lists the Service's IP families, primary first.
func familiesInOrder(s *corev1.Service) []corev1.IPFamily {
	if len(s.Spec.IPFamilies) > 0 {
		return s.Spec.IPFamilies
	}
	return []corev1.IPFamily{corev1.IPv4Protocol}
}

// judgeOutcomes marks DNAT targets that are not endpoints of the Service
// and explains packets that leave the rules untranslated.
func judgeOutcomes(hop *DataplaneHop, t *Trace) {
	current := map[string]bool{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if e.Ready || (e.Serving && e.Terminating) {
				ip, err := netip.ParseAddr(e.Address)
				if err == nil {
					current[netip.AddrPortFrom(ip, uint16(e.Port)).String()] = true
				}
			}
		}
	}
	for i := range hop.Walks {
		w := &hop.Walks[i]
		for j := range w.Outcomes {
			o := &w.Outcomes[j]
			switch {
			case o.Verdict == dataplane.VerdictDNAT && !current[o.Target]:
				o.NotEndpoint = true
			case o.Untranslated:
				o.Path = fmt.Sprintf("no rule translates it: the packet goes to %s unchanged and the connection fails", w.Packet.DestString())
			}
		}
	}
}
