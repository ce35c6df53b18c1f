package harness

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestOverlapsAnyUsedPrefixes(t *testing.T) {
	ipOutput := `default via 10.0.0.1 dev eth0
172.31.4.0/24 dev br0 proto kernel scope link src 172.31.4.1
local 127.0.0.1 dev lo table local
2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0`
	used := usedPrefixes(ipOutput)
	for _, tc := range []struct {
		prefix string
		want   bool
	}{
		{"172.31.4.8/30", true},    // inside the br0 route
		{"172.31.5.0/30", false},   // next door
		{"10.0.0.4/30", true},      // holds the eth0 address
		{"172.31.200.0/30", false}, // "default" must not count as 0.0.0.0/0
	} {
		if got := overlapsAny(netip.MustParsePrefix(tc.prefix), used); got != tc.want {
			t.Errorf("overlapsAny(%s) = %v, want %v (used %v)", tc.prefix, got, tc.want, used)
		}
	}
}

func TestStatFields(t *testing.T) {
	for _, tc := range []struct {
		stat      string
		wantState string
		wantStart string
	}{
		{"42 (etcd) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987 0 0", "S", "987"},
		{"7 (a (b) c) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0", "Z", "55"},
	} {
		f := statFields([]byte(tc.stat))
		if len(f) < 20 || f[0] != tc.wantState || f[19] != tc.wantStart {
			t.Errorf("statFields(%q) = %v; want state %s start %s", tc.stat, f, tc.wantState, tc.wantStart)
		}
	}
	if statFields([]byte("garbage")) != nil {
		t.Error("statFields without a command name should return nil")
	}
}

func TestAliveSelf(t *testing.T) {
	self := procRecord{PID: os.Getpid(), Start: procStartTime(os.Getpid())}
	if !alive(self) {
		t.Error("this process is not alive by its own record")
	}
	reused := self
	reused.Start++
	if alive(reused) {
		t.Error("a record with another start time matched this process")
	}
}

func TestListenSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		pod  corev1.Pod
		want string
	}{
		{"no ports: serve_hostname's", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{}}}}, "9376/tcp"},
		{"declared ports, deduplicated", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Ports: []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {ContainerPort: 8080}}},
			{Ports: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {ContainerPort: 99, Protocol: corev1.ProtocolSCTP}}},
		}}}, "53/udp,8080/tcp"},
		{"annotation wins", corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationListen: "1234/tcp"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}},
		}, "1234/tcp"},
	} {
		if got := listenSpec(&tc.pod); got != tc.want {
			t.Errorf("%s: listenSpec = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTerminateDelay(t *testing.T) {
	grace := int64(2)
	for _, tc := range []struct {
		annotation string
		grace      *int64
		want       time.Duration
	}{
		{"", nil, 0},
		{"nonsense", nil, 0},
		{"-1s", nil, 0},
		{"1500ms", &grace, 1500 * time.Millisecond},
		{"10s", &grace, 2 * time.Second},
	} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Annotations:                map[string]string{AnnotationTerminateDelay: tc.annotation},
			DeletionGracePeriodSeconds: tc.grace,
		}}
		if got := terminateDelay(pod); got != tc.want {
			t.Errorf("terminateDelay(%q) = %s, want %s", tc.annotation, got, tc.want)
		}
	}
}

func TestProberRecord(t *testing.T) {
	fail := errors.New("HTTP 503")
	for _, tc := range []struct {
		name    string
		probe   *corev1.Probe
		results []error
		want    []bool // readiness after each result
	}{
		{"defaults: ready at once, unready after 3 failures", &corev1.Probe{},
			[]error{nil, fail, fail, fail, nil}, []bool{true, true, true, false, true}},
		{"success threshold 2", &corev1.Probe{SuccessThreshold: 2, FailureThreshold: 1},
			[]error{nil, nil, fail, nil, nil}, []bool{false, true, false, false, true}},
		{"never ready while failing", &corev1.Probe{FailureThreshold: 1},
			[]error{fail, fail}, []bool{false, false}},
	} {
		p := newProber(corev1.Container{ReadinessProbe: tc.probe}, time.Now())
		var got []bool
		for _, r := range tc.results {
			p.record(time.Now(), r)
			got = append(got, p.ready)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: readiness (-want +got):\n%s", tc.name, diff)
		}
	}
	if p := newProber(corev1.Container{}, time.Now()); !p.ready || p.due(time.Now()) {
		t.Error("a container without readiness probe should be ready and never probed")
	}
}

func TestProberSchedule(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProber(corev1.Container{ReadinessProbe: &corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2}}, start)
	if p.due(start.Add(4 * time.Second)) {
		t.Error("due before the initial delay")
	}
	if !p.due(start.Add(5 * time.Second)) {
		t.Error("not due at the initial delay")
	}
	p.record(start.Add(5*time.Second), nil)
	if p.due(start.Add(6*time.Second)) || !p.due(start.Add(7*time.Second)) {
		t.Error("next probe not one period later")
	}
}

func TestIPAM(t *testing.T) {
	a := newIPAM(netip.MustParsePrefix("10.244.1.0/29"))
	var got []string
	for {
		ip, err := a.alloc()
		if err != nil {
			break
		}
		got = append(got, ip.String())
	}
	// .0 network, .1 gateway, .7 broadcast are never handed out.
	want := []string{"10.244.1.2", "10.244.1.3", "10.244.1.4", "10.244.1.5", "10.244.1.6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("allocations (-want +got):\n%s", diff)
	}
	a.release(netip.MustParseAddr("10.244.1.4"))
	if ip, err := a.alloc(); err != nil || ip.String() != "10.244.1.4" {
		t.Errorf("after release, alloc = %v, %v; want 10.244.1.4", ip, err)
	}
}

func TestSetCondition(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := &corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: old},
	}}
	setCondition(st, corev1.PodReady, true)
	if got := st.Conditions[0].LastTransitionTime; !got.Equal(&old) {
		t.Errorf("unchanged condition moved its transition time to %s", got)
	}
	setCondition(st, corev1.PodReady, false)
	if c := st.Conditions[0]; c.Status != corev1.ConditionFalse || c.LastTransitionTime.Equal(&old) || c.Reason != "ContainersNotReady" {
		t.Errorf("after a change, condition = %+v", c)
	}
	setCondition(st, corev1.ContainersReady, true)
	if len(st.Conditions) != 2 || st.Conditions[1].Type != corev1.ContainersReady {
		t.Errorf("missing condition not appended: %+v", st.Conditions)
	}
}

func TestResolvePort(t *testing.T) {
	c := corev1.Container{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9376}}}
	for _, tc := range []struct {
		port    intstr.IntOrString
		want    int
		wantErr bool
	}{
		{intstr.FromInt32(8080), 8080, false},
		{intstr.FromString("http"), 9376, false},
		{intstr.FromString("metrics"), 0, true},
	} {
		got, err := resolvePort(tc.port, c)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("resolvePort(%s) = %d, %v; want %d, error %v", tc.port.String(), got, err, tc.want, tc.wantErr)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := newManifest(dir)
	steps := []error{
		m.addProcess(procRecord{Name: "etcd", PID: 10, Start: 99}),
		m.addProcess(procRecord{Name: "pod", PID: 11, Start: 100}),
		m.addNetNS("svctrace-node1-abc"),
		m.addNetNS("svctrace-node1-abc-p2"),
		m.addLink("svhabc"),
		m.forgetProcess(11),
		m.forgetNetNS("svctrace-node1-abc-p2"),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	got, err := loadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	procs, netns, links := got.snapshot()
	if diff := cmp.Diff([]procRecord{{Name: "etcd", PID: 10, Start: 99}}, procs); diff != "" {
		t.Errorf("processes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"svctrace-node1-abc"}, netns); diff != "" {
		t.Errorf("netns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"svhabc"}, links); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if _, err := loadManifest(t.TempDir()); err == nil {
		t.Error("loading a directory without manifest should fail")
	}
}

// A veth host end can vanish between deleteLink's lookup and its delete when
// the peer's namespace goes; that must not fail the teardown.
func TestLinkGone(t *testing.T) {
	cases := []struct {
		msg  string
		want bool
	}{
		{"ip link delete svh1: exit status 2: RTNETLINK answers: No such device", true},
		{"ip link delete svh1: exit status 1: Cannot find device \"svh1\"", true},
		{"ip link delete lo: exit status 2: RTNETLINK answers: Operation not supported", false},
	}
	for _, c := range cases {
		// "lo" always exists, so only the message decides.
		if got := linkGone(errors.New(c.msg), "lo"); got != c.want {
			t.Errorf("linkGone(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
	if !linkGone(errors.New("ip link delete: exit status 2: something else"), "svctrace-no-such-link") {
		t.Error("linkGone should report a link that no longer exists as gone")
	}
}

func TestNodeNames(t *testing.T) {
	cfg := Config{NodeName: "node-1"}
	for i, want := range []string{"node-1", "node-2", "node-3"} {
		if got := cfg.nodeName(i); got != want {
			t.Errorf("nodeName(%d) = %q, want %q", i, got, want)
		}
	}
	for name, want := range map[string]string{"node-2": "tonode2", "a-very-long-node-name": "toaverylongnode"} {
		if got := linkTo(&Node{Name: name}); got != want {
			t.Errorf("linkTo(%s) = %q, want %q (at most 15 characters)", name, got, want)
		}
	}
}

// TestDualStackAddresses: a node's IPv6 addresses are derived from its
// IPv4 ones, so they are as unique, and stay inside the cluster's ranges.
func TestDualStackAddresses(t *testing.T) {
	if got, want := twin6(netip.MustParseAddr("172.31.7.10")), netip.MustParseAddr("fd00:5c::ac1f:70a"); got != want {
		t.Errorf("twin6(172.31.7.10) = %s, want %s", got, want)
	}
	n := &Node{PodCIDR: netip.MustParsePrefix("10.244.2.0/24"), PodCIDR6: podCIDR6(1)}
	if want := netip.MustParsePrefix("fd00:10:244:2::/64"); n.PodCIDR6 != want {
		t.Errorf("podCIDR6(1) = %s, want %s", n.PodCIDR6, want)
	}
	if !netip.MustParsePrefix(ClusterCIDR6).Contains(podCIDR6(maxNodes - 1).Addr()) {
		t.Errorf("pod CIDR %s of node-%d is outside the cluster CIDR %s", podCIDR6(maxNodes-1), maxNodes, ClusterCIDR6)
	}
	if got, want := n.podIP6(netip.MustParseAddr("10.244.2.17")), netip.MustParseAddr("fd00:10:244:2::11"); got != want {
		t.Errorf("podIP6(10.244.2.17) = %s, want %s", got, want)
	}
	if got := (&Node{PodCIDR: n.PodCIDR}).podIP6(netip.MustParseAddr("10.244.2.17")); got.IsValid() {
		t.Errorf("podIP6 on a single-stack node = %s, want none", got)
	}
	if got, want := (Config{DualStack: true}).serviceCIDRs(), ServiceCIDR+","+ServiceCIDR6; got != want {
		t.Errorf("dual-stack --service-cluster-ip-range %q, want %q", got, want)
	}
	if got := (Config{}).clusterCIDRs(); got != ClusterCIDR {
		t.Errorf("single-stack cluster CIDR %q, want %q", got, ClusterCIDR)
	}
}
