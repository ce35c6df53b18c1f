package harness

import (
	"context"
)

// AddNetNSNode makes the network namespace the next node would get (its
// own link to the host, routed to the API server) with nothing running in
// it and no Node object: a second machine on which to run a proxy, such as
// kubectl-svctrace --serve beside the first node's kube-proxy, each on a
// node of its own and fed by the same API server. Stop removes it.
func (c *Cluster) AddNetNSNode(ctx context.Context) (*Node, error) {
	c.mu.Lock()
	i := len(c.Nodes) + c.extraNodes
	c.extraNodes++
	c.mu.Unlock()
	return c.makeNodeNetwork(ctx, i)
}

// KubeProxyPID is the process ID of the node's kube-proxy, 0 while it is
// stopped; its /proc entry gives its memory.
func (c *Cluster) KubeProxyPID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Node.proxy == nil {
		return 0
	}
	return c.Node.proxy.rec.PID
}

// ProxyBinary is the kube-proxy executable the node runs.
func (c *Cluster) ProxyBinary() string { return c.bins.Proxy }
