//go:build ipvsvm

// This test programs the real kernel's IPVS table. It runs inside the
// throw-away VM that harness/ipvsvm/run.sh boots, never on a developer's
// host: build it with -tags ipvsvm.

package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func vmKernel(t *testing.T) *Netlink {
	t.Helper()
	k, err := NewNetlink(context.Background())
	if err != nil {
		t.Fatalf("NewNetlink: %v", err)
	}
	t.Cleanup(func() {
		tbl, err := ReadTable(context.Background(), k)
		if err == nil {
			for _, vs := range tbl.VirtualServers {
				_ = k.DeleteVirtualServer(context.Background(), vs)
			}
		}
		k.Close()
	})
	return k
}

// withoutConns drops connection counts, which the kernel owns.
func withoutConns(t Table) Table {
	for i := range t.VirtualServers {
		for j := range t.VirtualServers[i].RealServers {
			t.VirtualServers[i].RealServers[j].ActiveConns = 0
			t.VirtualServers[i].RealServers[j].InactiveConns = 0
		}
	}
	return t
}

func vmService() (*corev1.Service, []*discoveryv1.EndpointSlice, Node) {
	svc := service("web", corev1.ServiceTypeNodePort, []string{"10.96.0.50"}, port("http", corev1.ProtocolTCP, 80, 30080), port("dns", corev1.ProtocolUDP, 53, 0))
	svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(600))}}
	slices := []*discoveryv1.EndpointSlice{slice("web", discoveryv1.AddressTypeIPv4,
		[]discoveryv1.EndpointPort{slicePortOf("http", corev1.ProtocolTCP, 8080), slicePortOf("dns", corev1.ProtocolUDP, 5353)},
		ep("10.244.1.7", "node-a", true, true, false),
		ep("10.244.2.8", "node-b", true, true, false),
		ep("10.244.3.9", "node-b", false, true, true))}
	return svc, slices, Node{Name: "node-a", IPs: []netip.Addr{netip.MustParseAddr("192.168.50.2")}}
}

func TestVMProgramReadBackDrift(t *testing.T) {
	ctx := context.Background()
	k := vmKernel(t)
	svc, slices, node := vmService()
	exp, err := ExpectedFor(svc, slices, node)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, k, exp.Table()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got, err := ReadTable(ctx, k)
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	if len(got.VirtualServers) == 0 {
		t.Fatal("kernel table is empty after Apply: writes were not applied")
	}
	if diff := cmp.Diff(exp.Table(), withoutConns(got), addrs); diff != "" {
		t.Fatalf("read-back table differs from programmed (-want +got):\n%s", diff)
	}
	if f := Drift(exp, got); len(f) != 0 {
		t.Fatalf("Drift after programming = %+v, want none", f)
	}
	w := Walk(got, TCP, netip.MustParseAddr("10.96.0.50"), 80)
	if !w.Found || len(w.Outcomes) != 3 {
		t.Fatalf("Walk = %+v, want 3 outcomes", w)
	}
	for _, o := range w.Outcomes {
		want := 0.5
		if o.RealServer.Weight == 0 {
			want = 0
		}
		if o.Probability != want {
			t.Errorf("walk share of %s (weight %d) = %v, want %v", o.RealServer.Key(), o.RealServer.Weight, o.Probability, want)
		}
	}
	checkIpvsadm(t, got)
	breakAndDetect(t, k, exp)
}

// breakAndDetect edits the kernel behind kube-proxy's back and checks that
// Drift names each change.
func breakAndDetect(t *testing.T, k Kernel, exp Expected) {
	ctx := context.Background()
	cip := VirtualServer{Address: netip.MustParseAddr("10.96.0.50"), Port: 80, Protocol: TCP}
	dns := VirtualServer{Address: netip.MustParseAddr("10.96.0.50"), Port: 53, Protocol: UDP}
	np := VirtualServer{Address: netip.MustParseAddr("192.168.50.2"), Port: 30080, Protocol: TCP}
	rs := func(ip string, port uint16, w int) RealServer {
		return RealServer{Address: netip.MustParseAddr(ip), Port: port, Weight: w, Forward: Masquerade}
	}
	steps := []error{
		k.DeleteRealServer(ctx, cip, rs("10.244.1.7", 8080, 1)),
		k.UpdateRealServer(ctx, cip, rs("10.244.3.9", 8080, 1)),
		k.AddRealServer(ctx, dns, rs("10.244.9.9", 5353, 1)),
		k.DeleteVirtualServer(ctx, np),
		k.UpdateVirtualServer(ctx, VirtualServer{Address: dns.Address, Port: 53, Protocol: UDP, Scheduler: "wrr", Flags: FlagPersistent, Timeout: 600}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	got, err := ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range Drift(exp, got) {
		ids = append(ids, string(f.Kind)+" "+Place(f.Where))
	}
	want := []string{
		string(RealServerMissing) + " 10.96.0.50:80/TCP -> 10.244.1.7:8080",
		string(WeightMismatch) + " 10.96.0.50:80/TCP -> 10.244.3.9:8080",
		string(VirtualServerMissing) + " 192.168.50.2:30080/TCP",
		string(SchedulerMismatch) + " 10.96.0.50:53/UDP",
		string(StaleRealServer) + " 10.96.0.50:53/UDP -> 10.244.9.9:5353",
	}
	if diff := cmp.Diff(want, ids, addrs); diff != "" {
		t.Errorf("drift after edits (-want +got):\n%s", diff)
	}
}

// checkIpvsadm parses the real ipvsadm's view of the kernel table, when the
// VM has ipvsadm, and prints it for use as a fixture.
func checkIpvsadm(t *testing.T, want Table) {
	if _, err := exec.LookPath("ipvsadm"); err != nil {
		t.Log("ipvsadm not in the VM; skipping the text cross-check")
		return
	}
	for _, args := range [][]string{{"-Ln"}, {"-Sn"}} {
		out, err := exec.Command("ipvsadm", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ipvsadm %v: %v\n%s", args, err, out)
		}
		fmt.Fprintf(os.Stdout, "=== ipvsadm %s\n%s=== end\n", args[0], out)
		got, err := Parse(out)
		if err != nil {
			t.Fatalf("parse ipvsadm %v: %v", args, err)
		}
		got.Sort()
		if args[0] == "-Sn" {
			want = withoutConns(want)
		}
		if diff := cmp.Diff(want, got, addrs); diff != "" {
			t.Errorf("ipvsadm %v parsed differs from netlink read-back (-netlink +ipvsadm):\n%s", args, diff)
		}
	}
}

// TestVMVariety programs shapes kube-proxy does not use (firewall marks,
// IPv6, scheduler flags, persistence masks) so that ipvsadm prints them and
// the parsers meet them in real output.
func TestVMVariety(t *testing.T) {
	ctx := context.Background()
	k := vmKernel(t)
	tbl := Table{VirtualServers: []VirtualServer{
		{FWMark: 100, Scheduler: "wrr", RealServers: []RealServer{{Address: netip.MustParseAddr("10.1.0.1"), Port: 80, Weight: 3, Forward: Route}}},
		{FWMark: 200, IPv6: true, Scheduler: "rr"},
		{Address: netip.MustParseAddr("fd00::10"), Port: 443, Protocol: TCP, Scheduler: "rr",
			RealServers: []RealServer{{Address: netip.MustParseAddr("fd00::1:2"), Port: 8443, Weight: 2, Forward: Masquerade}}},
		{Address: netip.MustParseAddr("10.96.0.60"), Port: 80, Protocol: TCP, Scheduler: "sh", Flags: FlagSched1 | FlagSched2,
			RealServers: []RealServer{{Address: netip.MustParseAddr("10.1.0.2"), Port: 80, Weight: 1, Forward: Tunnel}}},
		{Address: netip.MustParseAddr("10.96.0.61"), Port: 53, Protocol: UDP, Scheduler: "rr", Flags: FlagPersistent | FlagOnePacket, Timeout: 300, Netmask: 24},
		{Address: netip.MustParseAddr("10.96.0.62"), Port: 80, Protocol: TCP, Scheduler: "mh", Flags: FlagSched2},
	}}
	tbl.Sort()
	if err := Apply(ctx, k, tbl); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got, err := ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tbl, withoutConns(got), addrs); diff != "" {
		t.Fatalf("read-back differs (-want +got):\n%s", diff)
	}
	checkIpvsadm(t, got)
}
