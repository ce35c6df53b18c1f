package ipvs

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLocal(t *testing.T) {
	full := `2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0
       valid_lft forever preferred_lft forever
5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default
    link/ether 7e:4c:1a:2b:3c:4d brd ff:ff:ff:ff:ff:ff
    inet 10.96.0.1/32 scope global kube-ipvs0
       valid_lft forever preferred_lft forever
    inet 10.96.0.20/32 scope global kube-ipvs0
       valid_lft forever preferred_lft forever
    inet6 fd00:96::20/128 scope global
       valid_lft forever preferred_lft forever
`
	oneLine := "5: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n"
	want := []netip.Addr{netip.MustParseAddr("172.18.0.2"), netip.MustParseAddr("10.96.0.1"), netip.MustParseAddr("10.96.0.20"), netip.MustParseAddr("fd00:96::20")}
	for name, tc := range map[string]struct {
		in   string
		want []netip.Addr
	}{"ip addr show": {full, want}, "ip -o addr show": {oneLine, want[1:2]}, "no addresses": {strings.SplitN(full, "\n", 2)[0], nil}} {
		got, err := ParseLocal([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(tc.want, got, addrs); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	for in, want := range map[string]string{
		"inet 172.18.0.2/16 scope global eth0\n":                     "no interface in the listing",
		"5: kube-ipvs0: <NOARP>\n    inet 10.96.0/32 scope global\n": `line 2: "10.96.0/32" is not an address/prefix`,
	} {
		if _, err := ParseLocal([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("ParseLocal(%q) error %v, want %q", in, err, want)
		}
	}
}

func TestBindingDrift(t *testing.T) {
	exp := Expected{Service: "default/web", Bound: []netip.Addr{netip.MustParseAddr("10.96.0.20"), netip.MustParseAddr("203.0.113.5")}}
	got := BindingDrift(exp, []netip.Addr{netip.MustParseAddr("10.96.0.20"), netip.MustParseAddr("10.96.0.1")})
	if len(got) != 1 || got[0].Kind != AddressNotBound || Place(got[0].Where) != "203.0.113.5" {
		t.Errorf("drift %+v, want only 203.0.113.5 not bound", got)
	}
}
