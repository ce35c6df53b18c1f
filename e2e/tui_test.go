package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestTUIFollowsLiveChanges opens `kubectl svctrace -i` in a real terminal
// (tmux) against the live cluster, breaks a pod's readiness probe, and
// waits for the open screen to show the endpoint going unready without
// any key pressed: the informers drive the redraw.
func TestTUIFollowsLiveChanges(t *testing.T) {
	s, c := require(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux not found: install it (apt-get install tmux)")
	}
	ctx := context.Background()
	ns := newNamespace(ctx, t, c.Client, "e2e-tui")
	create(ctx, t, c.Client, ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	waitEndpoints(ctx, t, c.Client, ns, "hostnames", 3, 3)

	session := "svctrace-e2e-" + ns
	command := fmt.Sprintf("env PATH=%q KUBECONFIG=%q %s svctrace hostnames -n %s -i", s.path, c.Kubeconfig, s.kubectl, ns)
	if out, err := exec.Command("tmux", "new-session", "-d", "-x", "100", "-y", "30", "-s", session, command).CombinedOutput(); err != nil {
		t.Fatalf("start tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", session).Run() })
	screen := func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", session).Output()
		return string(out)
	}
	waitScreen := func(want string) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(screen(), want) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("screen never showed %q:\n%s", want, screen())
	}

	waitScreen("3/3 ready")
	if err := c.SetPodHealthy(ns, "hostnames-1", false); err != nil {
		t.Fatal(err)
	}
	waitScreen("2/3 ready")
	waitScreen("Findings 1")
}
