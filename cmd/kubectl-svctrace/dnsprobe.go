package main

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dns"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// probeDNS asks r, which talks to server, every question the Service's
// expected records raise, walks the --from pod's search path, and stores
// what it saw, with the plan it asked by, in in.DNS for the trace.
func probeDNS(ctx context.Context, r dns.Resolver, server string, in *trace.Input) {
	if in.Service == nil {
		return
	}
	plan, err := trace.PlanDNS(*in)
	if err != nil {
		in.DNS = &trace.DNSObservation{Server: server, Err: err}
		return
	}
	// Every cluster DNS answers kubernetes.default; a server that does not
	// is another resolver (a VPN's, a host's) or asked in the wrong domain,
	// and its failures would blame the Service for nothing.
	probe := trace.KubernetesProbeName(plan.Expect.Zone)
	if a, err := r.Query(ctx, probe, dns.TypeA); err == nil && (a.Rcode == "NXDOMAIN" || a.Rcode == "SERVFAIL" || a.Rcode == "REFUSED") {
		in.DNS = &trace.DNSObservation{Server: server, Plan: plan, Err: &trace.NotClusterDNSError{Server: server, Probe: probe, Rcode: a.Rcode}}
		return
	}
	answers, err := dns.Ask(ctx, r, plan.Expect.Questions())
	in.DNS = &trace.DNSObservation{Server: server, Plan: plan, Answers: answers, Err: err}
	if plan.Search != nil && err == nil {
		// Walk the pod's search path as its resolver would: a name of
		// another Service answering before this one's shows only live.
		qtype := dns.TypeA
		if fam := in.Service.Spec.IPFamilies; len(fam) > 0 && fam[0] == corev1.IPv6Protocol {
			qtype = dns.TypeAAAA
		}
		rs, err := dns.CheckSearchPath(ctx, r, *plan.Search, qtype)
		in.DNS.SearchPath, in.DNS.SearchPathWalked = rs, err == nil
	}
}
