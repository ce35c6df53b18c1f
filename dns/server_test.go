package dns

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestServerAddr(t *testing.T) {
	kubeDNS := service("kube-dns", "kube-system", []string{"10.96.0.10"},
		svcPort("dns-tcp", corev1.ProtocolTCP, 53), svcPort("metrics", corev1.ProtocolTCP, 9153), svcPort("dns", corev1.ProtocolUDP, 5353))
	dualV6 := service("kube-dns", "kube-system", []string{"fd00::a", "10.96.0.10"})
	tests := []struct {
		name    string
		flag    string
		svc     *corev1.Service
		want    string
		wantErr string
	}{
		{"flag IP gets port 53", "10.96.0.10", nil, "10.96.0.10:53", ""},
		{"flag IP:port", "10.96.0.10:5353", kubeDNS, "10.96.0.10:5353", ""},
		{"flag IPv6", "fd00::a", nil, "[fd00::a]:53", ""},
		{"flag [IPv6]:port", "[fd00::a]:1053", nil, "[fd00::a]:1053", ""},
		{"flag host name rejected", "kube-dns:53", nil, "", `--dns-server "kube-dns:53" is not an IP or IP:port`},
		{"flag port 0 rejected", "10.0.0.1:0", nil, "", "is not an IP or IP:port"},
		{"kube-dns UDP port named dns", "", kubeDNS, "10.96.0.10:5353", ""},
		{"kube-dns without ports", "", dualV6, "[fd00::a]:53", ""},
		{"no service", "", nil, "", "pass --dns-server ADDR"},
		{"headless kube-dns", "", headless("kube-dns", "kube-system"), "", `service kube-system/kube-dns has no usable clusterIP ("None")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ServerAddr(tt.flag, tt.svc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ServerAddr = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
