package dns

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ResolvConf is the part of /etc/resolv.conf the stub resolver acts on.
type ResolvConf struct {
	Nameservers []string
	Searches    []string
	// Options are "name" or "name:value", e.g. "ndots:5".
	Options []string
}

// Limits the kubelet applies (pkg/apis/core/validation: MaxDNSNameservers,
// MaxDNSSearchPaths, MaxDNSSearchListChars; search entries longer than a
// DNS-1123 subdomain are dropped).
const (
	maxNameservers     = 3
	maxSearchPaths     = 32
	maxSearchListChars = 2048
	maxSearchLen       = 253
)

// Ndots is the ndots option as glibc reads it: default 1, capped at 15.
func (rc ResolvConf) Ndots() int {
	n := 1
	for _, o := range rc.Options {
		if v, ok := strings.CutPrefix(o, "ndots:"); ok {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 {
				n = min(i, 15)
			}
		}
	}
	return n
}

// String renders the file as the kubelet writes it.
func (rc ResolvConf) String() string {
	var b strings.Builder
	for _, ns := range rc.Nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(rc.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(rc.Searches, " "))
	}
	if len(rc.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(rc.Options, " "))
	}
	return b.String()
}

// ParseResolvConf reads resolv.conf text the way the kubelet does:
// nameservers accumulate, the last search and options lines win.
func ParseResolvConf(text string) ResolvConf {
	var rc ResolvConf
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				rc.Nameservers = append(rc.Nameservers, f[1])
			}
		case "search":
			rc.Searches = rc.Searches[:0]
			for _, s := range f[1:] {
				rc.Searches = append(rc.Searches, strings.TrimSuffix(s, "."))
			}
		case "options":
			rc.Options = append([]string(nil), f[1:]...)
		}
	}
	return rc
}

// PodDNS is what the kubelet combines into a pod's resolv.conf.
type PodDNS struct {
	Pod *corev1.Pod
	// ClusterDomain is the kubelet's clusterDomain; DefaultClusterDomain when empty.
	ClusterDomain string
	// ClusterDNS is the kubelet's clusterDNS list, normally the kube-dns ClusterIP.
	ClusterDNS []string
	// Node is the node's resolv.conf (kubelet --resolv-conf), zero when unknown.
	Node ResolvConf
}

// PodResolvConf reproduces the kubelet's GetPodDNS (pkg/kubelet/network/dns):
// ClusterFirst (and ClusterFirstWithHostNet) uses the cluster DNS, the search
// list "<ns>.svc.<zone> svc.<zone> <zone>" plus the node's, and ndots:5;
// ClusterFirst on hostNetwork and Default use the node's file; None starts
// empty; spec.dnsConfig is appended last. Options are sorted, whereas the
// kubelet writes them in map order.
func PodResolvConf(in PodDNS) (ResolvConf, error) {
	p := in.Pod
	if p == nil {
		return ResolvConf{}, errors.New("no pod given to compute resolv.conf for")
	}
	zone := strings.TrimSuffix(in.ClusterDomain, ".")
	if zone == "" {
		zone = DefaultClusterDomain
	}
	node := ResolvConf{
		Nameservers: slices.Clone(in.Node.Nameservers),
		Searches:    slices.Clone(in.Node.Searches),
		Options:     slices.Clone(in.Node.Options),
	}
	var rc ResolvConf
	switch policy := p.Spec.DNSPolicy; {
	case policy == corev1.DNSNone:
	case policy == corev1.DNSDefault, policy == corev1.DNSClusterFirst && p.Spec.HostNetwork:
		rc = node
	case policy == corev1.DNSClusterFirst, policy == corev1.DNSClusterFirstWithHostNet, policy == "":
		if len(in.ClusterDNS) == 0 {
			// The kubelet falls back to Default and records a MissingClusterDNS event.
			rc = node
			break
		}
		ns := p.Namespace
		rc.Nameservers = slices.Clone(in.ClusterDNS)
		rc.Searches = omitDuplicates(append([]string{ns + ".svc." + zone, "svc." + zone, zone}, node.Searches...))
		rc.Options = []string{"ndots:5"}
	default:
		return ResolvConf{}, fmt.Errorf("pod %s/%s: unknown dnsPolicy %q; expected ClusterFirst, ClusterFirstWithHostNet, Default or None", p.Namespace, p.Name, policy)
	}
	if c := p.Spec.DNSConfig; c != nil {
		rc.Nameservers = omitDuplicates(append(rc.Nameservers, c.Nameservers...))
		rc.Searches = omitDuplicates(append(rc.Searches, c.Searches...))
		rc.Options = mergeOptions(rc.Options, c.Options)
	}
	rc.Nameservers = rc.Nameservers[:min(len(rc.Nameservers), maxNameservers)]
	rc.Searches = fitSearches(rc.Searches)
	return rc, nil
}

func omitDuplicates(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mergeOptions lets dnsConfig options override same-named ones.
func mergeOptions(base []string, extra []corev1.PodDNSConfigOption) []string {
	m := map[string]string{}
	for _, o := range base {
		k, v, _ := strings.Cut(o, ":")
		m[k] = v
	}
	for _, o := range extra {
		m[o.Name] = deref(o.Value)
	}
	var out []string
	for k, v := range m {
		if v != "" {
			k += ":" + v
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fitSearches applies the kubelet's limits: at most 32 entries, none longer
// than 253 characters, and the joined line within 2048 characters.
func fitSearches(s []string) []string {
	s = s[:min(len(s), maxSearchPaths)]
	s = slices.DeleteFunc(s, func(x string) bool { return len(x) > maxSearchLen })
	for len(s) > 0 && len(strings.Join(s, " ")) > maxSearchListChars {
		s = s[:len(s)-1]
	}
	return s
}
