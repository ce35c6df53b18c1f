package trace

// Trace is the path of one Service from its definition to its endpoints,
// with what is wrong along the way. Field names are part of the JSON/YAML
// output contract (docs/output.md).
type Trace struct {
	Service   ServiceHop     `json:"service"`
	Ports     []PortHop      `json:"ports"`
	Slices    []SliceHop     `json:"endpointSlices"`
	Pods      []PodHop       `json:"pods"`
	Nodes     []NodeHop      `json:"nodes"`
	DNS       *DNSHop        `json:"dns,omitempty"`
	Dataplane []DataplaneHop `json:"dataplane,omitempty"`
	// Probe is what connection checks from inside the cluster saw (--probe).
	Probe *ProbeHop `json:"probe,omitempty"`
	// NetworkPolicy is what the NetworkPolicies selecting the Service's
	// pods (and the --from pod) allow; nil when none has a say.
	NetworkPolicy *NetworkPolicyHop `json:"networkPolicy,omitempty"`
	Findings      []Finding         `json:"findings"`
	Unchecked     []Gap             `json:"unchecked"`
	Found         bool              `json:"found"`
}

// ServiceHop is what the Service says about itself.
type ServiceHop struct {
	Namespace                string            `json:"namespace"`
	Name                     string            `json:"name"`
	Type                     string            `json:"type,omitempty"`
	ClusterIPs               []string          `json:"clusterIPs,omitempty"`
	Headless                 bool              `json:"headless,omitempty"`
	ExternalName             string            `json:"externalName,omitempty"`
	ExternalIPs              []string          `json:"externalIPs,omitempty"`
	LoadBalancerIPs          []string          `json:"loadBalancerIPs,omitempty"`
	LoadBalancerSourceRanges []string          `json:"loadBalancerSourceRanges,omitempty"`
	Selector                 map[string]string `json:"selector,omitempty"`
	SessionAffinity          string            `json:"sessionAffinity,omitempty"`
	AffinityTimeoutSeconds   int32             `json:"affinityTimeoutSeconds,omitempty"`
	ExternalTrafficPolicy    string            `json:"externalTrafficPolicy,omitempty"`
	InternalTrafficPolicy    string            `json:"internalTrafficPolicy,omitempty"`
	PublishNotReadyAddresses bool              `json:"publishNotReadyAddresses,omitempty"`
	IPFamilies               []string          `json:"ipFamilies,omitempty"`
}

// PortHop follows one Service port to the endpoints that serve it.
type PortHop struct {
	Name       string        `json:"name,omitempty"`
	Protocol   string        `json:"protocol"`
	Port       int32         `json:"port"`
	TargetPort string        `json:"targetPort"`
	NodePort   int32         `json:"nodePort,omitempty"`
	Endpoints  []EndpointHop `json:"endpoints"`
	// Resolved maps pod name to the number the targetPort resolves to on
	// that pod; named ports may resolve differently per pod.
	Resolved map[string]int32 `json:"resolvedTargetPorts,omitempty"`
}

// EndpointHop is one address:port published for a Service port.
type EndpointHop struct {
	Address     string `json:"address"`
	Port        int32  `json:"port"`
	Ready       bool   `json:"ready"`
	Serving     bool   `json:"serving"`
	Terminating bool   `json:"terminating"`
	Pod         string `json:"pod,omitempty"`
	Node        string `json:"node,omitempty"`
	Zone        string `json:"zone,omitempty"`
	Hostname    string `json:"hostname,omitempty"`
	Slice       string `json:"slice"`
	// NotServing says why the endpoint most likely refuses connections
	// although it is published: its pod declares container ports, none of
	// them the numeric targetPort, and no probe shows that port answering.
	NotServing string `json:"notServing,omitempty"`
}

// SliceHop summarises one EndpointSlice.
type SliceHop struct {
	Name        string `json:"name"`
	AddressType string `json:"addressType"`
	ManagedBy   string `json:"managedBy,omitempty"`
	Endpoints   int    `json:"endpoints"`
	Ready       int    `json:"ready"`
}

// PodHop is one selected pod and why it is or is not ready.
type PodHop struct {
	Name     string            `json:"name"`
	Phase    string            `json:"phase"`
	Ready    bool              `json:"ready"`
	IPs      []string          `json:"ips,omitempty"`
	Node     string            `json:"node,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Restarts int32             `json:"restarts"`
	// Reason says why the pod is not ready, naming the container.
	Reason      string `json:"reason,omitempty"`
	Terminating bool   `json:"terminating,omitempty"`
	// Conditions are the pod's status conditions (Ready, ContainersReady, ...).
	Conditions []PodCondition `json:"conditions,omitempty"`
	// ContainerPorts are the ports its containers (and native sidecars)
	// declare: what a targetPort is resolved against.
	ContainerPorts []ContainerPort `json:"containerPorts,omitempty"`
	// Events are the pod's latest Warning events, newest first.
	Events []PodEvent `json:"events,omitempty"`
}

// PodEvent is one Warning event about a pod, e.g. a failing probe.
type PodEvent struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Count   int32  `json:"count"`
	Last    string `json:"last"`
}

// PodCondition is one status condition of a pod.
type PodCondition struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// ContainerPort is one port a container declares.
type ContainerPort struct {
	Container string `json:"container"`
	Name      string `json:"name,omitempty"`
	Port      int32  `json:"port"`
	Protocol  string `json:"protocol"`
}

// NodeHop is one node that hosts selected pods or endpoints.
type NodeHop struct {
	Name       string `json:"name"`
	Ready      bool   `json:"ready"`
	InternalIP string `json:"internalIP,omitempty"`
	Zone       string `json:"zone,omitempty"`
	Missing    bool   `json:"missing,omitempty"`
}

// ReadyEndpoints counts the ready endpoints of a port.
func (p PortHop) ReadyEndpoints() int {
	n := 0
	for _, e := range p.Endpoints {
		if e.Ready {
			n++
		}
	}
	return n
}
