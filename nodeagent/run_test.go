package nodeagent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func opts() Options {
	return Options{Node: "node-2", Namespace: "kube-system", Image: "img:v1", Args: []string{"--serve", "--snapshot"},
		Deadline: time.Minute, Wait: 2 * time.Second}
}

func TestPodSpec(t *testing.T) {
	p := Pod(opts())
	s := p.Spec
	c := s.Containers[0]
	switch {
	case s.NodeName != "node-2", !s.HostNetwork, !s.HostPID, s.RestartPolicy != corev1.RestartPolicyNever:
		t.Errorf("placement: %+v", s)
	case s.ActiveDeadlineSeconds == nil || *s.ActiveDeadlineSeconds != 60:
		t.Errorf("activeDeadlineSeconds: %v", s.ActiveDeadlineSeconds)
	case len(s.Tolerations) != 1 || s.Tolerations[0].Operator != corev1.TolerationOpExists || s.Tolerations[0].Key != "":
		t.Errorf("tolerations: %+v", s.Tolerations)
	case c.SecurityContext == nil || !*c.SecurityContext.Privileged:
		t.Error("not privileged")
	case len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/host" || !c.VolumeMounts[0].ReadOnly || s.Volumes[0].HostPath.Path != "/":
		t.Errorf("host root: %+v %+v", c.VolumeMounts, s.Volumes)
	case c.Image != "img:v1" || strings.Join(c.Args, " ") != "--serve --snapshot" || p.Labels[LabelKey] != LabelValue:
		t.Errorf("container: %+v", c)
	}
}

func TestDefaultImage(t *testing.T) {
	for v, want := range map[string]string{"v1.2.3": ImageRepository + ":v1.2.3", "1.2.3": ImageRepository + ":v1.2.3", "dev": ImageRepository + ":latest", "v1.2.3-4-gabc": ImageRepository + ":latest"} {
		if got := DefaultImage(v); got != want {
			t.Errorf("DefaultImage(%q) = %q, want %q", v, got, want)
		}
	}
}

func forbid(client *fake.Clientset, verb, resource, msg string) {
	client.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New(msg))
	})
}

func TestSnapshotAccessErrors(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		psa       bool
		hint      string
	}{
		{"rbac", `User "viewer" cannot create resource "pods" in API group "" in the namespace "kube-system"`, false, "--clusterrole=svctrace-node-reader"},
		{"pod security", `violates PodSecurity "baseline:latest": privileged (container "agent" must not set securityContext.privileged=true)`, true, "pod-security.kubernetes.io/enforce=privileged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			forbid(client, "create", "pods", tc.msg)
			_, err := Snapshot(context.Background(), client, opts())
			var ae *AccessError
			if !errors.As(err, &ae) || ae.PodSecurity != tc.psa || !strings.Contains(ae.Hint(), tc.hint) {
				t.Fatalf("error %v (%T), want an AccessError whose hint has %q", err, err, tc.hint)
			}
			if !strings.Contains(err.Error(), "node-2") || !strings.Contains(err.Error(), "kube-system") {
				t.Errorf("error names neither node nor namespace: %v", err)
			}
		})
	}
}

// finishedPods makes every pod read back as finished, as a kubelet would
// report it, and gives created pods a name (the fake ignores generateName).
func finishedPods(client *fake.Clientset, phase corev1.PodPhase) {
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Name = p.GenerateName + "x1"
		return false, nil, nil
	})
	client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		get, ok := a.(k8stesting.GetAction)
		if !ok || a.GetSubresource() != "" {
			return false, nil, nil // pods/log: the fake's own answer
		}
		name := get.GetName()
		obj, err := client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), "kube-system", name)
		if err != nil {
			return true, nil, err
		}
		p := obj.(*corev1.Pod).DeepCopy()
		p.Status.Phase = phase
		return true, p, nil
	})
}

func leftPods(t *testing.T, client *fake.Clientset) int {
	t.Helper()
	l, err := client.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), "kube-system")
	if err != nil {
		t.Fatal(err)
	}
	return len(l.(*corev1.PodList).Items)
}

func TestSnapshotDeletesPodWhenNoSnapshot(t *testing.T) {
	client := fake.NewClientset()
	finishedPods(client, corev1.PodFailed)
	// The fake's pod log is the text "fake logs": no snapshot in it.
	_, err := Snapshot(context.Background(), client, opts())
	if err == nil || !strings.Contains(err.Error(), "wrote no snapshot") || !strings.Contains(err.Error(), "fake logs") {
		t.Fatalf("error %v, want one quoting the log", err)
	}
	if n := leftPods(t, client); n != 0 {
		t.Errorf("%d agent pods left behind", n)
	}
}

func TestSnapshotDeletesPodWhenCancelled(t *testing.T) {
	client := fake.NewClientset()
	finishedPods(client, corev1.PodPending)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	o := opts()
	o.Wait = time.Minute
	_, err := Snapshot(ctx, client, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := leftPods(t, client); n != 0 {
		t.Errorf("%d agent pods left behind after Ctrl-C", n)
	}
}

func TestSnapshotTimesOutNamingThePodState(t *testing.T) {
	client := fake.NewClientset()
	finishedPods(client, corev1.PodPending)
	o := opts()
	o.Wait = 600 * time.Millisecond
	_, err := Snapshot(context.Background(), client, o)
	if err == nil || !strings.Contains(err.Error(), "did not finish within") || !strings.Contains(err.Error(), "--agent-image") {
		t.Fatalf("error %v", err)
	}
	if n := leftPods(t, client); n != 0 {
		t.Errorf("%d agent pods left behind", n)
	}
}
