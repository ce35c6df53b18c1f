// Package harness runs a real, small Kubernetes cluster on this machine for
// end-to-end tests: etcd, kube-apiserver, kube-controller-manager, and one
// or more nodes (Config.Nodes), each a network namespace running its own
// kube-proxy (iptables or nftables mode), linked to the host and to each
// other; CoreDNS runs on the first. There is no kubelet and no container
// runtime: an in-process stand-in per node runs each of its pods as a small
// HTTP server in its own network namespace at the pod IP, reports status
// from real readiness probes, and finishes deletions; the first node's
// binds the pods that name no node.
//
// Everything it creates (processes, namespaces, links) is recorded in a
// manifest in the state directory, so Teardown can remove it from another
// process. It needs root and the binaries built by hack/build-cluster-bins.sh.
//
//	c := harness.StartT(t, harness.Config{})
//	c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
//	out, _ := c.Node.Exec(ctx, "iptables-save")
package harness
