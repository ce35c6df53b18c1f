package harness

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// prober follows one container's readiness as the kubelet does: not ready
// until SuccessThreshold successes in a row, unready after FailureThreshold
// failures in a row, one probe every PeriodSeconds after InitialDelaySeconds.
// A container without a readiness probe is ready once started.
type prober struct {
	container corev1.Container
	probe     *corev1.Probe
	ready     bool
	succ      int
	fail      int
	next      time.Time
}

func newProber(c corev1.Container, started time.Time) *prober {
	p := &prober{container: c, probe: c.ReadinessProbe}
	if p.probe == nil {
		p.ready = true
		return p
	}
	p.next = started.Add(time.Duration(p.probe.InitialDelaySeconds) * time.Second)
	return p
}

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// due reports whether a probe should run now.
func (p *prober) due(now time.Time) bool {
	return p.probe != nil && !now.Before(p.next)
}

// record applies one probe result and reports whether readiness changed.
func (p *prober) record(now time.Time, err error) bool {
	p.next = now.Add(time.Duration(orDefault(p.probe.PeriodSeconds, 10)) * time.Second)
	was := p.ready
	if err == nil {
		p.succ, p.fail = p.succ+1, 0
		if p.succ >= int(orDefault(p.probe.SuccessThreshold, 1)) {
			p.ready = true
		}
	} else {
		p.succ, p.fail = 0, p.fail+1
		if p.fail >= int(orDefault(p.probe.FailureThreshold, 3)) {
			p.ready = false
		}
	}
	return was != p.ready
}

// probeLoop probes the pod's containers from the node and reports status
// whenever readiness changes, retrying failed status updates.
func (rt *podRuntime) probeLoop(ctx context.Context, k *kubelet, pod *corev1.Pod) {
	defer close(rt.done)
	probers := make([]*prober, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		probers[i] = newProber(c, rt.started)
	}
	dirty := true
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		now := time.Now()
		for _, p := range probers {
			if p.due(now) {
				err := probeOnce(ctx, k.node, rt.ip, p.container, p.probe)
				if p.record(time.Now(), err) {
					dirty = true
				}
			}
		}
		if dirty {
			if err := k.reportStatus(ctx, pod, rt, probers); err != nil {
				k.c.cfg.Logf("kubelet: status of pod %s: %v (retrying)", rt.key, err)
			} else {
				dirty = false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probeOnce runs one readiness probe from inside the node. Exec and gRPC
// probes cannot run without containers and count as passing.
func probeOnce(ctx context.Context, node *Node, podIP fmt.Stringer, c corev1.Container, probe *corev1.Probe) error {
	timeout := time.Duration(orDefault(probe.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case probe.HTTPGet != nil:
		return probeHTTP(ctx, node, podIP.String(), c, probe.HTTPGet)
	case probe.TCPSocket != nil:
		port, err := resolvePort(probe.TCPSocket.Port, c)
		if err != nil {
			return err
		}
		host := probe.TCPSocket.Host
		if host == "" {
			host = podIP.String()
		}
		conn, err := node.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	default:
		return nil
	}
}

func probeHTTP(ctx context.Context, node *Node, podIP string, c corev1.Container, get *corev1.HTTPGetAction) error {
	port, err := resolvePort(get.Port, c)
	if err != nil {
		return err
	}
	host := get.Host
	if host == "" {
		host = podIP
	}
	scheme := "http"
	if get.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), get.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("readiness probe %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "kube-probe/1.37")
	for _, h := range get.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext:       node.DialContext,
		DisableKeepAlives: true,
		// The kubelet does not verify certificates of HTTPS probes either.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probe semantics
	}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("readiness probe %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// resolvePort turns a probe port, a number or a container port name, into a
// number.
func resolvePort(port intstr.IntOrString, c corev1.Container) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, port.StrVal)
}
