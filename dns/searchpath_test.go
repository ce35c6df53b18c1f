package dns

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/svctrace/kubectl-svctrace/internal/golden"
	corev1 "k8s.io/api/core/v1"
)

// checkGolden compares got with testdata/name.golden (-update rewrites it).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(got))
}

func podWithDNS(ns string, policy corev1.DNSPolicy, hostNet bool, cfg *corev1.PodDNSConfig) *corev1.Pod {
	p := pod("client", ns, "", "")
	p.Spec.DNSPolicy, p.Spec.HostNetwork, p.Spec.DNSConfig = policy, hostNet, cfg
	return p
}

func TestPodResolvConf(t *testing.T) {
	node := ParseResolvConf("# node\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch old.example\nsearch corp.example.\noptions timeout:1 rotate\n")
	cfg := &corev1.PodDNSConfig{
		Nameservers: []string{"192.168.1.9"},
		Searches:    []string{"extra.example", "svc.cluster.local"},
		Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}, {Name: "edns0"}},
	}
	tests := []struct {
		name       string
		pod        *corev1.Pod
		clusterDNS []string
	}{
		{"cluster_first", podWithDNS("prod", corev1.DNSClusterFirst, false, nil), []string{"10.96.0.10"}},
		{"cluster_first_empty_policy", podWithDNS("prod", "", false, nil), []string{"10.96.0.10"}},
		{"cluster_first_host_network", podWithDNS("prod", corev1.DNSClusterFirst, true, nil), []string{"10.96.0.10"}},
		{"cluster_first_with_host_net", podWithDNS("prod", corev1.DNSClusterFirstWithHostNet, true, nil), []string{"10.96.0.10"}},
		{"cluster_first_no_cluster_dns", podWithDNS("prod", corev1.DNSClusterFirst, false, nil), nil},
		{"cluster_first_dns_config", podWithDNS("prod", corev1.DNSClusterFirst, false, cfg), []string{"10.96.0.10"}},
		{"default", podWithDNS("prod", corev1.DNSDefault, false, nil), []string{"10.96.0.10"}},
		{"none", podWithDNS("prod", corev1.DNSNone, false, cfg), []string{"10.96.0.10"}},
	}
	var out strings.Builder
	for _, tt := range tests {
		rc, err := PodResolvConf(PodDNS{Pod: tt.pod, ClusterDNS: tt.clusterDNS, Node: node})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		out.WriteString("### " + tt.name + "\n" + rc.String())
	}
	checkGolden(t, "resolvconf", out.String())

	if _, err := PodResolvConf(PodDNS{Pod: podWithDNS("prod", "Bogus", false, nil)}); err == nil || !strings.Contains(err.Error(), `unknown dnsPolicy "Bogus"`) {
		t.Errorf("bogus policy: error %v", err)
	}
}

func TestSearchLimits(t *testing.T) {
	var many []string
	for i := range 40 {
		many = append(many, strings.Repeat("x", 60)+string(rune('a'+i%26)))
	}
	rc, err := PodResolvConf(PodDNS{Pod: podWithDNS("ns", corev1.DNSNone, false,
		&corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}, Searches: many})})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Nameservers) != 3 {
		t.Errorf("nameservers %v, want the first 3", rc.Nameservers)
	}
	if n := len(strings.Join(rc.Searches, " ")); n > 2048 || len(rc.Searches) > 32 {
		t.Errorf("search line of %d entries, %d chars exceeds the kubelet limits", len(rc.Searches), n)
	}
}

func TestCandidates(t *testing.T) {
	cluster := ResolvConf{Searches: []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	tests := []struct {
		name  string
		rc    ResolvConf
		query string
		want  []string
	}{
		{"short name searches first", cluster, "hostnames", []string{
			"hostnames.default.svc.cluster.local.", "hostnames.svc.cluster.local.", "hostnames.cluster.local.", "hostnames."}},
		{"name.namespace", cluster, "hostnames.default", []string{
			"hostnames.default.default.svc.cluster.local.", "hostnames.default.svc.cluster.local.", "hostnames.default.cluster.local.", "hostnames.default."}},
		{"name.namespace.svc", cluster, "hostnames.default.svc", []string{
			"hostnames.default.svc.default.svc.cluster.local.", "hostnames.default.svc.svc.cluster.local.", "hostnames.default.svc.cluster.local.", "hostnames.default.svc."}},
		{"full name without dot still has fewer than 5 dots", cluster, "hostnames.default.svc.cluster.local", []string{
			"hostnames.default.svc.cluster.local.default.svc.cluster.local.", "hostnames.default.svc.cluster.local.svc.cluster.local.",
			"hostnames.default.svc.cluster.local.cluster.local.", "hostnames.default.svc.cluster.local."}},
		{"trailing dot is absolute", cluster, "Hostnames.default.svc.cluster.local.", []string{"hostnames.default.svc.cluster.local."}},
		{"ndots reached: as is first", cluster, "a.b.c.d.e.f", []string{
			"a.b.c.d.e.f.", "a.b.c.d.e.f.default.svc.cluster.local.", "a.b.c.d.e.f.svc.cluster.local.", "a.b.c.d.e.f.cluster.local."}},
		{"no options means ndots 1", ResolvConf{Searches: []string{"corp.example"}}, "db.internal", []string{"db.internal.", "db.internal.corp.example."}},
		{"search dot is the root", ResolvConf{Searches: []string{"."}}, "host", []string{"host."}},
		{"empty query", cluster, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.rc.Candidates(tt.query)); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanSearch(t *testing.T) {
	e, err := Expect(Input{Service: service("hostnames", "default", []string{"10.96.5.5"})})
	if err != nil {
		t.Fatal(err)
	}
	inNS := func(ns string) ResolvConf {
		rc, err := PodResolvConf(PodDNS{Pod: podWithDNS(ns, corev1.DNSClusterFirst, false, nil), ClusterDNS: []string{"10.96.0.10"}})
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	noSvcSearch := ResolvConf{Searches: []string{"default.svc.cluster.local"}, Options: []string{"ndots:5"}}
	tests := []struct {
		name    string
		rc      ResolvConf
		query   string
		match   int
		results []Result
	}{
		{"short name, same namespace", inNS("default"), "hostnames", 0, nil},
		{"name.namespace from elsewhere", inNS("prod"), "hostnames.default", 1, nil},
		{"name.namespace.svc", inNS("prod"), "hostnames.default.svc", 2, nil},
		{"absolute", inNS("prod"), "hostnames.default.svc.cluster.local.", 0, nil},
		{"short name from another namespace misses", inNS("prod"), "hostnames", -1, []Result{{
			ID: DNSSearchPathMiss, Severity: SeverityError, Subject: "hostnames",
			Message: `querying "hostnames" tries [hostnames.prod.svc.cluster.local. hostnames.svc.cluster.local. hostnames.cluster.local. hostnames.]; none of them is a name of service default/hostnames (hostnames.default.svc.cluster.local.)`,
			Hint:    `use "hostnames.default" (or the absolute "hostnames.default.svc.cluster.local."); check the pod's search list with kubectl exec POD -- cat /etc/resolv.conf`,
		}}},
		{"wrong namespace", inNS("prod"), "hostnames.staging", -1, []Result{{ID: DNSSearchPathMiss}}},
		{"custom search list without svc.zone suggests the FQDN", noSvcSearch, "hostnames.default", -1, []Result{{
			ID: DNSSearchPathMiss, Hint: `use the absolute name "hostnames.default.svc.cluster.local.": this pod's search list does not reach the Service's namespace; check the pod's search list with kubectl exec POD -- cat /etc/resolv.conf`,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanSearch(tt.rc, tt.query, e)
			if p.Match != tt.match {
				t.Errorf("match %d, want %d; steps %v", p.Match, tt.match, p.Steps)
			}
			got := p.Results()
			// Cases that only pin the ID or hint leave the other fields empty.
			for i := range got {
				if i < len(tt.results) && tt.results[i].Message == "" {
					got[i].Message, got[i].Severity, got[i].Subject = "", "", ""
					if tt.results[i].Hint == "" {
						got[i].Hint = ""
					}
				}
			}
			if diff := cmp.Diff(tt.results, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckSearchPath(t *testing.T) {
	e, err := Expect(Input{Service: service("hostnames", "default", []string{"10.96.5.5"})})
	if err != nil {
		t.Fatal(err)
	}
	rc := ResolvConf{Searches: []string{"prod.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	p := PlanSearch(rc, "hostnames.default", e)
	tests := []struct {
		name  string
		fake  *Fake
		ids   []ID
		asked int
	}{
		{"reaches the service", NewFake(e.Records...), nil, 2},
		{"an earlier name answers first", NewFake(append(e.Records,
			rec("hostnames.default.prod.svc.cluster.local.", TypeA, "10.244.3.3"))...), []ID{DNSSearchPathMiss}, 1},
		{"nothing answers: left to Verify", NewFake(), nil, 4},
		{"unreachable", unreachableFake(), []ID{DNSServerUnreachable}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckSearchPath(context.Background(), tt.fake, p, TypeA)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.ids, ids(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ids (-want +got):\n%s\n%v", diff, got)
			}
			if n := len(tt.fake.Asked()); n != tt.asked {
				t.Errorf("asked %d questions, want %d: %v", n, tt.asked, tt.fake.Asked())
			}
		})
	}
}

func unreachableFake() *Fake {
	f := NewFake()
	f.SetErr(&UnreachableError{Server: "10.96.0.10:53", Question: Question{Name: "x.", Type: TypeA}, Err: os.ErrDeadlineExceeded})
	return f
}

func ids(rs []Result) []ID {
	var out []ID
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// A headless Service without ready endpoints has no records, yet its name
// is right: the search path reaches it, and the missing answer is the
// endpoints' fault, not the spelling's.
func TestPlanSearchHeadlessWithoutEndpoints(t *testing.T) {
	e, err := Expect(Input{Service: headless("db", "default")})
	if err != nil {
		t.Fatal(err)
	}
	rc := ResolvConf{Searches: []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	p := PlanSearch(rc, "db", e)
	if p.Match != 0 || len(p.Results()) != 0 {
		t.Errorf("match %d, results %v; want the first try to name the Service and no DNSSearchPathMiss", p.Match, p.Results())
	}
}
