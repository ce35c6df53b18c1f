//go:build linux

package ipvs

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// On a kernel without IPVS the netlink Interface must refuse instead of
// returning the empty lists moby/ipvs gives there. The VM test covers a
// kernel that has IPVS.
func TestNewNetlinkRefusesWithoutIPVS(t *testing.T) {
	err := CheckIPVS()
	if err == nil {
		t.Skip("this kernel has IPVS; the refusal is exercised on kernels without it")
	}
	if !errors.Is(err, ErrNoIPVS) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CheckIPVS: unexpected error %v", err)
		}
		t.Skipf("cannot query generic netlink here: %v", err)
	}
	k, err := NewNetlink(context.Background())
	if k != nil || !errors.Is(err, ErrNoIPVS) {
		t.Fatalf("NewNetlink = %v, %v; want nil, ErrNoIPVS", k, err)
	}
	if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("error should be one line, got %q", msg)
	}
}
