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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
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
func withoutConns(t model.Table) model.Table {
	for i := range t.VirtualServers {
		for j := range t.VirtualServers[i].RealServers {
			t.VirtualServers[i].RealServers[j].ActiveConns = 0
			t.VirtualServers[i].RealServers[j].InactiveConns = 0
		}
	}
	return t
}

// vmService is a NodePort Service with ClientIP affinity and two ports,
// two ready endpoints and one terminating, seen from node-a.
func vmService() (*corev1.Service, []*discoveryv1.EndpointSlice, model.Node) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.50", ClusterIPs: []string{"10.96.0.50"},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, NodePort: 30080},
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}},
			SessionAffinity:       corev1.ServiceAffinityClientIP,
			SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(int32(600))}}}}
	ep := func(ip, node string, ready, serving, terminating bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr.To(node),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating)}}
	}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-IPv4",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(8080))},
			{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(int32(5353))}},
		Endpoints: []discoveryv1.Endpoint{ep("10.244.1.7", "node-a", true, true, false), ep("10.244.2.8", "node-b", true, true, false),
			ep("10.244.3.9", "node-b", false, true, true)}}
	return svc, []*discoveryv1.EndpointSlice{slice}, model.Node{Name: "node-a", IPs: []netip.Addr{netip.MustParseAddr("192.168.50.2")}}
}

func TestVMProgramReadBackDrift(t *testing.T) {
	ctx := context.Background()
	k := vmKernel(t)
	svc, slices, node := vmService()
	exp, err := model.ExpectedFor(svc, slices, node)
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
	if diff := cmp.Diff(exp.Table(), withoutConns(got), dataplanetest.EquateAddrs); diff != "" {
		t.Fatalf("read-back table differs from programmed (-want +got):\n%s", diff)
	}
	if f := model.Drift(exp, got); len(f) != 0 {
		t.Fatalf("Drift after programming = %+v, want none", f)
	}
	w := model.Walk(got, model.TCP, netip.MustParseAddr("10.96.0.50"), 80)
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
// model.Drift names each change.
func breakAndDetect(t *testing.T, k Interface, exp model.Expected) {
	ctx := context.Background()
	cip := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.50"), Port: 80, Protocol: model.TCP}
	dns := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.50"), Port: 53, Protocol: model.UDP}
	np := model.VirtualServer{Address: netip.MustParseAddr("192.168.50.2"), Port: 30080, Protocol: model.TCP}
	rs := func(ip string, port uint16, w int) model.RealServer {
		return model.RealServer{Address: netip.MustParseAddr(ip), Port: port, Weight: w, Forward: model.Masquerade}
	}
	steps := []error{
		k.DeleteRealServer(ctx, cip, rs("10.244.1.7", 8080, 1)),
		k.UpdateRealServer(ctx, cip, rs("10.244.3.9", 8080, 1)),
		k.AddRealServer(ctx, dns, rs("10.244.9.9", 5353, 1)),
		k.DeleteVirtualServer(ctx, np),
		k.UpdateVirtualServer(ctx, model.VirtualServer{Address: dns.Address, Port: 53, Protocol: model.UDP, Scheduler: "wrr", Flags: model.FlagPersistent, Timeout: 600}),
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
	for _, f := range model.Drift(exp, got) {
		ids = append(ids, string(f.Kind)+" "+model.Place(f.Where))
	}
	want := []string{
		string(model.RealServerMissing) + " 10.96.0.50:80/TCP -> 10.244.1.7:8080",
		string(model.WeightMismatch) + " 10.96.0.50:80/TCP -> 10.244.3.9:8080",
		string(model.VirtualServerMissing) + " 192.168.50.2:30080/TCP",
		string(model.SchedulerMismatch) + " 10.96.0.50:53/UDP",
		string(model.StaleRealServer) + " 10.96.0.50:53/UDP -> 10.244.9.9:5353",
	}
	if diff := cmp.Diff(want, ids, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("drift after edits (-want +got):\n%s", diff)
	}
}

// checkIpvsadm parses the real ipvsadm's view of the kernel table, when the
// VM has ipvsadm, and prints it for use as a fixture.
func checkIpvsadm(t *testing.T, want model.Table) {
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
		got, err := model.Parse(out)
		if err != nil {
			t.Fatalf("parse ipvsadm %v: %v", args, err)
		}
		got.Sort()
		if args[0] == "-Sn" {
			want = withoutConns(want)
		}
		if diff := cmp.Diff(want, got, dataplanetest.EquateAddrs); diff != "" {
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
	tbl := model.Table{VirtualServers: []model.VirtualServer{
		{FWMark: 100, Scheduler: "wrr", RealServers: []model.RealServer{{Address: netip.MustParseAddr("10.1.0.1"), Port: 80, Weight: 3, Forward: model.Route}}},
		{FWMark: 200, IPv6: true, Scheduler: "rr"},
		{Address: netip.MustParseAddr("fd00::10"), Port: 443, Protocol: model.TCP, Scheduler: "rr",
			RealServers: []model.RealServer{{Address: netip.MustParseAddr("fd00::1:2"), Port: 8443, Weight: 2, Forward: model.Masquerade}}},
		{Address: netip.MustParseAddr("10.96.0.60"), Port: 80, Protocol: model.TCP, Scheduler: "sh", Flags: model.FlagSched1 | model.FlagSched2,
			RealServers: []model.RealServer{{Address: netip.MustParseAddr("10.1.0.2"), Port: 80, Weight: 1, Forward: model.Tunnel}}},
		{Address: netip.MustParseAddr("10.96.0.61"), Port: 53, Protocol: model.UDP, Scheduler: "rr", Flags: model.FlagPersistent | model.FlagOnePacket, Timeout: 300, Netmask: 24},
		{Address: netip.MustParseAddr("10.96.0.62"), Port: 80, Protocol: model.TCP, Scheduler: "mh", Flags: model.FlagSched2},
	}}
	tbl.Sort()
	if err := Apply(ctx, k, tbl); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got, err := ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tbl, withoutConns(got), dataplanetest.EquateAddrs); diff != "" {
		t.Fatalf("read-back differs (-want +got):\n%s", diff)
	}
	checkIpvsadm(t, got)
}
