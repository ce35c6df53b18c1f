package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestViewerRBAC traces as user viewer: without any rights the trace cannot
// run and says what it could not read; with the read-only ClusterRole the
// product ships (deploy/clusterrole.yaml) it runs in full.
func TestViewerRBAC(t *testing.T) {
	s, c := require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-viewer")
	create(ctx, t, c.Client, ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	waitEndpoints(ctx, t, c.Client, ns, "hostnames", 3, 3)

	r := s.svctrace(ctx, t, c.ViewerKubeconfig, "hostnames", "-n", ns)
	t.Logf("without rights: %s", r)
	if r.exit != 1 {
		t.Errorf("without rights: exit code %d, want 1\n%s", r.exit, r)
	}
	for _, want := range []string{"forbidden", "service", `"hostnames"`, ns} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("without rights: stderr %q does not name %q", r.stderr, want)
		}
	}

	role, err := c.CreateClusterRole(ctx, "../deploy/clusterrole.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Grant(ctx, harness.ViewerUser, role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Grant names the binding user-role.
		_ = c.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), harness.ViewerUser+"-"+role, metav1.DeleteOptions{})
	})
	// The authorizer learns of the binding through a watch: give it a moment.
	poll(ctx, t, 20*time.Second, "viewer allowed to get services in "+ns, func(ctx context.Context) (bool, error) {
		r = s.svctrace(ctx, t, c.ViewerKubeconfig, "hostnames", "-n", ns)
		return r.exit != 1, nil
	})
	t.Logf("with %s: %s", role, r)
	checkResult(t, r, expect{exit: 0})
	for _, gap := range r.doc.Unchecked {
		t.Errorf("with %s the trace still could not %s %s in %q", role, gap.Verb, gap.Resource, gap.Namespace)
	}
	if eps := endpointsOf(t, r); len(eps) != 3 {
		t.Errorf("with %s the trace lists %d endpoints, want 3 (%s)", role, len(eps), ns)
	}
}
