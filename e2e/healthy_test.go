package e2e

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// setupHealthy is the Debug Services guide's hostnames: three ready pods,
// programmed by kube-proxy and known to CoreDNS.
func setupHealthy(ctx context.Context, t *testing.T, e *env) []string {
	svc := create(ctx, t, e.c.Client, e.ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 3, 3)
	waitDNS(ctx, t, e.c, fqdn("hostnames", e.ns), svc.Spec.ClusterIP)
	return []string{"hostnames", "-n", e.ns, "--dns-server", e.c.DNSAddr}
}

// checkHealthy checks the live DNS answer and that connections to the
// ClusterIP from the node reach only backends the trace lists.
func checkHealthy(ctx context.Context, t *testing.T, e *env, r result) {
	checkDNSLive(t, r, fqdn("hostnames", e.ns))
	eps := endpointsOf(t, r)
	var pods []string
	for _, ep := range eps {
		if ep.Ready && ep.Port == servePort {
			pods = append(pods, ep.Pod)
		}
	}
	if len(pods) != 3 {
		t.Fatalf("trace lists ready endpoints of pods %v on port %d, want 3\n%s", pods, servePort, r)
	}
	url, names := getFromNode(ctx, t, e, "hostnames", 10)
	for _, name := range names {
		if !slices.Contains(pods, name) {
			t.Errorf("GET %s from the node reached %q, which is not among the trace's endpoints %v", url, name, pods)
		}
	}
}

// getFromNode sends n requests from the node to the ClusterIP of service
// once one gets through, and returns the URL and the pods that answered.
func getFromNode(ctx context.Context, t *testing.T, e *env, service string, n int) (string, []string) {
	t.Helper()
	svc, err := e.c.Client.CoreV1().Services(e.ns).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + svc.Spec.ClusterIP + ":80/"
	hc := e.c.Node.HTTPClient(2 * time.Second)
	// kube-proxy syncs at most once a second after the slice changed.
	poll(ctx, t, 30*time.Second, "a backend answering "+url+" from node "+e.c.Node.NetNS, func(ctx context.Context) (bool, error) {
		return get(ctx, hc, url) != "", nil
	})
	names := make([]string, n)
	for i := range names {
		names[i] = get(ctx, hc, url)
	}
	return url, names
}

// get returns the body of url, the name of the pod that answered, or "".
func get(ctx context.Context, hc *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// ruleDump says, for each kube-proxy mode, how to read the node's rules,
// how a DNAT to an endpoint shows in them, and which flag traces them.
var ruleDump = map[string]struct {
	cmd  []string
	dnat func(ip string) string
	flag string
}{
	"iptables": {
		cmd:  []string{"iptables-save"},
		dnat: func(ip string) string { return "--to-destination " + net.JoinHostPort(ip, "9376") },
		flag: "--iptables-save",
	},
	"nftables": {
		cmd: []string{"nft", "-j", "list", "ruleset"},
		// An element of the service chain's numgen dnat map.
		dnat: func(ip string) string { return `{"concat": ["` + ip + `", 9376]}` },
		flag: "--nft",
	},
}

// withNodeRules waits until kube-proxy DNATs to every ready endpoint of
// the Service, saves the node's rules to a file and adds the flag that
// traces them to args.
func withNodeRules(ctx context.Context, t *testing.T, e *env, service string, args []string) []string {
	t.Helper()
	mode := e.s.proxyMode
	d := ruleDump[mode]
	eps := waitEndpoints(ctx, t, e.c.Client, e.ns, service, 3, 3)
	var dump []byte
	poll(ctx, t, 30*time.Second, "kube-proxy "+mode+" rules for "+e.ns+"/"+service, func(ctx context.Context) (bool, error) {
		var err error
		if dump, err = e.c.Node.Exec(ctx, d.cmd[0], d.cmd[1:]...); err != nil {
			return false, nil
		}
		for _, ep := range eps {
			if !strings.Contains(string(dump), d.dnat(ep.Addresses[0])) {
				return false, nil
			}
		}
		return true, nil
	})
	path := filepath.Join(t.TempDir(), mode+".dump")
	if err := os.WriteFile(path, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	return append(args, d.flag, path, "--node", e.c.Node.Name)
}

// checkNodeRules checks that the trace walked node-1's real rules: a
// packet to the ClusterIP is DNATed to each ready endpoint the trace lists,
// a third of the time each.
func checkNodeRules(_ context.Context, t *testing.T, e *env, r result) {
	checkRulesOf(t, e, r, e.c.Node.Name)
}

// checkRulesOf checks that the trace walked the real rules of node: a
// packet to the ClusterIP is DNATed to each ready endpoint the trace lists,
// a third of the time each.
func checkRulesOf(t *testing.T, e *env, r result, node string) {
	t.Helper()
	var want []string
	for _, ep := range endpointsOf(t, r) {
		if ep.Ready {
			want = append(want, net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port))))
		}
	}
	var walks []walk
	for _, dp := range r.doc.Dataplane {
		if dp.Node != node || dp.Mode != e.s.proxyMode {
			t.Errorf("dataplane hop of node %q mode %q, want %s %s", dp.Node, dp.Mode, node, e.s.proxyMode)
		}
		walks = append(walks, dp.Walks...)
	}
	if len(walks) == 0 {
		t.Fatalf("trace walked no packet through the %s dump\n%s", e.s.proxyMode, r)
	}
	for _, w := range walks {
		checkSplit(t, w, want)
	}
}

// checkSplit checks that walk w DNATs a third of the time to each of the
// endpoints want (host:port).
func checkSplit(t *testing.T, w walk, want []string) {
	t.Helper()
	var got []string
	for _, o := range w.Outcomes {
		if o.Verdict != "DNAT" || math.Abs(o.Probability-1.0/3) > 0.01 {
			t.Errorf("packet to %s:%d: outcome %s %s with probability %.3f, want DNAT with 1/3",
				w.Packet.Destination, w.Packet.Port, o.Verdict, o.Target, o.Probability)
		}
		got = append(got, o.Target)
	}
	if !sameSet(got, want) {
		t.Errorf("packet to %s:%d is DNATed to %v, want the ready endpoints %v", w.Packet.Destination, w.Packet.Port, got, want)
	}
}
