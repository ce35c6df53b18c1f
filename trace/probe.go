package trace

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dns"
	"github.com/svctrace/kubectl-svctrace/probe"
)

// Probe finding IDs.
const (
	ProbeNotRun             = "ProbeNotRun"
	ProbeServiceUnreachable = "ProbeServiceUnreachable"
	ProbeEndpointFailed     = "ProbeEndpointFailed"
	ProbeNodePortFailed     = "ProbeNodePortFailed"
	ProbeContradictsRules   = "ProbeContradictsRules"
	ProbeNoUDPReply         = "ProbeNoUDPReply"
)

// DNSClient is the resolver configuration read where a probe ran.
type DNSClient struct {
	Where      string
	Namespace  string
	ResolvConf dns.ResolvConf
}

// ProbeObservation is what a probe inside the cluster saw.
type ProbeObservation struct {
	Site   ProbeSite
	Report *probe.Report
	// Err says why the probe did not run or report.
	Err error
}

// ProbeHop is the probe's account in the trace.
type ProbeHop struct {
	// From is where the probe ran: pod/NS/NAME or node/NAME.
	From string `json:"from"`
	// Host is the host name the probe saw (the pod's or the node's).
	Host    string         `json:"host,omitempty"`
	Error   string         `json:"error,omitempty"`
	Results []probe.Result `json:"results"`
}

func probeHop(in Input) *ProbeHop {
	obs := in.Probe
	if obs == nil {
		return nil
	}
	h := &ProbeHop{From: obs.Site.Where, Results: []probe.Result{}}
	if obs.Err != nil {
		h.Error = obs.Err.Error()
	}
	if obs.Report != nil {
		h.Host = obs.Report.Host
		h.Results = append(h.Results, obs.Report.Results...)
	}
	return h
}

// probeFindings turns the probe's results into findings: what failed,
// what the failure pattern points at, and where the rules walked predict
// otherwise.
func probeFindings(in Input, t *Trace) []Finding {
	obs := in.Probe
	if obs == nil {
		return nil
	}
	if obs.Err != nil || obs.Report == nil {
		msg := "no probe ran"
		if obs.Err != nil {
			msg = obs.Err.Error()
		}
		return []Finding{{ID: ProbeNotRun, Severity: SeverityWarning, Subject: obs.Site.Where,
			Message: "the connection checks from inside the cluster did not run: " + msg,
			Hint:    "see the error; the rest of the trace stands on the API objects and rules alone"}}
	}
	var out []Finding
	byPort := map[string][]probe.Result{}
	var order []string
	for _, r := range obs.Report.Results {
		if _, ok := byPort[r.Target.Port]; !ok {
			order = append(order, r.Target.Port)
		}
		byPort[r.Target.Port] = append(byPort[r.Target.Port], r)
	}
	for _, port := range order {
		out = append(out, probePortFindings(in, t, obs.Site, port, byPort[port])...)
	}
	return out
}

// failed reports whether a result shows the connection did not work; a
// UDP datagram without reply proves nothing either way.
func failed(r probe.Result) bool { return r.Outcome != probe.OK && r.Outcome != probe.NoReply }

func probePortFindings(in Input, t *Trace, site ProbeSite, port string, rs []probe.Result) []Finding {
	var out []Finding
	var epOK, epFailed []probe.Result
	var silent []string
	for _, r := range rs {
		if r.Outcome == probe.NoReply {
			silent = append(silent, r.Target.Addr.String())
		}
		if r.Target.Kind != probe.KindEndpoint {
			continue
		}
		if failed(r) {
			epFailed = append(epFailed, r)
		} else if r.Outcome == probe.OK {
			epOK = append(epOK, r)
		}
	}
	subject := "service/" + in.Name + ":" + port
	for _, r := range epFailed {
		ready := probedEndpointReady(t, r.Target)
		sev, note := SeverityError, "kube-proxy sends it traffic"
		if !ready {
			sev, note = SeverityWarning, "it is not ready, so kube-proxy sends it no traffic"
		}
		out = append(out, Finding{ID: ProbeEndpointFailed, Severity: sev, Subject: "pod/" + r.Target.Pod,
			Message: fmt.Sprintf("from %s, endpoint %s (%s) %s: %s", site.Where, r.Target.Addr, r.Target.Pod, outcomeText(r), note),
			Hint:    endpointHint(r)})
	}
	for _, r := range rs {
		if !failed(r) || r.Target.Kind == probe.KindEndpoint {
			continue
		}
		id, what := ProbeServiceUnreachable, "the Service address "+r.Target.Addr.String()
		switch r.Target.Kind {
		case probe.KindNodePort:
			id, what = ProbeNodePortFailed, "node port "+r.Target.Addr.String()
		case probe.KindExternalIP:
			what = "external IP " + r.Target.Addr.String()
		}
		out = append(out, Finding{ID: id, Severity: SeverityError, Subject: subject,
			Message: fmt.Sprintf("from %s, %s %s%s", site.Where, what, outcomeText(r), endpointContext(epOK, epFailed)),
			Hint:    serviceHint(in, r, epOK, epFailed)})
		// Only endpoints that answer directly make a failed Service address
		// the rules' fault; when they fail too, the rules may well deliver.
		if len(epOK) > 0 && len(epFailed) == 0 {
			if f, ok := contradiction(t, site, r); ok {
				out = append(out, f)
			}
		}
	}
	for _, r := range rs {
		if r.Outcome == probe.OK && r.Target.Kind == probe.KindClusterIP {
			if f, ok := contradiction(t, site, r); ok {
				out = append(out, f)
			}
		}
	}
	if len(silent) > 0 {
		out = append(out, Finding{ID: ProbeNoUDPReply, Severity: SeverityInfo, Subject: subject,
			Message: fmt.Sprintf("from %s, UDP datagrams to %s got no reply: UDP cannot tell a server that ignores the probe's datagram from a dropped packet", site.Where, strings.Join(silent, ", ")),
			Hint:    "test with the application's own client from the pod (kubectl exec POD -- …); an ICMP refusal would have shown as refused"})
	}
	return out
}

func outcomeText(r probe.Result) string {
	switch r.Outcome {
	case probe.Refused:
		return "refused the connection"
	case probe.TimedOut:
		return "did not answer (timed out)"
	case probe.Unreachable:
		return "is unreachable (no route)"
	case probe.NoReply:
		return "sent no UDP reply"
	case probe.OK:
		if r.HTTPStatus != 0 {
			return fmt.Sprintf("answered HTTP %d", r.HTTPStatus)
		}
		return "accepted the connection"
	}
	return "failed: " + r.Detail
}

// endpointContext says how the endpoints did when connected to directly.
func endpointContext(ok, bad []probe.Result) string {
	switch {
	case len(ok) > 0 && len(bad) == 0:
		return fmt.Sprintf(", while all %d endpoints tried accepted connections directly", len(ok))
	case len(ok) > 0:
		return fmt.Sprintf(", while %d of %d endpoints tried accepted connections directly", len(ok), len(ok)+len(bad))
	case len(bad) > 0:
		return fmt.Sprintf("; no endpoint tried accepted connections directly either (%d tried)", len(bad))
	}
	return "; the Service has no endpoint to try"
}

func endpointHint(r probe.Result) string {
	switch r.Outcome {
	case probe.Refused:
		return fmt.Sprintf("nothing listens on port %d in pod %s: check the container's listening port (kubectl exec %s -- netstat -lnt, or its logs) against the Service's targetPort", r.Target.Addr.Port(), r.Target.Pod, r.Target.Pod)
	case probe.TimedOut:
		return "the pod does not answer from there: a NetworkPolicy selecting it may not allow this client (kubectl get networkpolicy -n NS), or the pod network between the nodes drops it"
	}
	return "check the pod's network (kubectl describe pod) and the node's routes"
}

func serviceHint(in Input, r probe.Result, epOK, epFailed []probe.Result) string {
	switch {
	case len(epOK) == 0 && len(epFailed) == 0 && r.Outcome == probe.Refused:
		return "the Service has no ready endpoint, so kube-proxy rejects connections: make the selected pods Ready (see the endpoints findings)"
	case len(epOK) == 0 && len(epFailed) > 0:
		return "the endpoints fail on their own: fix them first (see the endpoint findings), the Service cannot do better than its pods"
	case r.Target.Kind == probe.KindNodePort:
		return "the endpoints answer but the node port does not: check kube-proxy on that node (kubectl svctrace " + in.Name + " --node NODE) and the node's firewall"
	}
	return "the endpoints answer but the Service address does not: kube-proxy on the probe's node has not programmed the Service (kubectl svctrace " + in.Name + " --node NODE shows its rules), or a NetworkPolicy or firewall on the node drops it"
}

// probedEndpointReady reports whether the trace's port hops list target as ready.
func probedEndpointReady(t *Trace, target probe.Target) bool {
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if a, err := netip.ParseAddr(e.Address); err == nil && netip.AddrPortFrom(a, uint16(e.Port)) == target.Addr {
				return e.Ready
			}
		}
	}
	return false
}

// contradiction compares a probe result against the walk of the same
// packet through the node's rules, when the trace walked one from the
// probe's entry: a connection that worked where the rules refuse it, or
// failed where they deliver it, means the rules walked are not what the
// node holds.
func contradiction(t *Trace, site ProbeSite, r probe.Result) (Finding, bool) {
	for _, hop := range t.Dataplane {
		if site.Node == "" || hop.Node != site.Node {
			continue // the rules of another node say nothing of this probe
		}
		for _, w := range hop.Walks {
			if w.Packet.From != site.Entry || w.Packet.Dest != r.Target.Addr.Addr() || w.Packet.Port != r.Target.Addr.Port() ||
				!strings.EqualFold(w.Packet.Protocol, r.Target.Protocol) {
				continue
			}
			delivers := walkDelivers(w)
			worked := r.Outcome == probe.OK
			if delivers == worked {
				return Finding{}, false
			}
			predicted := "refuse or drop it"
			if delivers {
				predicted = "deliver it to an endpoint"
			}
			return Finding{ID: ProbeContradictsRules, Severity: SeverityWarning, Subject: "node/" + hop.Node,
				Message: fmt.Sprintf("from %s, %s %s, but the %s rules walked (%s) %s", site.Where, r.Target.Addr, outcomeText(r), hop.Mode, hop.Source, predicted),
				Hint:    "the rules walked are not what the probe's node holds: read the node's live rules (kubectl svctrace SVC --node NODE), or take a fresh dump"}, true
		}
	}
	return Finding{}, false
}

// walkDelivers reports whether any outcome of w reaches an endpoint.
func walkDelivers(w dataplane.Walk) bool {
	for _, o := range w.Outcomes {
		if (o.Verdict == dataplane.VerdictDNAT && !o.NotEndpoint) || (o.Verdict == dataplane.VerdictAccept && !o.Untranslated) {
			return true
		}
	}
	return false
}
