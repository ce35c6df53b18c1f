package conformance

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/harness"
)

// startCluster starts the local cluster with kube-proxy in mode and returns
// it with a context bounding the whole test.
func startCluster(t *testing.T, mode string) (context.Context, *harness.Cluster) {
	t.Helper()
	return startClusterWith(t, harness.Config{ProxyMode: mode})
}

// startClusterWith starts the local cluster configured by cfg.
func startClusterWith(t *testing.T, cfg harness.Config) (context.Context, *harness.Cluster) {
	t.Helper()
	c := harness.StartT(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	t.Cleanup(cancel)
	return ctx, c
}

// deploy creates node-2, the namespace, and every fixture's Service and pods,
// then waits until each Service's EndpointSlices list all its pods as ready.
func deploy(ctx context.Context, t *testing.T, c *harness.Cluster, fxs []fixture) {
	t.Helper()
	client := c.Client
	if err := addNode(ctx, client, remoteNode, remoteNodeIP, "10.244.2.0/24", ""); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", namespace, err)
	}
	remoteIP := netip.MustParseAddr(remotePodBase)
	for _, fx := range fxs {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fx.name, Namespace: namespace}, Spec: fx.spec}
		svc.Spec.Selector = map[string]string{"app": fx.name}
		if err := createService(ctx, client, svc, fx.ingress); err != nil {
			t.Fatal(err)
		}
		for i := range fx.local + fx.remote {
			pod := fixturePod(fx.name)
			pod.Name, pod.Namespace = fmt.Sprintf("%s-%d", fx.name, i), namespace
			if i < fx.local {
				pod.Spec.NodeName = c.Node.Name
				_, err := client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
				if err != nil {
					t.Fatalf("create pod %s/%s: %v", namespace, pod.Name, err)
				}
				continue
			}
			remoteIP = remoteIP.Next()
			if err := addRemotePod(ctx, client, pod, remoteNode, remoteNodeIP, remoteIP.String(), true); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, fx := range fxs {
		waitReady(ctx, t, client, namespace, fx.name, fx.local+fx.remote)
	}
}

// createService creates svc and, for a LoadBalancer, publishes ingress as
// a cloud controller would.
func createService(ctx context.Context, client kubernetes.Interface, svc *corev1.Service, ingress string) error {
	created, err := client.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	if ingress == "" {
		return nil
	}
	created.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ingress}}
	if _, err := client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set load-balancer ingress %s of service %s/%s: %w", ingress, svc.Namespace, svc.Name, err)
	}
	return nil
}

// addNode registers a Node that no process backs: the EndpointSlice
// controller needs it to publish the endpoints of pods bound to it.
func addNode(ctx context.Context, client kubernetes.Interface, name, ip, podCIDR, zone string) error {
	labels := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
	if zone != "" {
		labels[corev1.LabelTopologyZone] = zone
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{PodCIDR: podCIDR, PodCIDRs: []string{podCIDR}},
	}
	created, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	now := metav1.Now()
	created.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: ip},
		{Type: corev1.NodeHostName, Address: name},
	}
	created.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set status of node %s: %w", name, err)
	}
	return nil
}

// addRemotePod creates pod bound to a node without a kubelet and reports it
// running at ip, ready or not, as that node's kubelet would.
func addRemotePod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, node, hostIP, ip string, ready bool) error {
	pod.Spec.NodeName = node
	created, err := client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	now := metav1.Now()
	readyStatus := corev1.ConditionFalse
	if ready {
		readyStatus = corev1.ConditionTrue
	}
	st := &created.Status
	st.Phase = corev1.PodRunning
	st.HostIP, st.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	st.StartTime = &now
	for _, c := range []struct {
		typ    corev1.PodConditionType
		status corev1.ConditionStatus
	}{
		{corev1.PodScheduled, corev1.ConditionTrue},
		{corev1.PodInitialized, corev1.ConditionTrue},
		{corev1.ContainersReady, readyStatus},
		{corev1.PodReady, readyStatus},
	} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: c.typ, Status: c.status, LastTransitionTime: now})
	}
	for _, ctr := range pod.Spec.Containers {
		started := true
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, Ready: ready, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	if _, err := client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("report pod %s/%s running at %s: %w", pod.Namespace, pod.Name, ip, err)
	}
	return nil
}

// waitReady waits until the Service's EndpointSlices hold want ready
// endpoints.
func waitReady(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string, want int) {
	t.Helper()
	var got int
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := serviceSlices(ctx, client, ns, name)
		if err != nil {
			return false, nil
		}
		got = 0
		for _, s := range slices {
			for _, ep := range s.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					got++
				}
			}
		}
		return got == want, nil
	})
	if err != nil {
		t.Fatalf("service %s/%s: %d ready endpoints, want %d: %v", ns, name, got, want, err)
	}
}

func serviceSlices(ctx context.Context, client kubernetes.Interface, ns, name string) ([]discoveryv1.EndpointSlice, error) {
	list, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + name,
	})
	if err != nil {
		return nil, fmt.Errorf("list EndpointSlices of %s/%s: %w", ns, name, err)
	}
	return list.Items, nil
}
