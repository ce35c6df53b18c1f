package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestServeUsageErrors covers the command lines --serve refuses before
// touching the node.
func TestServeUsageErrors(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--serve"}, "--node"},
		{[]string{"--serve", "--node", "n", "--proxy-mode", "userspace"}, "not implemented"},
		{[]string{"--serve", "--node", "n", "--proxy-mode", "ipvs", "--ipvs-scheduler", "fastest"}, `--ipvs-scheduler "fastest" is no IPVS scheduler`},
		{[]string{"--serve", "--cleanup", "-f", "x.yaml"}, "drop -f"},
		{[]string{"--serve", "--node", "n", "--sync-period", "0s"}, "--sync-period"},
		{[]string{"--serve", "--node", "n", "--cluster-cidr", "10.244.0.0/16,10.245.0.0/16"}, "two IPv4 CIDRs"},
		{[]string{"--serve", "--node", "n", "--cluster-cidr", "10.244.0.0"}, "one of each family"},
		{[]string{"--serve", "--node", "n", "--metrics-bind-address", "10249"}, "give HOST:PORT"},
		{[]string{"--serve", "--node", "n", "--metrics-bind-address", "0.0.0.0:10249", "--tls-cert-file", "c.pem"}, "give both --tls-cert-file and --tls-private-key-file"},
		{[]string{"--serve", "--node", "n", "--tls-cert-file", "c.pem", "--tls-private-key-file", "k.pem"}, "every one is on loopback"},
		{[]string{"--serve", "--node", "n", "--authorization-always-allow-paths", "/a*b"}, "--authorization-always-allow-paths"},
		{[]string{"--serve", "--node", "n", "--authorization-always-allow-paths", "healthz"}, "does not start with /"},
		{[]string{"--serve", "--node", "n", "--nodeport-addresses", "primary,10.0.0.0/8"}, `"primary" alone`},
		{[]string{"--serve", "--node", "n", "--nodeport-addresses", "10.0.0.1"}, `"10.0.0.1" is no CIDR`},
		{[]string{"--serve", "--node", "n", "--proxy-mode", "ipvs", "--nodeport-addresses", "primary"}, "implemented in iptables and nftables mode"},
		{[]string{"--serve", "--node", "n", "--ipvs-exclude-cidrs", "10.100.0.0/16"}, "is for --proxy-mode ipvs, not iptables"},
		{[]string{"--serve", "--node", "n", "--proxy-mode", "ipvs", "--ipvs-exclude-cidrs", "10.100.0.5"}, `"10.100.0.5" is no CIDR`},
	} {
		var out, errOut bytes.Buffer
		code := run(t.Context(), tc.args, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		if code != ExitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", tc.args, code, errOut.String(), ExitUsage, tc.want)
		}
	}
}

// TestLocalhostNodePortsOn follows kube-proxy: IPv4 NodePorts answer on
// loopback unless the flag is off or --nodeport-addresses has IPv4 CIDRs
// (or "primary") none of which holds 127.0.0.1.
func TestLocalhostNodePortsOn(t *testing.T) {
	for _, tc := range []struct {
		flag  bool
		addrs []string
		want  bool
	}{
		{true, nil, true},
		{false, nil, false},
		{true, []string{"10.0.0.0/8"}, false},
		{true, []string{"127.0.0.0/8", "10.0.0.0/8"}, true},
		{true, []string{"fd00::/64"}, true},
		{true, []string{"primary"}, false},
	} {
		s := serveOptions{localhostNodePorts: tc.flag, nodePortAddresses: tc.addrs}
		if got := s.localhostNodePortsOn(); got != tc.want {
			t.Errorf("flag %v, --nodeport-addresses %v: %v, want %v", tc.flag, tc.addrs, got, tc.want)
		}
	}
}
