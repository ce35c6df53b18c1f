package harness

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StopKubeProxy stops the first node's kube-proxy, as a crashed or deleted
// kube-proxy pod would leave the node: its rules stay, nothing updates
// them, and its health and metrics ports stop answering.
func (c *Cluster) StopKubeProxy() error {
	c.mu.Lock()
	p := c.Node.proxy
	c.Node.proxy = nil
	c.mu.Unlock()
	if p == nil {
		return errors.New("kube-proxy is not running")
	}
	return p.stop(c.manifest, 3*time.Second)
}

// StartKubeProxy starts the first node's kube-proxy again and waits until its
// healthz answers 200.
func (c *Cluster) StartKubeProxy(ctx context.Context) error {
	c.mu.Lock()
	running := c.Node.proxy != nil
	c.mu.Unlock()
	if running {
		return errors.New("kube-proxy is running")
	}
	if err := c.startKubeProxy(c.Node); err != nil {
		return err
	}
	healthz := c.Node.HTTPClient(2 * time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := healthz.Get("http://127.0.0.1:10256/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("kube-proxy healthz not 200 within 60s after restart; see %s", c.LogFile("kube-proxy"))
}
