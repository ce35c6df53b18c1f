package iptables

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

func TestProxierInSync(t *testing.T) { dataplanetest.CheckInSync(t, Proxier{}) }

func TestProxierSkipsLabelledServices(t *testing.T) { dataplanetest.CheckSkipsLabelled(t, Proxier{}) }

// kube-proxy ignores an EndpointSlice labelled headless: the Service's
// expectation then has no endpoints (and REJECTs).
func TestProxierIgnoresHeadlessSlices(t *testing.T) {
	objs := dataplanetest.Web()
	objs.Slices[0] = objs.Slices[0].DeepCopy()
	objs.Slices[0].Labels[dataplane.LabelHeadless] = ""
	w, err := Proxier{}.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Ruleset.Services) != 1 || !w.Ruleset.Services[0].NoEndpoints() {
		t.Errorf("expectation %+v, want the Service without endpoints", w.Ruleset.Services)
	}
}

// A kube-proxy run with --nodeport-addresses (here a CIDR holding an
// interface address the Node object does not list) or with
// --iptables-localhost-nodeports=false writes no localhost NodePort rules
// (counted with nfacct, which the kernel here has).
// InferFlags reads either setting back from the end of KUBE-SERVICES, so
// the node is judged by its own settings: no drift. Judged by the
// defaults, the missing localhost rule would be drift.
func TestNodePortSettingsAreReadFromTheRules(t *testing.T) {
	objs := dataplanetest.Web()
	objs.Services[0] = objs.Services[0].DeepCopy()
	objs.Services[0].Spec.Type, objs.Services[0].Spec.Ports[0].NodePort = corev1.ServiceTypeNodePort, 30080
	n := dataplanetest.Node
	n.Flags.NFAcct = true
	for _, tc := range []struct {
		name  string
		node  expected.Node
		check func(dataplane.ProxyFlags) bool
	}{
		{"nodeport-addresses", expected.Node{NodePortAddresses: []string{"10.0.0.0/24"}, IPs: []string{"172.18.0.2", "10.0.0.5"}},
			func(f dataplane.ProxyFlags) bool {
				return len(f.NodePortAddresses) == 1 && f.NodePortAddresses[0] == netip.MustParsePrefix("10.0.0.5/32")
			}},
		{"nodeport-addresses holding no node address", expected.Node{NodePortAddresses: []string{"192.0.2.0/24"}, IPs: []string{"172.18.0.2"}},
			func(f dataplane.ProxyFlags) bool { return f.NodePortAddresses != nil && len(f.NodePortAddresses) == 0 }},
		{"no localhost NodePorts", expected.Node{LocalhostNodePorts: new(bool), IPs: []string{"172.18.0.2"}},
			func(f dataplane.ProxyFlags) bool { return f.NodePortAddresses == nil && f.NoLocalhostNodePorts }},
	} {
		node := tc.node
		node.Name, node.LocalMode, node.LocalValue, node.NFAcct = n.Name, expected.LocalClusterCIDR, n.Flags.ClusterCIDR.String(), true
		rs, err := expected.Generate(node, objs.Services, objs.Slices)
		if err != nil {
			t.Fatal(err)
		}
		text, err := rs.Save()
		if err != nil {
			t.Fatal(err)
		}
		dump, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		flags, _ := InferFlags(dump)
		if !tc.check(flags) {
			t.Errorf("%s: inferred %+v", tc.name, flags)
		}
		judged := n
		judged.Flags = flags
		judged.Flags.ClusterCIDR = n.Flags.ClusterCIDR
		want, err := Proxier{}.Expect(judged, objs)
		if err != nil {
			t.Fatal(err)
		}
		if d := (Proxier{}).Drift(want, dump); len(d) != 0 {
			t.Errorf("%s: judged by the settings read from its rules, the node drifts: %+v", tc.name, d)
		}
		defaults, err := Proxier{}.Expect(n, objs)
		if err != nil {
			t.Fatal(err)
		}
		if d := (Proxier{}).Drift(defaults, dump); len(d) == 0 {
			t.Errorf("%s: judged by the defaults the node should drift (its localhost NodePort rule is missing)", tc.name)
		}
	}
}
