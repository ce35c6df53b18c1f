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
	ctx := context.Background()
	ns := newNamespace(ctx, t, c.Client, "e2e-tui")
	create(ctx, t, c.Client, ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	waitEndpoints(ctx, t, c.Client, ns, "hostnames", 3, 3)

	term := openTerminal(t, "svctrace-e2e-"+ns, fmt.Sprintf("env PATH=%q KUBECONFIG=%q %s svctrace hostnames -n %s -i", s.path, c.Kubeconfig, s.kubectl, ns))
	term.wait("3/3 ready")
	if err := c.SetPodHealthy(ns, "hostnames-1", false); err != nil {
		t.Fatal(err)
	}
	term.wait("2/3 ready")
	term.wait("Findings 1")
}

// terminal is a command running in a real terminal: a tmux session of
// 100x30.
type terminal struct {
	t       *testing.T
	session string
}

// openTerminal starts command in a new tmux session, killed when the test
// ends.
func openTerminal(t *testing.T, session, command string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux not found: install it (apt-get install tmux)")
	}
	if out, err := exec.Command("tmux", "new-session", "-d", "-x", "100", "-y", "30", "-s", session, command).CombinedOutput(); err != nil {
		t.Fatalf("start tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", session).Run() })
	return &terminal{t: t, session: session}
}

// screen is what the terminal shows now.
func (term *terminal) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", term.session).Output()
	return string(out)
}

// wait waits up to 90 seconds for the screen to show want.
func (term *terminal) wait(want string) {
	term.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(term.screen(), want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	term.t.Fatalf("screen never showed %q:\n%s", want, term.screen())
}

// keys types tmux key names (Enter, Escape, Down, q).
func (term *terminal) keys(names ...string) {
	term.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", term.session}, names...)...).CombinedOutput(); err != nil {
		term.t.Fatalf("tmux send-keys %v: %v: %s", names, err, out)
	}
}
