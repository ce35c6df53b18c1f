// Package gendump writes deterministic cluster dumps shaped like the output
// of `kubectl get svc,endpointslices,pods,nodes,events -A -o yaml` on a real
// cluster: Services with ten pods each (probes, owner references, volumes,
// status), their EndpointSlices, the nodes and events. Benchmarks and
// hack/bench-scale.sh build their input with it instead of committing data.
package gendump

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Options size the cluster.
type Options struct {
	Services       int
	PodsPerService int // default 10
	// Namespaces spread the Services; default one per 100 Services.
	Namespaces int
	// Nodes run the pods; default one per 50 pods, at least 3.
	Nodes int
}

func (o Options) withDefaults() Options {
	if o.PodsPerService == 0 {
		o.PodsPerService = 10
	}
	if o.Namespaces == 0 {
		o.Namespaces = max(1, o.Services/100)
	}
	if o.Nodes == 0 {
		o.Nodes = max(3, o.Services*o.PodsPerService/50)
	}
	return o
}

// Namespace and Name name Service i of a dump made with o.
func (o Options) Namespace(i int) string {
	return fmt.Sprintf("team-%03d", i%o.withDefaults().Namespaces)
}

// Name is the name of Service i.
func Name(i int) string { return fmt.Sprintf("app-%05d", i) }

var created = metav1.NewTime(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))

func uid(kind string, i, j int) types.UID {
	return types.UID(fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, j&0xffff, len(kind), j>>16, i*7919+j))
}

func (o Options) service(i int) *corev1.Service {
	name := Name(i)
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace(i), UID: uid("Service", i, 0),
			ResourceVersion: fmt.Sprint(1000 + i), CreationTimestamp: created,
			Labels:      map[string]string{"app": name, "app.kubernetes.io/part-of": "shop"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": name},
			ClusterIP: clusterIP(i), ClusterIPs: []string{clusterIP(i)},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicySingleStack),
			SessionAffinity: corev1.ServiceAffinityNone, InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9090), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}

func clusterIP(i int) string { return fmt.Sprintf("10.96.%d.%d", 1+i/250, 1+i%250) }

func podIP(i, j int) string {
	n := i*16 + j
	return fmt.Sprintf("10.%d.%d.%d", 64+n/65536, n/256%256, n%256)
}

func (o Options) nodeOf(i, j int) string {
	return fmt.Sprintf("node-%04d", (i*o.PodsPerService+j)%o.Nodes)
}

// ready is false for one pod in seven Services, so dumps hold failing
// readiness probes and their events as real clusters do.
func ready(i, j int) bool { return i%7 != 3 || j != 0 }

func podName(i, j int) string { return fmt.Sprintf("%s-7d9f8c6b5-%05d", Name(i), j) }

func (o Options) pod(i, j int) *corev1.Pod {
	name, ns := Name(i), o.Namespace(i)
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: 5, PeriodSeconds: period, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	}
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: podName(i, j), Namespace: ns, UID: uid("Pod", i, j+1),
			GenerateName: name + "-7d9f8c6b5-", ResourceVersion: fmt.Sprint(200000 + i*16 + j), CreationTimestamp: created,
			Labels: map[string]string{"app": name, "pod-template-hash": "7d9f8c6b5", "app.kubernetes.io/version": "1.4.2"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-7d9f8c6b5",
				UID: uid("ReplicaSet", i, 0), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: corev1.PodSpec{
			NodeName: o.nodeOf(i, j), ServiceAccountName: "default", RestartPolicy: corev1.RestartPolicyAlways,
			DNSPolicy: corev1.DNSClusterFirst, SchedulerName: "default-scheduler", TerminationGracePeriodSeconds: ptr.To[int64](30),
			PreemptionPolicy: ptr.To(corev1.PreemptLowerPriority), Priority: ptr.To[int32](0), EnableServiceLinks: ptr.To(true),
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example.com/shop/" + name + ":1.4.2", ImagePullPolicy: corev1.PullIfNotPresent,
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
				ReadinessProbe: probe("/ready", 5), LivenessProbe: probe("/healthz", 10),
				VolumeMounts:           []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			Volumes: []corev1.Volume{
				{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					DefaultMode: ptr.To[int32](420), Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
						{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
							Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
					}}}},
			},
		},
		Status: o.podStatus(i, j),
	}
	return p
}

func (o Options) podStatus(i, j int) corev1.PodStatus {
	ok := ready(i, j)
	cond := func(t corev1.PodConditionType, v bool) corev1.PodCondition {
		s := corev1.ConditionTrue
		if !v {
			s = corev1.ConditionFalse
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: created}
	}
	hostIP := nodeIP(o, o.nodeOf(i, j))
	return corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: hostIP, HostIPs: []corev1.HostIP{{IP: hostIP}},
		PodIP: podIP(i, j), PodIPs: []corev1.PodIP{{IP: podIP(i, j)}}, StartTime: &created, QOSClass: corev1.PodQOSBurstable,
		Conditions: []corev1.PodCondition{cond(corev1.PodInitialized, true),
			cond(corev1.PodReady, ok), cond(corev1.ContainersReady, ok), cond(corev1.PodScheduled, true)},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "app", Ready: ok, Started: ptr.To(true), RestartCount: int32(j % 3),
			Image:       "registry.example.com/shop/" + Name(i) + ":1.4.2",
			ContainerID: fmt.Sprintf("containerd://%064x", i*16+j),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: created}},
		}},
	}
}

func nodeIP(o Options, node string) string {
	var n int
	_, _ = fmt.Sscanf(node, "node-%d", &n)
	return fmt.Sprintf("172.18.%d.%d", n/250, 2+n%250)
}

// slice is the EndpointSlice the controller would publish for Service i.
func (o Options) slice(i int) *discoveryv1.EndpointSlice {
	name := Name(i)
	s := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{Name: name + "-x8k2q", Namespace: o.Namespace(i), GenerateName: name + "-",
			UID: uid("EndpointSlice", i, 0), ResourceVersion: fmt.Sprint(500000 + i), CreationTimestamp: created,
			Labels: map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io",
				"app": name, "app.kubernetes.io/part-of": "shop"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: name, UID: uid("Service", i, 0),
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)},
			{Name: ptr.To("metrics"), Port: ptr.To[int32](9090), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for j := range o.PodsPerService {
		ok := ready(i, j)
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{podIP(i, j)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ok), Serving: ptr.To(ok), Terminating: ptr.To(false)},
			NodeName:   ptr.To(o.nodeOf(i, j)),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: o.Namespace(i), Name: podName(i, j), UID: uid("Pod", i, j+1)},
		})
	}
	return s
}

func (o Options) node(n int) *corev1.Node {
	name := fmt.Sprintf("node-%04d", n)
	return &corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid("Node", n, 0), ResourceVersion: fmt.Sprint(900000 + n), CreationTimestamp: created,
			Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"topology.kubernetes.io/zone": fmt.Sprintf("zone-%c", 'a'+n%3)}},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.244.%d.0/24", n%256), PodCIDRs: []string{fmt.Sprintf("10.244.%d.0/24", n%256)}},
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP(o, name)}, {Type: corev1.NodeHostName, Address: name}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				Message: "kubelet is posting ready status", LastHeartbeatTime: created, LastTransitionTime: created}},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("7800m"), corev1.ResourcePods: resource.MustParse("110")},
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.34.2", ContainerRuntimeVersion: "containerd://2.1.4", OSImage: "Debian GNU/Linux 13 (trixie)"},
		},
	}
}

// events are a scheduling event for every Service's first pod, and a
// readiness-probe warning for each pod that is not ready.
func (o Options) events(i int) []*corev1.Event {
	ev := func(j int, typ, reason, msg string) *corev1.Event {
		return &corev1.Event{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%016x", podName(i, j), (i*16+j)*2+len(typ)%2), Namespace: o.Namespace(i),
				ResourceVersion: fmt.Sprint(700000 + i), CreationTimestamp: created},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: o.Namespace(i), Name: podName(i, j), UID: uid("Pod", i, j+1), APIVersion: "v1"},
			Type:           typ, Reason: reason, Message: msg, Count: 1, FirstTimestamp: created, LastTimestamp: created,
			Source: corev1.EventSource{Component: "kubelet", Host: o.nodeOf(i, j)}, ReportingController: "kubelet", ReportingInstance: o.nodeOf(i, j),
		}
	}
	out := []*corev1.Event{ev(0, corev1.EventTypeNormal, "Scheduled", "Successfully assigned "+o.Namespace(i)+"/"+podName(i, 0)+" to "+o.nodeOf(i, 0))}
	for j := range o.PodsPerService {
		if !ready(i, j) {
			out = append(out, ev(j, corev1.EventTypeWarning, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"))
		}
	}
	return out
}
