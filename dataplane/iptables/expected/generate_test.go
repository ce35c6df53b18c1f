package expected

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// largeClusterInput recreates TestSyncProxyRulesLargeClusterMode: two
// services with 499 endpoints each and a third with three.
func largeClusterInput(withThird bool) ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	svcs := []*corev1.Service{
		clusterIP("ns1", "svc1", "172.30.0.41", port("p80", corev1.ProtocolTCP, 80, 0)),
		clusterIP("ns2", "svc2", "172.30.0.42", port("p8080", corev1.ProtocolTCP, 8080, 0)),
		clusterIP("ns3", "svc3", "172.30.0.43", port("p8081", corev1.ProtocolTCP, 8081, 0)),
	}
	var eps1, eps2 []discoveryv1.Endpoint
	for i := 0; i < largeClusterThreshold/2-1; i++ {
		eps1 = append(eps1, ep(fmt.Sprintf("10.0.%d.%d", i%256, i/256), "", ""))
		eps2 = append(eps2, ep(fmt.Sprintf("10.1.%d.%d", i%256, i/256), "", ""))
	}
	slices := []*discoveryv1.EndpointSlice{
		slice("ns1", "svc1", "svc1-1", eports(eport("p80", corev1.ProtocolTCP, 80)), eps1...),
		slice("ns2", "svc2", "svc2-1", eports(eport("p8080", corev1.ProtocolTCP, 8080)), eps2...),
	}
	if withThird {
		slices = append(slices, slice("ns3", "svc3", "svc3-1", eports(eport("p8081", corev1.ProtocolTCP, 8081)),
			ep("203.0.113.4", "", ""), ep("203.0.113.8", "", ""), ep("203.0.113.12", "", "")))
	}
	return svcs, slices
}

func dnatLines(restore, match string) (first string, total, commented int) {
	for _, l := range strings.Split(restore, "\n") {
		if strings.HasPrefix(l, "-A KUBE-SEP-") && strings.Contains(l, "-j DNAT") {
			total++
			if strings.Contains(l, "--comment") {
				commented++
			}
			if first == "" && strings.Contains(l, match) {
				first = l
			}
		}
	}
	return first, total, commented
}

// TestLargeClusterMode ports the full-sync assertions of upstream
// TestSyncProxyRulesLargeClusterMode (masqueradeAll on).
func TestLargeClusterMode(t *testing.T) {
	tests := []struct {
		name                string
		third               bool
		match, first        string
		total, commented    int
		large               bool
		unannotatedSVCToSEP bool
	}{
		{"below threshold", false, "10.0.0.0",
			"-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80",
			998, 998, false, false},
		{"above threshold", true, "10.0.0.0",
			"-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80", 1001, 0, true, true},
		{"above threshold, third service", true, "203.0.113.4",
			"-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081", 1001, 0, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := upstreamNode()
			n.MasqueradeAll = true
			svcs, slices := largeClusterInput(tc.third)
			rs, err := Generate(n, svcs, slices)
			if err != nil {
				t.Fatal(err)
			}
			restore := rs.RestoreInput()
			first, total, commented := dnatLines(restore, tc.match)
			if first != tc.first || total != tc.total || commented != tc.commented || rs.LargeCluster != tc.large {
				t.Errorf("got first=%q total=%d commented=%d large=%t", first, total, commented, rs.LargeCluster)
			}
			svcToSEP := `-A KUBE-SVC-XPGD46QRK7WJZT7O -m statistic --mode random --probability 0.0020040080 -j KUBE-SEP-`
			if got := strings.Contains(restore, svcToSEP); got != tc.unannotatedSVCToSEP {
				t.Errorf("uncommented SVC->SEP rule present = %t, want %t", got, tc.unannotatedSVCToSEP)
			}
		})
	}
}

func TestGenerateNodeErrors(t *testing.T) {
	bad := func(edit func(*Node)) Node {
		n := kindNode()
		edit(&n)
		return n
	}
	tests := map[string]Node{
		"family":         bad(func(n *Node) { n.Family = "IPv5" }),
		"masquerade bit": bad(func(n *Node) { b := 32; n.MasqueradeBit = &b }),
		"cluster CIDR":   bad(func(n *Node) { n.LocalValue = "10.244.0.0" }),
		"local mode":     bad(func(n *Node) { n.LocalMode = "Magic" }),
		"empty bridge":   bad(func(n *Node) { n.LocalMode, n.LocalValue = LocalBridgeInterface, "" }),
		"node IP":        bad(func(n *Node) { n.IPs = []string{"node-a"} }),
		"nodeport CIDR":  bad(func(n *Node) { n.NodePortAddresses = []string{"eth0"} }),
	}
	for name, n := range tests {
		if _, err := Generate(n, nil, nil); err == nil {
			t.Errorf("%s: Generate succeeded, want an error", name)
		} else if !strings.Contains(err.Error(), `node "node-a"`) {
			t.Errorf("%s: error %q does not name the node", name, err)
		}
	}
}

func TestServicePortLookup(t *testing.T) {
	sc := basicScenarios()[0]
	rs, err := Generate(sc.node, sc.services, sc.slices)
	if err != nil {
		t.Fatal(err)
	}
	sp := rs.ServicePort("default", "web", "", corev1.ProtocolTCP)
	if sp == nil {
		t.Fatal("default/web not found")
	}
	var got []string
	for _, e := range sp.ClusterEndpoints {
		got = append(got, fmt.Sprintf("%s %s %.3f", e.Address, e.Probability, e.Share))
	}
	// Sorted as strings: "10.244.1.10" before "10.244.1.7"; the not-ready
	// endpoint is left out.
	want := "10.244.1.10:8080 0.3333333333 0.333|10.244.1.7:8080 0.5000000000 0.333|10.244.2.3:8080  0.333"
	if strings.Join(got, "|") != want {
		t.Errorf("endpoints = %q, want %q", strings.Join(got, "|"), want)
	}
	if sp.NoEndpoints() || sp.ID != "default/web" || sp.Chains.Cluster != ChainNames("default/web", corev1.ProtocolTCP).Cluster {
		t.Errorf("unexpected service port %+v", sp)
	}
	if rs.ServicePort("shop", "db", "pg", corev1.ProtocolTCP) != nil {
		t.Error("headless service shop/db has a service port")
	}
	if rs.ServicePort("default", "web", "", corev1.ProtocolUDP) != nil {
		t.Error("default/web has a UDP port")
	}
}

func TestGenerateWarnings(t *testing.T) {
	svc := clusterIP("ns", "bad", "10.96.0.1", port("p", corev1.ProtocolTCP, 80, 0))
	svc.Spec.ExternalIPs = []string{"not-an-ip", " "}
	svc.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/33"}
	broken := clusterIP("ns", "broken", "10.96.0.x", port("p", corev1.ProtocolTCP, 80, 0))
	broken.Spec.IPFamilies = nil
	rs, err := Generate(kindNode(), []*corev1.Service{svc, broken, nil}, []*discoveryv1.EndpointSlice{nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Warnings) != 3 {
		t.Errorf("warnings = %q, want the external IP, the source range and the cluster IP", rs.Warnings)
	}
	if len(rs.Services) != 1 {
		t.Errorf("got %d service ports, want only ns/bad:p", len(rs.Services))
	}
}
