// Package nodeagent reads a node's dataplane through the API: it starts a
// short-lived privileged pod on the node that runs `kubectl-svctrace
// --serve --snapshot`, reads the snapshot from the pod's log, and turns it
// into the trace's node view and kube-proxy findings.
package nodeagent

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Label marks agent pods, so a leftover one can be found and removed:
// kubectl delete pod -A -l app.kubernetes.io/name=svctrace-agent
const (
	LabelKey   = "app.kubernetes.io/name"
	LabelValue = "svctrace-agent"
)

// ImageRepository is the plugin's release image (docs/release.md).
const ImageRepository = "ghcr.io/svctrace/kubectl-svctrace"

// DefaultImage is the release image of the plugin's version; a build that
// is no release (dev, a commit) uses the latest image.
func DefaultImage(version string) string {
	v := strings.TrimPrefix(version, "v")
	if v == "" || v == "dev" || strings.ContainsAny(v, "-+") || strings.Count(v, ".") != 2 {
		return ImageRepository + ":latest"
	}
	return ImageRepository + ":v" + v
}

// Options say where and how to run the agent.
type Options struct {
	Node      string
	Namespace string
	Image     string
	// Args are the agent's arguments after the command name.
	Args []string
	// Deadline bounds the pod's life even if the client dies
	// (activeDeadlineSeconds).
	Deadline time.Duration
	// Wait bounds how long the client waits for the snapshot.
	Wait time.Duration
}

// Pod is the agent pod for o: on the node, in the host's network and PID
// namespaces, privileged (iptables, nft, netlink), the host's root
// read-only at /host, tolerating every taint, never restarted.
func Pod(o Options) *corev1.Pod {
	deadline := int64(o.Deadline / time.Second)
	if deadline < 1 {
		deadline = 1
	}
	privileged, no := true, false
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "svctrace-agent-",
			Namespace:    o.Namespace,
			Labels:       map[string]string{LabelKey: LabelValue},
		},
		Spec: corev1.PodSpec{
			NodeName:                     o.Node,
			HostNetwork:                  true,
			HostPID:                      true,
			RestartPolicy:                corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:        &deadline,
			AutomountServiceAccountToken: &no,
			Tolerations:                  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:            "agent",
				Image:           o.Image,
				Command:         []string{"kubectl-svctrace"},
				Args:            o.Args,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Env: []corev1.EnvVar{{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{
					FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
				SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
				VolumeMounts:    []corev1.VolumeMount{{Name: "host-root", MountPath: "/host", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "host-root", VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		},
	}
}
