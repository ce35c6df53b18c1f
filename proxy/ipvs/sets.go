package ipvs

import (
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
)

// kube-proxy's ip sets (pkg/proxy/ipvs/ipset.go), by their kube-proxy names.
const (
	setLoopBack         = "KUBE-LOOP-BACK"
	setClusterIP        = "KUBE-CLUSTER-IP"
	setExternalIP       = "KUBE-EXTERNAL-IP"
	setExternalIPLocal  = "KUBE-EXTERNAL-IP-LOCAL"
	setLoadBalancer     = "KUBE-LOAD-BALANCER"
	setLoadBalancerFW   = "KUBE-LOAD-BALANCER-FW"
	setLoadBalancerLoc  = "KUBE-LOAD-BALANCER-LOCAL"
	setLBSourceIP       = "KUBE-LOAD-BALANCER-SOURCE-IP"
	setLBSourceCIDR     = "KUBE-LOAD-BALANCER-SOURCE-CIDR"
	setNodePortTCP      = "KUBE-NODE-PORT-TCP"
	setNodePortLocalTCP = "KUBE-NODE-PORT-LOCAL-TCP"
	setNodePortUDP      = "KUBE-NODE-PORT-UDP"
	setNodePortLocalUDP = "KUBE-NODE-PORT-LOCAL-UDP"
	setNodePortSCTP     = "KUBE-NODE-PORT-SCTP-HASH"
	setNodePortLocSCTP  = "KUBE-NODE-PORT-LOCAL-SCTP-HASH"
	setHealthCheck      = "KUBE-HEALTH-CHECK-NODE-PORT"
	setIPVSIPs          = "KUBE-IPVS-IPS"
)

// setInfo is one of kube-proxy's sets: its type and the comment its
// iptables rules carry.
type setInfo struct {
	name    string
	typ     ipset.Type
	comment string
}

// setInfos lists the sets in kube-proxy's order (ipsetInfo).
var setInfos = []setInfo{
	{setLoopBack, ipset.HashIPPortIP, "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"},
	{setClusterIP, ipset.HashIPPort, "Kubernetes service cluster ip + port for masquerade purpose"},
	{setExternalIP, ipset.HashIPPort, "Kubernetes service external ip + port for masquerade and filter purpose"},
	{setExternalIPLocal, ipset.HashIPPort, "Kubernetes service external ip + port with externalTrafficPolicy=local"},
	{setLoadBalancer, ipset.HashIPPort, "Kubernetes service lb portal"},
	{setLoadBalancerFW, ipset.HashIPPort, "Kubernetes service load balancer ip + port for load balancer with sourceRange"},
	{setLoadBalancerLoc, ipset.HashIPPort, "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"},
	{setLBSourceIP, ipset.HashIPPortIP, "Kubernetes service load balancer ip + port + source IP for packet filter purpose"},
	{setLBSourceCIDR, ipset.HashIPPortNet, "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"},
	{setNodePortTCP, ipset.BitmapPort, "Kubernetes nodeport TCP port for masquerade purpose"},
	{setNodePortLocalTCP, ipset.BitmapPort, "Kubernetes nodeport TCP port with externalTrafficPolicy=local"},
	{setNodePortUDP, ipset.BitmapPort, "Kubernetes nodeport UDP port for masquerade purpose"},
	{setNodePortLocalUDP, ipset.BitmapPort, "Kubernetes nodeport UDP port with externalTrafficPolicy=local"},
	{setNodePortSCTP, ipset.HashIPPort, "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"},
	{setNodePortLocSCTP, ipset.HashIPPort, "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"},
	{setHealthCheck, ipset.BitmapPort, "Kubernetes health check node port"},
	{setIPVSIPs, ipset.HashIP, "Addresses on the ipvs interface"},
}

func infoOf(kube string) setInfo {
	for _, s := range setInfos {
		if s.name == kube {
			return s
		}
	}
	panic("unknown ip set " + kube) // constant input
}
