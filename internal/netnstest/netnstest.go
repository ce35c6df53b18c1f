// Package netnstest gives tests network namespaces of their own, so real
// iptables, nftables and conntrack can be exercised without touching the
// host's rules.
package netnstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// Require skips the test unless it runs as root with the tools it needs;
// under CI=true it fails instead, so CI cannot skip it silently.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root for network namespaces"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && why == "" {
			why = "needs " + tool + " in PATH"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: not skipping)", why)
	}
	t.Skip(why)
}

// New creates a namespace named "svctrace-<kind>-<random>" (so leftovers
// are easy to spot with ip netns list), deleted with its links and tables
// when the test ends.
func New(t testing.TB, kind string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	ns := "svctrace-" + kind + "-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
		}
	})
	return ns
}

// Exec runs args inside ns with stdin and returns their standard output;
// a failure fails the test with the command's standard error.
func Exec(t testing.TB, ns, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("ip netns exec %s %s: %v: %s", ns, strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// Do runs fn on an OS thread switched into ns, so that sockets it opens
// and programs it starts (os/exec forks from the calling thread) live in
// ns. The thread returns to its namespace afterwards.
func Do(t testing.TB, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("current network namespace: %v", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatalf("open network namespace %s: %v", ns, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		t.Fatalf("enter network namespace %s: %v", ns, err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic("cannot return to the original network namespace: " + err.Error())
		}
	}()
	fn()
}
