// Package nfacct creates the extended accounting objects (nfnetlink_acct)
// that kube-proxy v1.37's iptables rules count packets with ("-m nfacct
// --nfacct-name …"): iptables-restore fails on a rule naming one that does
// not exist, so they must be created first, over netlink as kube-proxy does.
package nfacct

// Names of the counters kube-proxy's iptables rules reference.
const (
	InvalidDropped     = "ct_state_invalid_dropped_pkts"
	LocalhostNodePorts = "localhost_nps_accepted_pkts"
)
