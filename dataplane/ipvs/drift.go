package ipvs

import (
	"fmt"
	"strconv"
)

// Finding IDs reported by Drift.
const (
	VirtualServerMissing = "IPVSVirtualServerMissing"
	RealServerMissing    = "IPVSRealServerMissing"
	StaleRealServer      = "IPVSStaleRealServer"
	WeightMismatch       = "IPVSWeightMismatch"
	SchedulerMismatch    = "IPVSSchedulerMismatch"
	PersistenceMismatch  = "IPVSPersistenceMismatch"
	ForwardMismatch      = "IPVSForwardMismatch"
)

// Finding is one difference between expected and actual IPVS state.
type Finding struct {
	ID       string
	Subject  string // virtual server key, or "VS -> real server"
	Expected string
	Actual   string
	Message  string
}

// Drift compares the state kube-proxy should have programmed for one Service
// with the actual table. Only the expected virtual servers are examined:
// virtual servers of other services are not this Service's drift.
//
// Draining is not drift: an expected real server of weight 0 may be absent,
// and an unexpected TCP real server of weight 0 is kube-proxy waiting for
// its connections to end. A UDP or SCTP one is stale, since kube-proxy
// deletes those at once.
func Drift(exp Expected, actual Table) []Finding {
	var out []Finding
	for _, want := range exp.VirtualServers {
		got, ok := findVS(actual, want.VirtualServer)
		if !ok {
			out = append(out, Finding{
				ID: VirtualServerMissing, Subject: want.Key(),
				Expected: fmt.Sprintf("virtual server for %s %s", want.PortName, want.Role),
				Actual:   "absent",
				Message:  fmt.Sprintf("kube-proxy has not programmed %s %s %s: connections to it are not load-balanced; check kube-proxy's log and that it runs in ipvs mode", want.PortName, want.Role, want.Key()),
			})
			continue
		}
		out = append(out, compareService(want, got)...)
		out = append(out, compareRealServers(want, got)...)
	}
	return out
}

func findVS(t Table, want VirtualServer) (VirtualServer, bool) {
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

func compareService(want ExpectedVirtualServer, got VirtualServer) []Finding {
	var out []Finding
	if want.Scheduler != got.Scheduler {
		out = append(out, Finding{
			ID: SchedulerMismatch, Subject: want.Key(), Expected: want.Scheduler, Actual: got.Scheduler,
			Message: fmt.Sprintf("%s uses scheduler %q, kube-proxy's is %q: another program edits IPVS, or kube-proxy's --ipvs-scheduler differs from what was assumed", want.Key(), got.Scheduler, want.Scheduler),
		})
	}
	if persistence(want.VirtualServer) != persistence(got) {
		out = append(out, Finding{
			ID: PersistenceMismatch, Subject: want.Key(), Expected: persistence(want.VirtualServer), Actual: persistence(got),
			Message: fmt.Sprintf("%s session affinity does not match the Service's sessionAffinity: kube-proxy has not synced the change", want.Key()),
		})
	}
	return out
}

func compareRealServers(want ExpectedVirtualServer, got VirtualServer) []Finding {
	var out []Finding
	have := map[string]RealServer{}
	for _, rs := range got.RealServers {
		have[rs.Key()] = rs
	}
	wanted := map[string]bool{}
	for _, w := range want.RealServers {
		wanted[w.Key()] = true
		subject := want.Key() + " -> " + w.Key()
		g, ok := have[w.Key()]
		switch {
		case !ok && w.Weight > 0:
			out = append(out, Finding{
				ID: RealServerMissing, Subject: subject, Expected: "weight " + strconv.Itoa(w.Weight), Actual: "absent",
				Message: fmt.Sprintf("endpoint %s of %s is ready but not a real server of %s: it gets no traffic through this path", w.Key(), want.PortName, want.Key()),
			})
		case ok && g.Weight != w.Weight:
			out = append(out, weightFinding(want, subject, w, g))
		case ok && g.Forward != w.Forward:
			out = append(out, Finding{
				ID: ForwardMismatch, Subject: subject, Expected: string(w.Forward), Actual: string(g.Forward),
				Message: fmt.Sprintf("real server %s forwards by %s, kube-proxy uses %s: replies may bypass the node", w.Key(), g.Forward, w.Forward),
			})
		}
	}
	for _, g := range got.RealServers {
		if wanted[g.Key()] || (g.Weight == 0 && got.Protocol == TCP) {
			continue
		}
		out = append(out, Finding{
			ID: StaleRealServer, Subject: want.Key() + " -> " + g.Key(), Expected: "absent", Actual: "weight " + strconv.Itoa(g.Weight),
			Message: fmt.Sprintf("real server %s of %s is not a current endpoint of %s: connections sent there fail; kube-proxy has not synced or another program added it", g.Key(), want.Key(), want.PortName),
		})
	}
	return out
}

func weightFinding(want ExpectedVirtualServer, subject string, w, g RealServer) Finding {
	msg := fmt.Sprintf("real server %s of %s has weight %d, kube-proxy sets %d", w.Key(), want.Key(), g.Weight, w.Weight)
	switch {
	case w.Weight == 0:
		msg += ": a terminating endpoint still receives new connections"
	case g.Weight == 0:
		msg += ": a ready endpoint receives no new connections"
	}
	return Finding{ID: WeightMismatch, Subject: subject, Expected: "weight " + strconv.Itoa(w.Weight), Actual: "weight " + strconv.Itoa(g.Weight), Message: msg}
}
