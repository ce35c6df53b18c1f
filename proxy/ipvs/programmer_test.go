package ipvs

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// inSync checks the fake kernel against the generator's expectation, the
// way the trace judges a node: no drift for any Service, every address
// bound, and the canary untouched.
func inSync(t *testing.T, n *node, objs proxy.Objects) {
	t.Helper()
	got, err := kipvs.ReadTable(t.Context(), n.ipvs)
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := n.ipvs.ListAddresses(t.Context())
	for _, svc := range objs.Services {
		exp, err := model.ExpectedFor(svc, objs.Slices, model.Node{Name: "node-a", IPs: []netip.Addr{nodeIP}})
		if err != nil {
			t.Fatal(err)
		}
		if d := model.Drift(exp, got); len(d) != 0 {
			t.Errorf("drift of %s: %+v", exp.Service, d)
		}
		if d := model.BindingDrift(exp, bound); len(d) != 0 {
			t.Errorf("addresses of %s not bound: %+v", exp.Service, d)
		}
	}
	if have, ok := got.Find(canary); !ok || !cmp.Equal(have.RealServers[0].Key(), canary.RealServers[0].Key()) {
		t.Errorf("canary virtual server %s changed: %+v", canary.Key(), have)
	}
}

func TestSyncProgramsVirtualServersSetsAndRules(t *testing.T) {
	n := newNode(t, Replace)
	objs := world()
	rep := n.sync(t, objs, true)
	if !rep.Full || len(rep.Repairs) != 0 {
		t.Errorf("first sync = %+v, want full without repairs", rep)
	}
	inSync(t, n, objs)

	got, _ := kipvs.ReadTable(t.Context(), n.ipvs)
	sticky, _ := got.Lookup(model.TCP, netip.MustParseAddr("10.96.0.11"), 80)
	if !sticky.Persistent() || sticky.Timeout != 600 || sticky.Scheduler != "rr" {
		t.Errorf("ClientIP affinity virtual server = %+v, want rr, persistent 600 s", sticky)
	}
	if _, ok := got.Lookup(model.TCP, nodeIP, 30080); !ok {
		t.Errorf("no NodePort virtual server on %s:30080", nodeIP)
	}
	bound, _ := n.ipvs.ListAddresses(t.Context())
	want := []netip.Addr{netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("10.96.0.11"), netip.MustParseAddr("10.96.0.12"),
		netip.MustParseAddr("10.96.0.13"), netip.MustParseAddr("203.0.113.5")}
	if diff := cmp.Diff(want, bound, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("addresses on kube-ipvs0 (-want +got):\n%s", diff)
	}

	sets := n.sets.Dump()
	for _, line := range []string{
		"add KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "add KUBE-CLUSTER-IP 10.96.0.12,udp:53",
		"add KUBE-NODE-PORT-TCP 30080", "add KUBE-LOOP-BACK 10.244.1.2,tcp:8080,10.244.1.2",
		"add KUBE-EXTERNAL-IP 203.0.113.5,tcp:80", "add KUBE-IPVS-IPS 203.0.113.5", "create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port",
	} {
		if !strings.Contains(sets, line+"\n") {
			t.Errorf("ip sets lack %q:\n%s", line, sets)
		}
	}
	if strings.Contains(sets, "10.244.2.2") {
		t.Errorf("an endpoint of another node is in KUBE-LOOP-BACK:\n%s", sets)
	}
	nat, _ := n.ipt.Save(t.Context(), "nat", false)
	for _, line := range []string{
		`-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`,
		`-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ`,
		`-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`,
		`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
	} {
		if !strings.Contains(string(nat), line+"\n") {
			t.Errorf("nat table lacks\n%s\nin\n%s", line, nat)
		}
	}

	again := n.sync(t, objs, true)
	if again.Changes != "" || len(again.Repairs) != 0 {
		t.Errorf("second full sync changed %q, repairs %v; want nothing", again.Changes, again.Repairs)
	}
}

func TestPartialSyncAppliesOnlyTheDifference(t *testing.T) {
	n := newNode(t, Replace)
	objs := world()
	n.sync(t, objs, true)
	restores := len(n.ipt.Restores)

	setEndpoints(&objs, "sticky", "10.244.3.2@node-b", "10.244.3.3@node-b")
	setEndpoints(&objs, "dns")
	rep := n.sync(t, objs, false)
	want := "ipvsadm -a -t 10.96.0.11:80 -r 10.244.3.3:8080 -m -w 1\n" +
		"ipvsadm -d -u 10.96.0.12:53 -r 10.244.4.2:8053\n"
	if rep.Full || rep.Changes != want {
		t.Errorf("partial sync: full=%v changes\n%s\nwant\n%s", rep.Full, rep.Changes, want)
	}
	if len(n.ipt.Restores) != restores {
		t.Errorf("partial sync rewrote iptables rules that did not change:\n%s", n.ipt.Restores[len(n.ipt.Restores)-1])
	}
	inSync(t, n, objs)

	// A removed TCP endpoint drains (weight 0) and goes at the next full
	// sync once it holds no connections; that is no repair.
	setEndpoints(&objs, "sticky", "10.244.3.3@node-b")
	rep = n.sync(t, objs, false)
	if !strings.Contains(rep.Changes, "ipvsadm -e -t 10.96.0.11:80 -r 10.244.3.2:8080 -m -w 0\n") {
		t.Errorf("removed TCP endpoint: changes\n%s\nwant it drained to weight 0", rep.Changes)
	}
	rep = n.sync(t, objs, true)
	if rep.Changes != "ipvsadm -d -t 10.96.0.11:80 -r 10.244.3.2:8080\n" || len(rep.Repairs) != 0 {
		t.Errorf("full sync after draining: changes %q repairs %v; want the drained server deleted, no repair", rep.Changes, rep.Repairs)
	}
	inSync(t, n, objs)

	// A Service going away takes its virtual server, address and entries.
	objs.Services = slices.DeleteFunc(objs.Services, func(s *corev1.Service) bool { return s.Name == "dns" })
	rep = n.sync(t, objs, false)
	for _, line := range []string{"ipset del KUBE-CLUSTER-IP 10.96.0.12,udp:53", "ip addr del 10.96.0.12/32 dev kube-ipvs0", "ipvsadm -D -u 10.96.0.12:53"} {
		if !strings.Contains(rep.Changes, line+"\n") {
			t.Errorf("deleting a Service: changes lack %q:\n%s", line, rep.Changes)
		}
	}
	inSync(t, n, objs)
}

// TestMasqueradeAllMarksEveryClusterIPConnection checks --masquerade-all
// as kube-proxy's IPVS mode writes it: one rule marking every connection
// to a cluster IP, whatever its source, instead of the rule for traffic
// from outside the cluster CIDR.
func TestMasqueradeAllMarksEveryClusterIPConnection(t *testing.T) {
	n := newNode(t, Replace)
	local := func(context.Context) ([]netip.Addr, error) { return []netip.Addr{nodeIP}, nil }
	n.mode = NewMode(n.ipvs, n.sets, n.ipt, Replace, Settings{NodeName: "node-a", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), MasqueradeAll: true}, local)
	n.sync(t, world(), true)
	nat, _ := n.ipt.Save(t.Context(), "nat", false)
	all := `-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`
	if !strings.Contains(string(nat), all+"\n") || strings.Contains(string(nat), "! -s 10.244.0.0/16") {
		t.Errorf("nat table with --masquerade-all: want\n%s\nand no rule for traffic from outside the cluster CIDR in\n%s", all, nat)
	}
}
