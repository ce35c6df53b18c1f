package ipvs

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset/ipsettest"
	"github.com/svctrace/kubectl-svctrace/kernel/iptables/iptablestest"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipvs/ipvstest"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

var nodeIP6 = netip.MustParseAddr("fd00::2")

// canary6 is a foreign IPv6 virtual server on the node.
var canary6 = model.VirtualServer{Address: netip.MustParseAddr("fd00:99::1"), Port: 80, Protocol: model.TCP, Scheduler: "wrr",
	RealServers: []model.RealServer{{Address: netip.MustParseAddr("fd00:99:1::1"), Port: 80, Weight: 1, Forward: model.Masquerade}}}

// dualNode is a dual-stack node's kernel, faked: one IPVS table and ip
// set namespace, iptables and ip6tables apart, with foreign canaries in
// each.
type dualNode struct {
	ipvs     *ipvstest.Fake
	sets     *ipsettest.Fake
	ipt, ip6 *iptablestest.Fake
	modes    Families
}

func newDualNode(t *testing.T, l Layout) *dualNode {
	t.Helper()
	n := &dualNode{ipvs: ipvstest.NewFake(model.Table{VirtualServers: []model.VirtualServer{canary, canary6}}),
		sets: ipsettest.NewFake(), ipt: iptablestest.New(), ip6: iptablestest.New()}
	n.ipvs.Dummy = l.Interface
	ctx := t.Context()
	if err := n.sets.CreateSet(ctx, ipset.Set{Name: "FOREIGN-6", Type: ipset.HashIP, IPv6: true}); err != nil {
		t.Fatal(err)
	}
	if err := n.ip6.Restore(ctx, []byte("*filter\n:FOREIGN - [0:0]\n-A FOREIGN -j ACCEPT\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	local := func(context.Context) ([]netip.Addr, error) { return []netip.Addr{nodeIP, nodeIP6}, nil }
	v4 := Settings{NodeName: "node-a", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	v6 := Settings{NodeName: "node-a", ClusterCIDR: netip.MustParsePrefix("fd00:10:244::/48")}
	n.modes = Families{NewMode(n.ipvs, n.sets, n.ipt, l.Family(false), v4, local), NewMode(n.ipvs, n.sets, n.ip6, l.Family(true), v6, local)}
	return n
}

// dualStack: web, RequireDualStack, NodePort 30080, with one endpoint
// per family on this node and one IPv4 one elsewhere.
func dualStack() proxy.Objects {
	port := corev1.ServicePort{Name: "http", Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00:96::10"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, Ports: []corev1.ServicePort{port}}}
	v4 := slice("web", port, "10.244.1.2@node-a", "10.244.2.2@node-b")
	v6 := slice("web", port, "fd00:10:244:1::2@node-a")
	v6.Name, v6.AddressType = "web-ipv6", discoveryv1.AddressTypeIPv6
	return proxy.Objects{Services: []*corev1.Service{svc}, Slices: []*discoveryv1.EndpointSlice{v4, v6},
		Node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP.String()}, {Type: corev1.NodeInternalIP, Address: nodeIP6.String()}}}}}
}

func TestSetNamesOfTheIPv6Proxier(t *testing.T) {
	for _, c := range []struct {
		l          Layout
		kube, want string
	}{
		{Replace, setClusterIP, "KUBE-CLUSTER-IP"},
		{Replace.Family(true), setClusterIP, "KUBE-6-CLUSTER-IP"},
		{Replace.Family(true), setNodePortLocSCTP, "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS"},
		{Replace.Family(true), setLBSourceCIDR, "KUBE-6-LOAD-BALANCER-SOURCE-CID"},
		{Replace.Family(true), setLBSourceIP, "KUBE-6-LOAD-BALANCER-SOURCE-IP"},
		{Scoped, setNodePortLocSCTP, "SVCI-NODE-PORT-LOCAL-SCTP-HASH"},
		{Scoped.Family(true), setNodePortLocSCTP, "SVCI-6-NODE-PORT-LOCAL-SCTP-HAS"},
		{Scoped.Family(true), setIPVSIPs, "SVCI-6-IPVS-IPS"},
	} {
		if got := c.l.SetName(c.kube); got != c.want {
			t.Errorf("%+v SetName(%s) = %s, want %s", c.l, c.kube, got, c.want)
		}
	}
	for _, si := range setInfos {
		for _, l := range []Layout{Replace.Family(true), Scoped.Family(true)} {
			if n := l.SetName(si.name); len(n) > maxSetName {
				t.Errorf("%s has %d characters, more than ipset takes", n, len(n))
			}
		}
	}
	if got := Replace.Family(true).Name("KUBE-SERVICES"); got != "KUBE-SERVICES" {
		t.Errorf("IPv6 chain name = %s, want kube-proxy's KUBE-SERVICES (in ip6tables)", got)
	}
}

// TestFamiliesProgramIPv6SetsAndRules: a dual-stack Service gets KUBE-6-
// sets of family inet6 holding its IPv6 entries and ip6tables rules
// matching on them, the IPv4 sets and rules keep only IPv4, the trace
// finds no drift in either family, and a second full sync has nothing
// to do.
func TestFamiliesProgramIPv6SetsAndRules(t *testing.T) {
	n := newDualNode(t, Replace)
	objs := dualStack()
	ctx := t.Context()
	if _, err := n.modes.Sync(ctx, objs, true, false); err != nil {
		t.Fatal(err)
	}
	sets := n.sets.Dump()
	for _, line := range []string{
		"create KUBE-6-CLUSTER-IP hash:ip,port family inet6", "add KUBE-6-CLUSTER-IP fd00:96::10,tcp:80",
		"create KUBE-6-LOOP-BACK hash:ip,port,ip family inet6", "add KUBE-6-LOOP-BACK fd00:10:244:1::2,tcp:8080,fd00:10:244:1::2",
		"create KUBE-6-NODE-PORT-TCP bitmap:port", "add KUBE-6-NODE-PORT-TCP 30080",
		"add KUBE-6-IPVS-IPS fd00:96::10", "create KUBE-6-NODE-PORT-LOCAL-SCTP-HAS hash:ip,port family inet6",
		"create KUBE-CLUSTER-IP hash:ip,port", "add KUBE-CLUSTER-IP 10.96.0.10,tcp:80", "add KUBE-IPVS-IPS 10.96.0.10",
	} {
		if !strings.Contains(sets, line+"\n") {
			t.Errorf("ip sets lack %q:\n%s", line, sets)
		}
	}
	for _, name := range []string{"KUBE-CLUSTER-IP", "KUBE-LOOP-BACK", "KUBE-IPVS-IPS"} {
		entries, _ := n.sets.ListEntries(ctx, name)
		for _, e := range entries {
			if strings.Contains(e, "fd00") {
				t.Errorf("IPv4 set %s holds %s", name, e)
			}
		}
	}
	nat6, _ := n.ip6.Save(ctx, "nat", false)
	filter6, _ := n.ip6.Save(ctx, "filter", false)
	for _, line := range []string{
		`-A KUBE-SERVICES -s ::1/128 -j RETURN`,
		`-A KUBE-SERVICES ! -s fd00:10:244::/48 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`,
		`-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-6-NODE-PORT-TCP dst -j KUBE-MARK-MASQ`,
		`-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-6-LOOP-BACK dst,dst,src -j MASQUERADE`,
		`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		`-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-6-IPVS-IPS dst -j REJECT --reject-with icmp6-port-unreachable`,
		`-A FOREIGN -j ACCEPT`,
	} {
		if !strings.Contains(string(nat6)+string(filter6), line+"\n") {
			t.Errorf("ip6tables lack\n%s\nin\n%s%s", line, nat6, filter6)
		}
	}
	v4 := n.ipt.Dump()
	if strings.Contains(v4, "KUBE-6-") || strings.Contains(v4, "fd00") || !strings.Contains(v4, "--match-set KUBE-CLUSTER-IP dst,dst") {
		t.Errorf("iptables (IPv4) rules:\n%s\nwant IPv4 sets only", v4)
	}
	if strings.Contains(string(nat6), "--match-set KUBE-CLUSTER-IP ") {
		t.Errorf("ip6tables match on an IPv4 set:\n%s", nat6)
	}

	got, err := kipvs.ReadTable(ctx, n.ipvs)
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := n.ipvs.ListAddresses(ctx)
	exp, err := model.ExpectedFor(objs.Services[0], objs.Slices, model.Node{Name: "node-a", IPs: []netip.Addr{nodeIP, nodeIP6}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v6 := range []bool{false, true} {
		fam := exp.OfFamily(v6)
		if len(fam.VirtualServers) != 2 {
			t.Errorf("IPv6=%v: %d virtual servers expected, want ClusterIP and NodePort", v6, len(fam.VirtualServers))
		}
		if d := model.Drift(fam, got); len(d) != 0 {
			t.Errorf("IPv6=%v drift: %+v", v6, d)
		}
		if d := model.BindingDrift(fam, bound); len(d) != 0 {
			t.Errorf("IPv6=%v addresses not bound: %+v", v6, d)
		}
	}
	for _, c := range []model.VirtualServer{canary, canary6} {
		if _, ok := got.Find(c); !ok {
			t.Errorf("canary %s is gone", c.Key())
		}
	}

	st, err := n.modes.State(ctx, objs, "ns", "web")
	if err != nil {
		t.Fatal(err)
	}
	state := st.(ServiceState)
	var keys []string
	for _, vs := range state.VirtualServers {
		keys = append(keys, vs.VirtualServer)
	}
	if state.Drift || len(keys) != 4 || !strings.Contains(strings.Join(keys, " "), "[fd00:96::10]:80") {
		t.Errorf("/debug/state: drift %v, virtual servers %v; want both families' ClusterIP and NodePort, no drift", state.Drift, keys)
	}

	again, err := n.modes.Sync(ctx, objs, true, false)
	if err != nil || again.Changes != "" || len(again.Repairs) != 0 {
		t.Errorf("second full sync: %v, changes %q, repairs %v; want nothing", err, again.Changes, again.Repairs)
	}
	if !strings.HasPrefix(again.Summary, "IPv4 full sync") || !strings.Contains(again.Summary, "; IPv6 full sync") {
		t.Errorf("summary %q, want one part per family", again.Summary)
	}
}

// TestFamiliesDryRunNamesIP6Tables: the IPv6 part of a dry run is headed
// by its family and its rules are for ip6tables-restore; nothing is
// written.
func TestFamiliesDryRunNamesIP6Tables(t *testing.T) {
	n := newDualNode(t, Scoped)
	before := n.sets.Dump() + n.ipvs.Dump() + n.ip6.Dump()
	rep, err := n.modes.Sync(t.Context(), dualStack(), true, true)
	if err != nil {
		t.Fatal(err)
	}
	_, v6, ok := strings.Cut(rep.Changes, "# IPv6\n")
	if !ok || !strings.HasPrefix(rep.Changes, "# IPv4\n") {
		t.Fatalf("dry run: want a part per family:\n%s", rep.Changes)
	}
	for _, line := range []string{"ipset create SVCI-6-CLUSTER-IP hash:ip,port", "ipset add SVCI-6-CLUSTER-IP fd00:96::10,tcp:80",
		"ip addr add fd00:96::10/128 dev svctrace-ipvs0", "ip6tables-restore --noflush <<EOF"} {
		if !strings.Contains(v6, line+"\n") {
			t.Errorf("IPv6 part lacks %q:\n%s", line, v6)
		}
	}
	if strings.Contains(v6, "10.96.0.10") || strings.Contains(v6, "\niptables-restore") {
		t.Errorf("IPv6 part holds IPv4 state:\n%s", v6)
	}
	if after := n.sets.Dump() + n.ipvs.Dump() + n.ip6.Dump(); after != before {
		t.Errorf("the dry run wrote:\n%s", after)
	}
}

// TestFamiliesCleanupRemovesBothFamilies: --cleanup removes the virtual
// servers, sets, chains and jumps of both families and the interface,
// and leaves the foreign canaries of each family.
func TestFamiliesCleanupRemovesBothFamilies(t *testing.T) {
	for _, l := range []Layout{Replace, Scoped} {
		t.Run(l.Prefix, func(t *testing.T) {
			n := newDualNode(t, l)
			ctx := t.Context()
			if _, err := n.modes.Sync(ctx, dualStack(), true, false); err != nil {
				t.Fatal(err)
			}
			// A fresh process cleans up: it knows nothing of the sync.
			local := func(context.Context) ([]netip.Addr, error) { return []netip.Addr{nodeIP, nodeIP6}, nil }
			modes := Families{NewMode(n.ipvs, n.sets, n.ipt, l.Family(false), Settings{}, local), NewMode(n.ipvs, n.sets, n.ip6, l.Family(true), Settings{}, local)}
			if _, err := modes.Cleanup(ctx, false); err != nil {
				t.Fatal(err)
			}
			got, _ := kipvs.ReadTable(ctx, n.ipvs)
			if len(got.VirtualServers) != 2 {
				t.Errorf("after cleanup:\n%s\nwant only the two canaries", model.FormatSave(got))
			}
			if n.ipvs.HasInterface() {
				t.Errorf("%s is still there", l.Interface)
			}
			if sets, _ := n.sets.ListSets(ctx); strings.Join(sets, " ") != "FOREIGN-6" {
				t.Errorf("sets after cleanup: %v, want only FOREIGN-6", sets)
			}
			if d := n.ipt.Dump(); d != iptablestest.New().Dump() {
				t.Errorf("iptables after cleanup:\n%s", d)
			}
			d6 := n.ip6.Dump()
			if strings.Contains(d6, l.Prefix) || !strings.Contains(d6, "-A FOREIGN -j ACCEPT") {
				t.Errorf("ip6tables after cleanup:\n%s\nwant only the foreign chain", d6)
			}
		})
	}
}
