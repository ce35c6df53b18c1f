package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svctrace/kubectl-svctrace/harness"
)

const benchNamespace = "bench"

func serviceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

// endpointIP is endpoint j of Service i, in the cluster CIDR but on no
// node (no nodeName): every endpoint is remote for both proxies.
func endpointIP(o options, i, j int) string {
	base := netip.MustParseAddr("10.244.16.0").As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n += uint32(i*o.endpoints + j + 1)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// createObjects makes the namespace, the selectorless Services and one
// EndpointSlice each, labelled as the EndpointSlice controller labels
// them (kube-proxy reads any slice naming its Service), eight at a time.
func createObjects(ctx context.Context, c *harness.Cluster, o options) error {
	cfg := rest.CopyConfig(c.Admin)
	cfg.QPS, cfg.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", benchNamespace, err)
	}
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createService(ctx, client, o, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range o.services {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	return <-errs
}

func createService(ctx context.Context, client kubernetes.Interface, o options, i int) error {
	name := serviceName(i)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
	if _, err := client.CoreV1().Services(benchNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service %s: %w", name, err)
	}
	port, portName, proto, ready := int32(8080), "http", corev1.ProtocolTCP, true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: benchNamespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "benchserve"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
	}
	for j := range o.endpoints {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{endpointIP(o, i, j)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	if _, err := client.DiscoveryV1().EndpointSlices(benchNamespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create endpointslice %s-1: %w", name, err)
	}
	return nil
}

// changeOneEndpoint moves the first endpoint of one Service to a new
// address: one endpoint chain goes, one comes, for that Service alone.
func changeOneEndpoint(ctx context.Context, c *harness.Cluster, o options, k int) error {
	name := serviceName((k*997 + 7) % o.services)
	slices := c.Client.DiscoveryV1().EndpointSlices(benchNamespace)
	s, err := slices.Get(ctx, name+"-1", metav1.GetOptions{})
	if err != nil {
		return err
	}
	s.Endpoints[0].Addresses = []string{fmt.Sprintf("10.245.0.%d", k+1)}
	if _, err := slices.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update endpointslice %s-1: %w", name, err)
	}
	logf("moved the first endpoint of %s/%s to 10.245.0.%d", benchNamespace, name, k+1)
	return nil
}

// scrape reads a Prometheus text page into sample name → value. A sample
// labelled ip_family="IPv4" stands for its name: kube-proxy runs one
// proxier per IP family and labels their samples; the IPv4 one holds the
// Services. Other labelled samples are left out.
func scrape(ctx context.Context, hc *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value := line, ""
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			name, value = line[:i], line[i+1:]
		}
		if i := strings.IndexByte(name, '{'); i > 0 {
			if name[i:] != `{ip_family="IPv4"}` {
				continue
			}
			name = name[:i]
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// memory returns a process's peak and current resident set, in MB.
func memory(pid int) (peak, now float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmHWM:":
			peak = kb / 1024
		case "VmRSS:":
			now = kb / 1024
		}
	}
	return peak, now
}

func loadAvg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
