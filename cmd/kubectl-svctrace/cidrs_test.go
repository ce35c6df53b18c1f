package main

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseClusterCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in     string
		v4, v6 string
		first  string
		errSub bool
	}{
		{in: ""},
		{in: "10.244.0.0/16", v4: "10.244.0.0/16", first: "10.244.0.0/16"},
		{in: "10.244.1.7/16", v4: "10.244.0.0/16", first: "10.244.0.0/16"},
		{in: "fd00:10:244::/56", v6: "fd00:10:244::/56", first: "fd00:10:244::/56"},
		{in: "fd00:10:244::/56, 10.244.0.0/16", v4: "10.244.0.0/16", v6: "fd00:10:244::/56", first: "10.244.0.0/16"},
		{in: "10.244.0.0/16,10.245.0.0/16", errSub: true},
		{in: "10.244.0.0/16,", errSub: true},
	} {
		got, err := parseClusterCIDRs(tc.in)
		if (err != nil) != tc.errSub {
			t.Errorf("%q: error %v, want error %v", tc.in, err, tc.errSub)
			continue
		}
		if err != nil {
			continue
		}
		for fam, want := range map[corev1.IPFamily]string{corev1.IPv4Protocol: tc.v4, corev1.IPv6Protocol: tc.v6} {
			p, ok := got[fam]
			if ok != (want != "") || (ok && p != netip.MustParsePrefix(want)) {
				t.Errorf("%q: %s = %v (set %v), want %q", tc.in, fam, p, ok, want)
			}
		}
		if f := got.first(); (tc.first == "" && f.IsValid()) || (tc.first != "" && f != netip.MustParsePrefix(tc.first)) {
			t.Errorf("%q: first() = %v, want %q", tc.in, f, tc.first)
		}
	}
}
