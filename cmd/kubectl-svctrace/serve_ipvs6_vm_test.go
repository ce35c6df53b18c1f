//go:build ipvsvm && linux

package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

var vmCanary6 = model.VirtualServer{Address: netip.MustParseAddr("fd00:99::1"), Port: 80, Protocol: model.TCP, Scheduler: "wrr",
	RealServers: []model.RealServer{{Address: netip.MustParseAddr("fd00:99:1::1"), Port: 80, Weight: 1, Forward: model.Masquerade}}}

// TestVMServeIPVSDualStack programs a dual-stack Service with `--serve
// --proxy-mode ipvs --replace-kube-proxy --once`: IPv6 virtual servers
// and addresses, KUBE-6- ip sets of family inet6 and ip6tables rules as
// kube-proxy's IPv6 proxier writes them; IPv6 connections from the node
// reach both endpoints, masqueraded by those rules; the trace finds no
// drift in the IPv6 family; a second --once has nothing to do; --cleanup
// leaves only foreign canaries of each family.
func TestVMServeIPVSDualStack(t *testing.T) {
	ctx := t.Context()
	k, err := kipvs.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := kipvs.Apply(ctx, k, model.Table{VirtualServers: []model.VirtualServer{vmCanary, vmCanary6}}); err != nil {
		t.Fatal(err)
	}
	sets, err := ipset.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sets.CreateSet(ctx, ipset.Set{Name: "FOREIGN-6", Type: ipset.HashIP, IPv6: true}); err != nil {
		t.Fatal(err)
	}
	vmShow(t, "ip6tables-legacy", "-t", "filter", "-N", "FOREIGN")
	vmShow(t, "ip6tables-legacy", "-t", "filter", "-A", "FOREIGN", "-j", "ACCEPT")
	for i := 4; i <= 5; i++ {
		vmServe(vmNamespace(t, i, true))
	}
	dir := t.TempDir()
	writeDualStackObjects(t, dir, []string{"10.244.4.2", "10.244.5.2"})
	args := []string{"--serve", "--proxy-mode", "ipvs", "--replace-kube-proxy", "--node", "node-a", "-f", dir,
		"--cluster-cidr", "10.244.0.0/16,fd00:10:244::/48"}
	code, out, errOut := vmRun(t, append(args, "--once")...)
	if code != 0 || !strings.Contains(out, "IPv6 full sync") {
		t.Fatalf("--once: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("--once: %s", out)
	t.Logf("ipvsadm -Ln:\n%s", vmShow(t, "ipvsadm", "-Ln"))

	checkVMIPv6SetsAndRules(t)
	checkVMIPv6InSync(t, k, dir)

	seen := map[string]int{}
	for i := 0; i < 20; i++ {
		ans := dialOnce("[fd00:96::20]:80")
		addr, from, ok := strings.Cut(ans, " from ")
		if !ok || !strings.HasPrefix(addr, "fd00:10:244:") {
			t.Fatalf("connection %d to ClusterIP [fd00:96::20]:80: %q", i, ans)
		}
		// KUBE-6-CLUSTER-IP's rule marks the node's connection (its
		// source is the VIP) and KUBE-POSTROUTING masquerades it to the
		// node's address on the endpoint's link.
		if want := strings.TrimSuffix(addr, "2") + "1"; from != want {
			t.Errorf("endpoint %s saw the connection from %s, want %s (masqueraded by ip6tables)", addr, from, want)
		}
		seen[addr]++
	}
	if len(seen) != 2 {
		t.Errorf("20 connections to [fd00:96::20]:80 reached %v, want both IPv6 endpoints (rr)", seen)
	}
	if ans := dialOnce("[fd00:10:244:4::1]:30081"); !strings.HasPrefix(ans, "fd00:10:244:") {
		t.Errorf("IPv6 NodePort [fd00:10:244:4::1]:30081: %q, want an IPv6 endpoint", ans)
	}
	if ans := dialOnce("10.96.0.20:80"); !strings.HasPrefix(ans, "10.244.") {
		t.Errorf("the Service's IPv4 ClusterIP 10.96.0.20:80: %q, want an IPv4 endpoint", ans)
	}

	code, out, errOut = vmRun(t, append(args, "--once")...)
	if code != 0 || strings.TrimSpace(out) != vmNothingToDo {
		t.Errorf("second --once: exit %d %q, want %q (what the kernel reads back equals what was written)\n%s", code, out, vmNothingToDo, errOut)
	}

	code, out, errOut = vmRun(t, "--serve", "--proxy-mode", "ipvs", "--replace-kube-proxy", "--cleanup")
	if code != 0 {
		t.Fatalf("--cleanup: exit %d\n%s\n%s", code, out, errOut)
	}
	checkVMClean(t, k, "KUBE-", model.DummyInterface, vmCanary, vmCanary6)
	if names, _ := sets.ListSets(ctx); !strings.Contains(" "+strings.Join(names, " ")+" ", " FOREIGN-6 ") {
		t.Errorf("the foreign set FOREIGN-6 is gone after --cleanup: %v", names)
	}
	if save := vmShow(t, "ip6tables-legacy-save", "-t", "filter"); !strings.Contains(save, "-A FOREIGN -j ACCEPT\n") {
		t.Errorf("the foreign ip6tables chain is gone after --cleanup:\n%s", save)
	}
	for _, vs := range []model.VirtualServer{vmCanary, vmCanary6} {
		if err := k.DeleteVirtualServer(ctx, vs); err != nil {
			t.Error(err)
		}
	}
	_ = sets.DestroySet(ctx, "FOREIGN-6")
}

// checkVMIPv6SetsAndRules reads the IPv6 proxier's state back with the
// ipset and ip6tables-save tools: KUBE-6- sets of family inet6 with the
// Service's IPv6 entries, rules matching on them in ip6tables, and no
// IPv6 set in iptables.
func checkVMIPv6SetsAndRules(t *testing.T) {
	t.Helper()
	list := vmShow(t, "ipset", "list", "KUBE-6-CLUSTER-IP")
	for _, want := range []string{"Type: hash:ip,port", "family inet6", "fd00:96::20,tcp:80"} {
		if !strings.Contains(list, want) {
			t.Errorf("ipset list KUBE-6-CLUSTER-IP lacks %q:\n%s", want, list)
		}
	}
	if list := vmShow(t, "ipset", "list", "KUBE-6-NODE-PORT-TCP"); !strings.Contains(list, "\n30081\n") {
		t.Errorf("ipset list KUBE-6-NODE-PORT-TCP lacks 30081:\n%s", list)
	}
	if list := vmShow(t, "ipset", "list", "KUBE-CLUSTER-IP"); strings.Contains(list, "fd00") || !strings.Contains(list, "10.96.0.20,tcp:80") {
		t.Errorf("ipset list KUBE-CLUSTER-IP:\n%s\nwant the IPv4 ClusterIP only", list)
	}
	if list := vmShow(t, "ipset", "list", "-n"); !strings.Contains(list, "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS\n") {
		t.Errorf("ipset list -n lacks kube-proxy's cut name KUBE-6-NODE-PORT-LOCAL-SCTP-HAS:\n%s", list)
	}
	nat6 := vmShow(t, "ip6tables-legacy-save", "-t", "nat")
	for _, want := range []string{
		"-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
		"-A KUBE-SERVICES -s ::1/128 -j RETURN",
		"-A KUBE-SERVICES ! -s fd00:10:244::/48 -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
		"-m set --match-set KUBE-6-NODE-PORT-TCP dst -j KUBE-MARK-MASQ",
	} {
		if !strings.Contains(nat6, want) {
			t.Errorf("ip6tables-save -t nat lacks\n%s\nin\n%s", want, nat6)
		}
	}
	if nat4 := vmShow(t, "iptables-legacy-save", "-t", "nat"); strings.Contains(nat4, "KUBE-6-") {
		t.Errorf("iptables (IPv4) match on IPv6 sets:\n%s", nat4)
	}
}

// checkVMIPv6InSync judges the kernel as the trace judges the IPv6
// family: the generator's virtual servers and bound addresses of that
// family (dataplane/ipvs, OfFamily) against the kernel, and the trace
// itself on an ipvsadm-save of the node, which must report no IPVS
// finding.
func checkVMIPv6InSync(t *testing.T, k *kipvs.Netlink, dir string) {
	t.Helper()
	objs := vmObjects(t, dir)
	got, local, bound := vmKernel(t, k)
	exp, err := model.ExpectedFor(objs.Services[0], objs.Slices, model.Node{Name: "node-a", IPs: local})
	if err != nil {
		t.Fatal(err)
	}
	v6 := exp.OfFamily(true)
	if len(v6.VirtualServers) < 3 {
		t.Errorf("IPv6 virtual servers expected: %d, want the ClusterIP's and a NodePort on each IPv6 node address", len(v6.VirtualServers))
	}
	if d := model.Drift(v6, got); len(d) != 0 {
		t.Errorf("IPv6 drift: %+v", d)
	}
	if d := model.BindingDrift(v6, bound); len(d) != 0 {
		t.Errorf("IPv6 addresses not bound to kube-ipvs0: %+v", d)
	}
	save := filepath.Join(t.TempDir(), "ipvsadm-save.txt")
	if err := os.WriteFile(save, []byte(vmShow(t, "ipvsadm", "-Sn")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, errOut := vmRun(t, "-f", dir, "-n", "ns", "web6", "--ipvs", save, "-o", "json")
	var doc traceDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("trace: %v\n%s\n%s", err, out, errOut)
	}
	for _, f := range doc.Findings {
		if strings.HasPrefix(f.ID, "IPVS") {
			t.Errorf("trace finding %s: %s", f.ID, f.Message)
		}
	}
	if !strings.Contains(out, "fd00:96::20") {
		t.Errorf("the trace has no IPv6 view of web6:\n%s", out)
	}
}
