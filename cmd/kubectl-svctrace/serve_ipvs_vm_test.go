//go:build ipvsvm && linux

// These tests run --serve --proxy-mode ipvs against a real kernel's IPVS,
// ip sets and iptables inside the throw-away VM harness/ipvsvm/run.sh
// boots (IPVSVM_PKG=./cmd/kubectl-svctrace), never on a developer's host.

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
	"github.com/svctrace/kubectl-svctrace/proxy"
	proxyipvs "github.com/svctrace/kubectl-svctrace/proxy/ipvs"
	"github.com/svctrace/kubectl-svctrace/source"
)

// vmEndpoints creates n endpoint namespaces, 10.244.i.2 behind veth i
// (10.244.i.1 on the VM's side), each answering TCP :8080 with
// "ADDRESS from CLIENT".
func vmEndpoints(t *testing.T, n int) []string {
	t.Helper()
	var eps []string
	for i := 1; i <= n; i++ {
		eps = append(eps, fmt.Sprintf("10.244.%d.2", i))
		vmServe(vmNamespace(t, i, false))
	}
	return eps
}

// vmServe answers each connection with "ADDRESS from CLIENT", ADDRESS the
// one the client reached; until ln is closed.
func vmServe(ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			addr, _, _ := net.SplitHostPort(c.LocalAddr().String())
			from, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			_, _ = io.WriteString(c, addr+" from "+from)
			c.Close()
		}
	}()
}

// vmNamespace creates endpoint namespace i behind veth i, 10.244.i.2/24
// (10.244.i.1 on the VM's side) and, with v6, fd00:10:244:i::2/64 too
// (fd00:10:244:i::1), listening on :8080; closed at the end of the test.
func vmNamespace(t *testing.T, i int, v6 bool) net.Listener {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.New() // and enters it
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(err)
		}
	}()
	t.Cleanup(func() { ns.Close() })
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("endpoint %d: %s: %v", i, what, err)
		}
	}
	host := fmt.Sprintf("veth%d", i)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: host, PeerNamespace: netlink.NsFd(int(orig))}
	must("add veth", netlink.LinkAdd(veth))
	lo, _ := netlink.LinkByName("lo")
	must("lo up", netlink.LinkSetUp(lo))
	eth, err := netlink.LinkByName("eth0")
	must("find eth0", err)
	addr, _ := netlink.ParseAddr(fmt.Sprintf("10.244.%d.2/24", i))
	must("address", netlink.AddrAdd(eth, addr))
	must("eth0 up", netlink.LinkSetUp(eth))
	gw := net.ParseIP(fmt.Sprintf("10.244.%d.1", i))
	must("default route", netlink.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gw}))
	if v6 {
		// nodad: usable at once, without duplicate address detection.
		a6, _ := netlink.ParseAddr(fmt.Sprintf("fd00:10:244:%d::2/64", i))
		a6.Flags = unix.IFA_F_NODAD
		must("IPv6 address", netlink.AddrAdd(eth, a6))
		gw6 := net.ParseIP(fmt.Sprintf("fd00:10:244:%d::1", i))
		must("IPv6 default route", netlink.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gw6}))
	}
	ln, err := net.Listen("tcp", ":8080")
	must("listen", err)
	t.Cleanup(func() { ln.Close() })

	h, err := netlink.NewHandleAt(orig, unix.NETLINK_ROUTE)
	must("handle", err)
	defer h.Close()
	hl, err := h.LinkByName(host)
	must("find "+host, err)
	haddr, _ := netlink.ParseAddr(fmt.Sprintf("10.244.%d.1/24", i))
	must("host address", h.AddrAdd(hl, haddr))
	if v6 {
		h6, _ := netlink.ParseAddr(fmt.Sprintf("fd00:10:244:%d::1/64", i))
		h6.Flags = unix.IFA_F_NODAD
		must("host IPv6 address", h.AddrAdd(hl, h6))
	}
	must(host+" up", h.LinkSetUp(hl))
	return ln
}

func vmRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func vmShow(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

var vmCanary = model.VirtualServer{Address: netip.MustParseAddr("10.99.0.1"), Port: 80, Protocol: model.TCP, Scheduler: "wrr",
	RealServers: []model.RealServer{{Address: netip.MustParseAddr("10.99.1.1"), Port: 80, Weight: 1, Forward: model.Masquerade}}}

// TestVMServeIPVS programs the VM with `--serve --proxy-mode ipvs
// --replace-kube-proxy --once` from files, checks the kernel against the
// trace's expectation, sends real connections through the virtual
// servers, syncs again (nothing to do: the rules read back equal), and
// cleans up, leaving a foreign canary virtual server alone throughout.
func TestVMServeIPVS(t *testing.T) {
	ctx := t.Context()
	k, err := kipvs.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := kipvs.Apply(ctx, k, model.Table{VirtualServers: []model.VirtualServer{vmCanary}}); err != nil {
		t.Fatal(err)
	}
	eps := vmEndpoints(t, 3)
	dir := t.TempDir()
	writeObjects(t, dir, "", eps, "")
	args := []string{"--serve", "--proxy-mode", "ipvs", "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}

	code, out, errOut := vmRun(t, append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "ipvsadm -A -t 10.96.0.11:80 -s rr -p 10800\n") {
		t.Fatalf("--dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got, _ := kipvs.ReadTable(ctx, k); len(got.VirtualServers) != 1 {
		t.Fatalf("--dry-run wrote virtual servers:\n%s", model.FormatSave(got))
	}

	code, out, errOut = vmRun(t, append(args, "--once")...)
	if code != 0 || !strings.Contains(out, "full sync") {
		t.Fatalf("--once: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("--once: %s", out)
	t.Logf("ipvsadm -Ln:\n%s", vmShow(t, "ipvsadm", "-Ln"))
	checkVMInSync(t, k, dir)

	for i := 0; i < 30; i++ {
		ans := dialOnce("10.96.0.10:80")
		addr, from, ok := strings.Cut(ans, " from ")
		if !ok || !strings.HasPrefix(addr, "10.244.") {
			t.Fatalf("connection %d to ClusterIP 10.96.0.10:80: %q", i, ans)
		}
		// From the node the source is the VIP itself; KUBE-CLUSTER-IP's
		// rule marks it and KUBE-POSTROUTING masquerades it to the node's
		// address on the endpoint's link.
		if want := strings.TrimSuffix(addr, "2") + "1"; from != want {
			t.Errorf("endpoint %s saw the connection from %s, want %s (masqueraded)", addr, from, want)
		}
	}
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		addr, _, _ := strings.Cut(dialOnce("10.96.0.10:80"), " from ")
		seen[addr]++
	}
	if len(seen) != 3 {
		t.Errorf("30 connections to 10.96.0.10:80 reached %v, want the three endpoints (rr)", seen)
	}
	sticky := map[string]int{}
	for i := 0; i < 10; i++ {
		addr, _, _ := strings.Cut(dialOnce("10.96.0.11:80"), " from ")
		sticky[addr]++
	}
	if len(sticky) != 1 {
		t.Errorf("ClientIP affinity: 10 connections reached %v, want one endpoint", sticky)
	}
	if ans := dialOnce("10.244.1.1:30080"); !strings.HasPrefix(ans, "10.244.") {
		t.Errorf("NodePort 10.244.1.1:30080: %q, want an endpoint", ans)
	}
	if ans := dialOnce("10.96.0.12:80"); ans != "refused" {
		t.Errorf("Service without endpoints: %q, want refused", ans)
	}

	code, out, errOut = vmRun(t, append(args, "--once")...)
	if want := vmNothingToDo; code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("second --once: exit %d %q, want %q (what the kernel reads back equals what was written)\n%s", code, out, want, errOut)
	}

	checkVMRepairAndPartial(t, k, dir)

	code, out, errOut = vmRun(t, "--serve", "--proxy-mode", "ipvs", "--replace-kube-proxy", "--cleanup")
	if code != 0 {
		t.Fatalf("--cleanup: exit %d\n%s\n%s", code, out, errOut)
	}
	checkVMClean(t, k, "KUBE-", model.DummyInterface, vmCanary)
}

// vmNothingToDo is what --once says when the kernel holds what it would
// write, in both families (the VM has ip6tables).
const vmNothingToDo = "IPv4 full sync: 0 IPVS, address and ip set operations; iptables rules unchanged; " +
	"IPv6 full sync: 0 IPVS, address and ip set operations; ip6tables rules unchanged"

// checkVMRepairAndPartial runs IPVS mode's programmer in-process on the
// real kernel: after a sync that adopts what --once wrote, a real server
// and an address removed by hand come back in a full sync and are counted,
// and an endpoint change is one partial sync of that Service's real
// servers only.
func checkVMRepairAndPartial(t *testing.T, k *kipvs.Netlink, dir string) {
	t.Helper()
	ctx := t.Context()
	sets, err := ipset.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ipt, err := kiptables.New(ctx, kiptables.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k.Dummy = model.DummyInterface
	local := func(ctx context.Context) ([]netip.Addr, error) {
		return kipvs.LocalAddresses(ctx, model.DummyInterface)
	}
	mode := proxyipvs.NewMode(k, sets, ipt, proxyipvs.Replace,
		proxyipvs.Settings{NodeName: "node-a", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}, local)
	objs := vmObjects(t, dir)
	if rep, err := mode.Sync(ctx, objs, true, false); err != nil || rep.Changes != "" {
		t.Fatalf("adopting sync: %v, changes %q", err, rep.Changes)
	}
	web := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.10"), Port: 80, Protocol: model.TCP}
	if err := k.DeleteRealServer(ctx, web, model.RealServer{Address: netip.MustParseAddr("10.244.1.2"), Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if err := k.DeleteAddress(ctx, netip.MustParseAddr("10.96.0.11")); err != nil {
		t.Fatal(err)
	}
	rep, err := mode.Sync(ctx, objs, true, false)
	want := map[string]int{proxyipvs.RepairRealServerMissing: 1, proxyipvs.RepairAddressMissing: 1}
	if err != nil || !maps.Equal(rep.Repairs, want) {
		t.Errorf("full sync after edits by hand: %v, repairs %v, want %v\n%s", err, rep.Repairs, want, rep.Changes)
	}
	for i, sl := range objs.Slices {
		if sl.Name == "sticky-1" {
			cp := sl.DeepCopy()
			cp.Endpoints = cp.Endpoints[:2]
			objs.Slices[i] = cp
		}
	}
	rep, err = mode.Sync(ctx, objs, false, false)
	if want := "ipvsadm -e -t 10.96.0.11:80 -r 10.244.3.2:8080 -m -w 0\n"; err != nil || rep.Full || rep.Changes != want {
		t.Errorf("partial sync after an endpoint went: %v, full %v, changes %q, want %q", err, rep.Full, rep.Changes, want)
	}
}

func vmObjects(t *testing.T, dir string) proxy.Objects {
	t.Helper()
	loaded, err := source.LoadPathsWithin([]string{dir}, nil, "default", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var objs proxy.Objects
	for _, o := range loaded {
		switch o := o.(type) {
		case *corev1.Service:
			objs.Services = append(objs.Services, o)
		case *discoveryv1.EndpointSlice:
			objs.Slices = append(objs.Slices, o)
		case *corev1.Node:
			objs.Node = o
		}
	}
	return objs
}

// vmKernel reads the IPVS table, the node's addresses outside
// kube-ipvs0 and the addresses bound to it.
func vmKernel(t *testing.T, k *kipvs.Netlink) (got model.Table, local, bound []netip.Addr) {
	t.Helper()
	ctx := t.Context()
	got, err := kipvs.ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if local, err = kipvs.LocalAddresses(ctx, model.DummyInterface); err != nil {
		t.Fatal(err)
	}
	k.Dummy = model.DummyInterface
	if bound, err = k.ListAddresses(ctx); err != nil {
		t.Fatal(err)
	}
	return got, local, bound
}

// checkVMInSync judges the kernel as the trace judges a node: no drift
// for any Service, every address bound, and the canary as it was.
func checkVMInSync(t *testing.T, k *kipvs.Netlink, dir string) {
	t.Helper()
	ctx := t.Context()
	objs := vmObjects(t, dir)
	services, slices := objs.Services, objs.Slices
	got, local, bound := vmKernel(t, k)
	for _, svc := range services {
		exp, err := model.ExpectedFor(svc, slices, model.Node{Name: "node-a", IPs: local})
		if err != nil {
			t.Fatal(err)
		}
		if d := model.Drift(exp, got); len(d) != 0 {
			t.Errorf("drift of %s: %+v", exp.Service, d)
		}
		if d := model.BindingDrift(exp, bound); len(d) != 0 {
			t.Errorf("addresses of %s not bound to kube-ipvs0: %+v", exp.Service, d)
		}
	}
	if have, ok := got.Find(vmCanary); !ok || have.Scheduler != "wrr" || len(have.RealServers) != 1 {
		t.Errorf("canary %s changed: %+v", vmCanary.Key(), have)
	}
	sets, err := ipset.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := sets.ListEntries(ctx, "KUBE-CLUSTER-IP")
	if err != nil || strings.Join(entries, " ") != "10.96.0.10,tcp:80 10.96.0.11,tcp:80 10.96.0.12,tcp:80" {
		t.Errorf("KUBE-CLUSTER-IP = %v, %v", entries, err)
	}
}

// checkVMClean wants nothing of a layout left, in either family, but the
// canary virtual servers.
func checkVMClean(t *testing.T, k *kipvs.Netlink, prefix, dummy string, canaries ...model.VirtualServer) {
	t.Helper()
	ctx := t.Context()
	got, err := kipvs.ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Table{VirtualServers: canaries}
	want.Sort()
	if model.FormatSave(got) != model.FormatSave(want) {
		t.Errorf("after --cleanup the table holds\n%s\nwant only the canaries\n%s", model.FormatSave(got), model.FormatSave(want))
	}
	if _, err := netlink.LinkByName(dummy); err == nil {
		t.Errorf("%s is still there after --cleanup", dummy)
	}
	sets, err := ipset.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names, err := sets.ListSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			t.Errorf("ip set %s is still there after --cleanup", n)
		}
	}
	for _, cmd := range []string{"iptables-legacy-save", "ip6tables-legacy-save"} {
		for _, table := range []string{"nat", "filter"} {
			if save := vmShow(t, cmd, "-t", table); strings.Contains(save, prefix) {
				t.Errorf("%s table %s still holds %s names after --cleanup:\n%s", cmd, table, prefix, save)
			}
		}
	}
}

// TestVMServeIPVSScoped runs scoped: svctrace-ipvs0, SVCI- sets and
// chains, nothing named KUBE-, and a clean --cleanup.
func TestVMServeIPVSScoped(t *testing.T) {
	ctx := t.Context()
	k, err := kipvs.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := kipvs.Apply(ctx, k, model.Table{VirtualServers: []model.VirtualServer{vmCanary}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeObjects(t, dir, "service.kubernetes.io/service-proxy-name: svctrace", []string{"10.244.7.2"}, "")
	args := []string{"--serve", "--proxy-mode", "ipvs", "--node", "node-a", "-f", dir}
	if code, out, errOut := vmRun(t, append(args, "--once")...); code != 0 {
		t.Fatalf("--once: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := netlink.LinkByName("svctrace-ipvs0"); err != nil {
		t.Errorf("svctrace-ipvs0: %v", err)
	}
	for _, table := range []string{"nat", "filter"} {
		save := vmShow(t, "iptables-legacy-save", "-t", table)
		if strings.Contains(save, "KUBE-") || !strings.Contains(save, "SVCI-") {
			t.Errorf("scoped table %s:\n%s\nwant SVCI- chains and nothing named KUBE-", table, save)
		}
	}
	if code, out, errOut := vmRun(t, "--serve", "--proxy-mode", "ipvs", "--cleanup"); code != 0 {
		t.Fatalf("--cleanup: exit %d\n%s\n%s", code, out, errOut)
	}
	checkVMClean(t, k, "SVCI-", "svctrace-ipvs0", vmCanary)
	if err := k.DeleteVirtualServer(ctx, vmCanary); err != nil {
		t.Error(err)
	}
}
