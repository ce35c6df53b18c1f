package ipvs

import (
	"net/netip"
	"strconv"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Kinds of difference Drift reports.
const (
	VirtualServerMissing dataplane.DiffKind = "IPVSVirtualServerMissing"
	RealServerMissing    dataplane.DiffKind = "IPVSRealServerMissing"
	StaleRealServer      dataplane.DiffKind = "IPVSStaleRealServer"
	WeightMismatch       dataplane.DiffKind = "IPVSWeightMismatch"
	SchedulerMismatch    dataplane.DiffKind = "IPVSSchedulerMismatch"
	PersistenceMismatch  dataplane.DiffKind = "IPVSPersistenceMismatch"
	ForwardMismatch      dataplane.DiffKind = "IPVSForwardMismatch"
)

// At locates a virtual server, or with rs one of its real servers.
func At(vs VirtualServer, rs *RealServer) dataplane.Locator {
	l := dataplane.Locator{Mode: dataplane.ModeIPVS, Family: "IPv4", Chain: vs.Key(), Protocol: string(vs.Protocol), FWMark: vs.FWMark}
	if vs.IPv6 || vs.Address.Is6() {
		l.Family = "IPv6"
	}
	if vs.FWMark == 0 {
		l.Service = netip.AddrPortFrom(vs.Address, vs.Port)
	}
	if rs != nil {
		l.Endpoint = netip.AddrPortFrom(rs.Address, rs.Port)
	}
	return l
}

// Place names a locator's place as ipvsadm lists it: a virtual server, "VS
// -> real server", or an address to bind.
func Place(l dataplane.Locator) string {
	switch {
	case l.Address.IsValid():
		return l.Address.String()
	case l.Endpoint.IsValid():
		return l.Chain + " -> " + l.Endpoint.String()
	}
	return l.Chain
}

// Drift compares the state kube-proxy should have programmed for one Service
// with the actual table. Only the expected virtual servers are examined:
// virtual servers of other services are not this Service's drift.
//
// Draining is not drift: an expected real server of weight 0 may be absent,
// and an unexpected TCP real server of weight 0 is kube-proxy waiting for
// its connections to end. A UDP or SCTP one is stale, since kube-proxy
// deletes those at once.
func Drift(exp Expected, actual Table) []dataplane.Diff {
	var out []dataplane.Diff
	for _, want := range exp.VirtualServers {
		got, ok := actual.Find(want.VirtualServer)
		if !ok {
			out = append(out, dataplane.Diff{
				Kind: VirtualServerMissing, Where: At(want.VirtualServer, nil),
				Service: want.PortName, Role: string(want.Role),
			})
			continue
		}
		out = append(out, compareService(want, got)...)
		out = append(out, compareRealServers(want, got)...)
	}
	return out
}

// Find returns the virtual server of t with want's key (address, port and
// protocol, or firewall mark).
func (t Table) Find(want VirtualServer) (VirtualServer, bool) {
	for _, v := range t.VirtualServers {
		if v.Key() == want.Key() {
			return v, true
		}
	}
	return VirtualServer{}, false
}

func persistence(v VirtualServer) string {
	if !v.Persistent() {
		return "not persistent"
	}
	return "persistent " + strconv.FormatUint(uint64(v.Timeout), 10) + "s"
}

func compareService(want ExpectedVirtualServer, got VirtualServer) []dataplane.Diff {
	var out []dataplane.Diff
	if want.Scheduler != got.Scheduler {
		out = append(out, dataplane.Diff{
			Kind: SchedulerMismatch, Where: At(want.VirtualServer, nil), Expected: want.Scheduler, Actual: got.Scheduler,
		})
	}
	if persistence(want.VirtualServer) != persistence(got) {
		out = append(out, dataplane.Diff{
			Kind: PersistenceMismatch, Where: At(want.VirtualServer, nil), Expected: persistence(want.VirtualServer), Actual: persistence(got),
		})
	}
	return out
}

func compareRealServers(want ExpectedVirtualServer, got VirtualServer) []dataplane.Diff {
	var out []dataplane.Diff
	have := map[string]RealServer{}
	for _, rs := range got.RealServers {
		have[rs.Key()] = rs
	}
	wanted := map[string]bool{}
	for _, w := range want.RealServers {
		wanted[w.Key()] = true
		where := At(want.VirtualServer, &w)
		g, ok := have[w.Key()]
		switch {
		case !ok && w.Weight > 0:
			out = append(out, dataplane.Diff{
				Kind: RealServerMissing, Where: where,
				Service: want.PortName, WantWeight: w.Weight,
			})
		case ok && g.Weight != w.Weight:
			out = append(out, weightFinding(where, w, g))
		case ok && g.Forward != w.Forward:
			out = append(out, dataplane.Diff{
				Kind: ForwardMismatch, Where: where, Expected: string(w.Forward), Actual: string(g.Forward),
			})
		}
	}
	for _, g := range got.RealServers {
		if wanted[g.Key()] || (g.Weight == 0 && got.Protocol == TCP) {
			continue
		}
		out = append(out, dataplane.Diff{
			Kind: StaleRealServer, Where: At(want.VirtualServer, &g),
			Service: want.PortName, Weight: g.Weight,
		})
	}
	return out
}

func weightFinding(where dataplane.Locator, w, g RealServer) dataplane.Diff {
	return dataplane.Diff{Kind: WeightMismatch, Where: where, Weight: g.Weight, WantWeight: w.Weight}
}
