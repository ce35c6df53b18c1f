package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
)

// netnsPrefix starts the name of every network namespace the harness makes,
// so a person can spot leftovers with `ip netns list`.
const netnsPrefix = "svctrace-"

func randomSuffix(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// addNetNS records and creates a namespace with loopback up.
func addNetNS(ctx context.Context, m *manifest, name string) error {
	if err := m.addNetNS(name); err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "netns", "add", name); err != nil {
		return err
	}
	_, err := run(ctx, "ip", "-n", name, "link", "set", "lo", "up")
	return err
}

// deleteNetNS removes a namespace; one that is already gone is not an error.
func deleteNetNS(ctx context.Context, name string) error {
	if _, err := os.Stat("/run/netns/" + name); os.IsNotExist(err) {
		return nil
	}
	_, err := run(ctx, "ip", "netns", "delete", name)
	if err == nil {
		// Its resolv.conf (a pod's, written for ip netns exec) goes with it.
		err = os.RemoveAll(filepath.Join("/etc/netns", name))
	}
	return err
}

// deleteLink removes a host link; deleting a namespace already removes the
// veth pairs with an end inside it, so a missing link is not an error.
func deleteLink(ctx context.Context, name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	// The kernel removes the pair asynchronously after its peer's namespace
	// goes, so the link may vanish between the check and the delete; iproute2
	// then says "Cannot find device" or "RTNETLINK answers: No such device".
	_, err := run(ctx, "ip", "link", "delete", name)
	if err == nil || linkGone(err, name) {
		return nil
	}
	return err
}

// linkGone tells whether a failed delete failed only because the link had
// already gone.
func linkGone(err error, name string) bool {
	msg := err.Error()
	if strings.Contains(msg, "Cannot find device") || strings.Contains(msg, "No such device") {
		return true
	}
	_, lookupErr := net.InterfaceByName(name)
	return lookupErr != nil
}

// ipIn runs `ip` inside namespace ns (the host when ns is empty).
func ipIn(ctx context.Context, ns string, args ...string) error {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	_, err := run(ctx, "ip", args...)
	return err
}

// pickTransferNet returns a 172.31.X.0/30 that no host address or route
// overlaps, for the veth pair between the host and a node.
func pickTransferNet(ctx context.Context) (netip.Prefix, error) {
	out, err := run(ctx, "ip", "-4", "route", "show", "table", "all")
	if err != nil {
		return netip.Prefix{}, err
	}
	addrs, err := run(ctx, "ip", "-4", "-o", "addr", "show")
	if err != nil {
		return netip.Prefix{}, err
	}
	used := usedPrefixes(string(out) + "\n" + string(addrs))
	for range 64 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 31, b[0], b[1] &^ 3}), 30)
		if !overlapsAny(p, used) {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /30 in 172.31.0.0/16 for the node link; set Config.TransferNet")
}

// usedPrefixes pulls every IPv4 address or prefix out of `ip route`/`ip addr`
// output; "default" routes are ignored because they overlap everything.
func usedPrefixes(text string) []netip.Prefix {
	var used []netip.Prefix
	for _, f := range strings.Fields(text) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Addr().Is4() {
			used = append(used, p.Masked())
		} else if a, err := netip.ParseAddr(f); err == nil && a.Is4() {
			used = append(used, netip.PrefixFrom(a, 32))
		}
	}
	return used
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if u.Bits() > 0 && u.Overlaps(p) {
			return true
		}
	}
	return false
}

// inNetNS runs fn on an OS thread switched into the namespace at path. A
// socket keeps the namespace it was created in, so a connection dialled in fn
// stays there after the thread switches back. If the thread cannot switch
// back it is left locked and dies with its goroutine.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("read current network namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			errc <- fmt.Errorf("open network namespace %s: %w", path, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", path, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave network namespace %s: %w", path, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// dialIn dials addr from inside the named namespace.
func dialIn(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := inNetNS("/run/netns/"+ns, func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}
