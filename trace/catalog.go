package trace

// Finding IDs. They are part of the output contract: never rename one.
const (
	ServiceNotFound           = "ServiceNotFound"
	NoSelector                = "NoSelector"
	NoPodsMatchSelector       = "NoPodsMatchSelector"
	PodsNotReady              = "PodsNotReady"
	NoReadyEndpoints          = "NoReadyEndpoints"
	TargetPortNotExposed      = "TargetPortNotExposed"
	NamedPortNotFound         = "NamedPortNotFound"
	ProtocolMismatch          = "ProtocolMismatch"
	EndpointsNotMatchingPods  = "EndpointsNotMatchingPods"
	EndpointSliceUpdateFailed = "EndpointSliceUpdateFailed"
	ServiceWarningEvent       = "ServiceWarningEvent"
	TerminatingEndpoints      = "TerminatingEndpoints"
	NoLocalEndpoints          = "NoLocalEndpoints"
	ExternalNameService       = "ExternalNameService"
	HeadlessService           = "HeadlessService"
	SessionAffinityEnabled    = "SessionAffinityEnabled"
	NodeNotFound              = "NodeNotFound"
	NodeNotReady              = "NodeNotReady"
	AccessDenied              = "AccessDenied"
)

// CatalogEntry documents one finding ID.
type CatalogEntry struct {
	ID       string
	Severity Severity
	Area     string
	Meaning  string
}

// Catalog lists every finding ID the tool can produce, grouped by the hop
// that produces it. docs/findings.md is generated from it and checked by a test.
func Catalog() []CatalogEntry {
	return []CatalogEntry{
		{ServiceNotFound, SeverityError, "service", "The Service does not exist in the namespace; close names there and the same name in other namespaces are suggested."},
		{NoSelector, SeverityInfo, "service", "The Service has no selector, so nothing maintains its EndpointSlices automatically; an error when it has no EndpointSlices at all (every connection is refused)."},
		{ExternalNameService, SeverityInfo, "service", "The Service is only a DNS CNAME to spec.externalName; kube-proxy programs nothing for it."},
		{HeadlessService, SeverityInfo, "service", "clusterIP: None: DNS answers with the ready endpoint addresses and kube-proxy programs nothing."},
		{KubeProxySkips, SeverityInfo, "service", "The Service is labelled service.kubernetes.io/service-proxy-name (any value: that proxy owns it) or service.kubernetes.io/headless, so kube-proxy skips it: no kube-proxy rule is expected, and rules a node holds for it are StaleProxyRules. A warning when EndpointSlices of a Service with a cluster IP carry the headless label: kube-proxy ignores them."},
		{ServeOwnsService, SeverityInfo, "service", "The Service is labelled service.kubernetes.io/service-proxy-name=svctrace: kubectl-svctrace --serve, running beside kube-proxy, owns it. Its iptables rules are expected in --serve's SVCT- chains (kube-proxy's names with KUBE- replaced), its nftables rules in its table svctrace (kube-proxy's table under another name), its IPVS virtual servers as kube-proxy's (its addresses on svctrace-ipvs0), walks go through them and drift compares with what --serve programs; kube-proxy's rules for it are StaleProxyRules."},
		{SessionAffinityEnabled, SeverityInfo, "service", "sessionAffinity: ClientIP pins each client to one endpoint for the timeout."},
		{AccessDenied, SeverityWarning, "service", "An API read was forbidden; the trace continues without that data and names what it could not check."},
		{ServiceWarningEvent, SeverityWarning, "service", "Another Warning event was recorded on the Service (e.g. SyncLoadBalancerFailed from the cloud controller); its reason, count and message are shown. Info for what the API server's allocator repaired itself (ClusterIPNotAllocated, PortNotAllocated)."},
		{NoPodsMatchSelector, SeverityError, "selector", "No pod in the namespace carries every label of the selector, and no workload template matches it either (when one does, a Workload finding speaks instead); the nearest-miss pods and the differing label are shown."},
		{WorkloadScaledToZero, SeverityError, "selector", "No pod matches the selector because a Deployment, StatefulSet or ReplicaSet whose template matches it is scaled to 0 (or a DaemonSet fits no node); the hint is the kubectl scale command."},
		{WorkloadPodsRefused, SeverityError, "selector", "No pod matches the selector because a ResourceQuota or an admission controller refuses the pods of a workload whose template matches it (its FailedCreate event or ReplicaFailure condition is quoted)."},
		{WorkloadRolloutStuck, SeverityError, "selector", "No pod matches the selector although a workload whose template matches it wants pods: its rollout is paused or never got a ready pod (its Progressing condition is quoted)."},
		{PodsNotReady, SeverityWarning, "selector", "Some selected pods are not Ready; the container and the reason are named."},
		{NoReadyEndpoints, SeverityError, "endpoints", "No EndpointSlice of the Service holds a ready endpoint; the message says what clients see in the node's proxy mode (connection refused: iptables and nftables REJECT, IPVS has no real server)."},
		{TargetPortNotExposed, SeverityError, "endpoints", "A numeric targetPort is not declared by any container of the selected pods while they declare other ports: nothing shows it answering, so connections are most likely refused and the endpoints are marked not serving. A warning when a passing readiness probe checks that port or a --probe connection to it succeeds."},
		{NamedPortNotFound, SeverityError, "endpoints", "A named targetPort is not a container port name (with the Service port's protocol) on some selected pods."},
		{ProtocolMismatch, SeverityError, "endpoints", "A named targetPort exists on the pods only with another protocol (error: no endpoint), or a numeric one is declared with another protocol (warning)."},
		{EndpointsNotMatchingPods, SeverityWarning, "endpoints", "EndpointSlices list addresses with no matching ready pod, miss ready pods, or use a port other than the one the named targetPort means on the pod."},
		{EndpointSliceUpdateFailed, SeverityError, "endpoints", "The EndpointSlice controller recorded FailedToUpdateEndpointSlices on the Service; a warning once every ready pod is published again."},
		{TerminatingEndpoints, SeverityInfo, "endpoints", "Some endpoints are terminating; they receive traffic only while no ready endpoint exists (a warning when only they remain)."},
		{NoLocalEndpoints, SeverityWarning, "endpoints", "A Local traffic policy leaves nodes without a ready local endpoint (the message says whether each hosts selected pods); clients see a timeout in iptables and nftables mode (DROP), connection refused in IPVS mode."},
		{NodeNotFound, SeverityError, "nodes", "A selected pod names a Node that does not exist; the EndpointSlice controller skips it."},
		{NodeNotReady, SeverityWarning, "nodes", "A node hosting selected pods is not Ready."},
		{"DNSNameNotFound", SeverityError, "dns", "The DNS server has no record for a name that CoreDNS should answer."},
		{"DNSAnswerMismatch", SeverityError, "dns", "The DNS answer differs from the records the API objects imply."},
		{"DNSServerUnreachable", SeverityWarning, "dns", "The cluster DNS server could not be reached from where the tool runs."},
		{DNSWrongServer, SeverityWarning, "dns", "The DNS server answered NXDOMAIN for kubernetes.default: it is not the cluster's DNS (or the cluster domain differs), so no DNS check was made."},
		{DNSNotAskedFromOutside, SeverityInfo, "dns", "--dns was given on a machine outside the cluster: the cluster DNS address is not routable from there, so no query was sent; --probe asks from inside."},
		{"DNSNotReadyEndpointPublished", SeverityWarning, "dns", "DNS answers with a not-ready endpoint although publishNotReadyAddresses is false."},
		{"DNSSearchPathMiss", SeverityWarning, "dns", "The name a pod queries does not reach the Service through its resolver search path."},
		{"ExternalNameUnresolvable", SeverityError, "dns", "The CNAME target of an ExternalName Service does not resolve."},
		{"ServiceChainMissing", SeverityError, "dataplane", "kube-proxy's KUBE-SERVICES entry or KUBE-SVC/SVL/EXT/FW chain for the Service port is missing on the node."},
		{"EndpointChainMissing", SeverityError, "dataplane", "A ready endpoint has no KUBE-SEP chain or no jump to it."},
		{"StaleEndpointChain", SeverityWarning, "dataplane", "A KUBE-SEP chain or jump points to an endpoint that no longer exists."},
		{"ProbabilityMismatch", SeverityWarning, "dataplane", "The statistic probabilities do not spread traffic evenly over the endpoints."},
		{"DNATTargetMismatch", SeverityError, "dataplane", "A KUBE-SEP chain DNATs to a different address than its endpoint."},
		{"NoEndpointsRejectRule", SeverityInfo, "dataplane", "The Service has no (local) endpoints and kube-proxy's filter rule for it is missing: clients time out instead of being refused (REJECT) or dropped (DROP)."},
		{"KubeServicesEntryMissing", SeverityError, "dataplane", "Another rule of a shared chain for the Service is missing (KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, filter KUBE-SERVICES)."},
		{"ServiceRuleMissing", SeverityWarning, "dataplane", "Another rule of a service or endpoint chain is missing (masquerade, hairpin, affinity)."},
		{"StaleServiceRule", SeverityWarning, "dataplane", "The node has a rule for the Service that kube-proxy would not write now, e.g. a REJECT although endpoints exist."},
		{"StaleServiceChain", SeverityWarning, "dataplane", "The node has a KUBE-SVC/SVL/EXT/FW chain for the Service that kube-proxy would not write now."},
		{"StaleProxyRules", SeverityWarning, "dataplane", "The node has rules for a Service for which nothing is expected: left by a stopped kube-proxy or one in another mode, or kept for a Service kube-proxy skips (KubeProxySkips); in every mode."},
		{"ServicePortalsJumpMissing", SeverityError, "dataplane", "nat PREROUTING/OUTPUT do not jump to KUBE-SERVICES, so no Service rule is reached."},
		{"StaleConntrackEntry", SeverityWarning, "dataplane", "A conntrack entry still sends a flow to an endpoint that no longer exists."},
		{NoServingPath, SeverityError, "dataplane", "Packets were walked through the node's rules and none reaches a serving endpoint (each is refused, dropped, left untranslated or sent elsewhere), while no other error says so: the walks' ends are named."},
		{DumpPredatesObjects, SeverityWarning, "dataplane", "The node dump (or snapshot) was saved before the Service, its EndpointSlices or its pods last changed: its differences from the rules kube-proxy should write now stand in one finding that asks for a fresh dump instead of blaming kube-proxy. A dump newer than every object says so on each difference."},
		{DumpExtraLines, SeverityInfo, "dataplane", "A dump had lines before the command's own output (such as kubectl debug's \"Creating debugging pod …\"); they were skipped and the rest was read."},
		{DataplaneNotChecked, SeverityWarning, "dataplane", "The node's rules could not be generated or walked (for example a corrupt dump), so the dataplane hop is missing."},
		{"IPVSVirtualServerMissing", SeverityError, "dataplane", "No IPVS virtual server exists for a Service address and port."},
		{"IPVSRealServerMissing", SeverityError, "dataplane", "A ready endpoint is missing from the IPVS virtual server."},
		{"IPVSStaleRealServer", SeverityWarning, "dataplane", "An IPVS real server points to an endpoint that no longer exists."},
		{"NFTServiceMissing", SeverityError, "dataplane", "The nftables service-ips element or service chain is missing."},
		{"NFTEndpointMissing", SeverityError, "dataplane", "A ready endpoint is missing from the nftables service chain."},
		{"NFTEndpointStale", SeverityWarning, "dataplane", "The nftables service chain still sends traffic to an endpoint that is gone or not ready."},
		{"NFTElementMissing", SeverityError, "dataplane", "A service-ips (or nodeport, firewall) map element for the Service is missing."},
		{"NFTElementStale", SeverityWarning, "dataplane", "A map element for the Service points to a chain or address kube-proxy would not write now."},
		{"NFTElementWrongTarget", SeverityError, "dataplane", "A map element for the Service jumps to the wrong chain."},
		{NFTLayoutUnknown, SeverityInfo, "dataplane", "The node's nftables kube-proxy table has neither the hairpin-connections set (kube-proxy v1.36 and later) nor the mark-for-masquerade chain (v1.29 to v1.35), so its layout is none the trace knows: it was compared by what packets meet (the elements that dispatch them, the endpoints each chain reaches), not by the shape of its chains."},
		{IPTablesLayoutOlder, SeverityInfo, "dataplane", "The node's iptables rules were written by a kube-proxy older than the layouts the trace generates (v1.34 to v1.37): masquerade marks in KUBE-SERVICES, unnamed ports spelled \"ns/name:\", load-balancing rules without \"-> ENDPOINT\" comments. They were compared by what packets meet (WalkOutcomeDiffers), not rule by rule."},
		{"WalkOutcomeDiffers", SeverityWarning, "dataplane", "Where a node's rules are compared by behaviour (IPTablesLayoutOlder): a packet to the Service meets another outcome through the node's rules than through the rules kube-proxy should write now: another share for an endpoint, an endpoint missing or extra, a REJECT, or another masquerade decision."},
		{"IPVSWeightMismatch", SeverityWarning, "dataplane", "An IPVS real server has a different weight than expected (0 is terminating)."},
		{"IPVSSchedulerMismatch", SeverityWarning, "dataplane", "An IPVS virtual server uses a different scheduler than kube-proxy's."},
		{"IPVSPersistenceMismatch", SeverityWarning, "dataplane", "An IPVS virtual server's persistence (ClientIP affinity) differs from the Service."},
		{"IPVSForwardMismatch", SeverityWarning, "dataplane", "An IPVS real server uses a forwarding method other than masquerade."},
		{"IPVSAddressNotBound", SeverityError, "dataplane", "A Service address kube-proxy binds to kube-ipvs0 is no local address of the node (from --ipvs-addrs), so the node routes its packets on and IPVS never balances them."},
		{"NodeReadThroughServe", SeverityInfo, "node", "--node N (or --all-nodes) read the node by asking the --serve pod running there (deploy/serve.yaml's DaemonSet, through pods/exec) instead of starting an agent pod; or says why asking it failed and an agent pod read the node instead."},
		{"NodeAgentNotRun", SeverityWarning, "node", "--node N without a dump could not read the node through its agent pod: missing rights (the hint names the role to bind), a namespace whose Pod Security refuses privileged pods, an image that cannot be pulled; the trace goes on with the rules kube-proxy should write."},
		{"KubeProxyNotRunning", SeverityError, "node", "kube-proxy answers neither /healthz (10256) nor /metrics (10249) on the node, so nothing keeps its rules up to date."},
		{"KubeProxyUnhealthy", SeverityError, "node", "kube-proxy's /healthz on the node answers an error: its last sync is too old or failed."},
		{"KubeProxyHung", SeverityError, "node", "kube-proxy's last rule sync is much older than the last change it queued (kubeproxy_sync_proxy_rules_last_* metrics): it is stuck."},
		{"KubeProxyRestoreFailures", SeverityWarning, "node", "kube-proxy counted failed iptables-restore (or nft) runs on the node."},
		{"KubeProxyModeDiffers", SeverityWarning, "node", "kube-proxy runs in another mode on this node than on most nodes (--all-nodes)."},
		{"MixedIPTablesBackends", SeverityError, "node", "The node holds kube-proxy rules in both iptables backends (legacy and nf_tables); the finding names the backend the node uses (and the trace walks) and what each holds; one set is stale (kubernetes/kubernetes#107965)."},
		{NetworkPolicyBlocks, SeverityError, "networkpolicy", "With --from pod/NAME (or --from node or an IP, which only ipBlock rules match; traffic from a pod's own node is always allowed): NetworkPolicies select the endpoint pods for ingress (or the client for egress) and no rule admits the connection on the targetPort; the policies are named and the hint is a policy to apply that admits it. Enforcement depends on the network plugin: a --probe from the client that times out confirms it, and one that connects makes it a warning (the plugin does not enforce the policy yet)."},
		{NetworkPolicyBlocksDNS, SeverityError, "networkpolicy", "With --from pod/NAME: no DNS query (UDP to the kube-dns pods' DNS port) both leaves the client (its egress policies) and is admitted by the kube-dns pods (kube-system's ingress policies), so Service names do not resolve from it; the hint is the egress rule, or the kube-system ingress rule, to add."},
		{NetworkPolicyUndecided, SeverityWarning, "networkpolicy", "With --from pod/NAME: whether a connection is allowed hinges on a namespaceSelector over namespace labels that could not be read (get namespaces forbidden)."},
		{NetworkPolicyRestricts, SeverityInfo, "networkpolicy", "Without --from: NetworkPolicies select the Service's pods for ingress; the clients they admit on each targetPort are summed up (e.g. only pods labelled app=frontend in namespace shop on TCP 8080). A warning when they admit no client at all."},
		{ProbeNotRun, SeverityWarning, "probe", "--probe could not run its checks inside the cluster (rights, image, timeout); the error is named and the rest of the trace stands."},
		{ProbeServiceUnreachable, SeverityError, "probe", "From inside the cluster, a connection to the Service address (ClusterIP or external IP) was refused or timed out; whether its endpoints answered directly says where to look."},
		{ProbeEndpointFailed, SeverityError, "probe", "An endpoint refused or ignored a direct connection to its targetPort (a warning for endpoints that are not ready)."},
		{ProbeNodePortFailed, SeverityError, "probe", "The Service's node port on the probe's node refused or ignored a connection."},
		{ProbeContradictsRules, SeverityWarning, "probe", "A probe's connection worked where the node's rules walked refuse it, or failed where they deliver it: the rules walked are not what the node holds."},
		{ProbeNoUDPReply, SeverityInfo, "probe", "UDP datagrams got no reply; UDP cannot tell a silent server from a dropped packet."},
	}
}
