package nodeagent

import (
	"bytes"
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/probe"
)

// ProbeOptions say where a probe runs and what it does. Exactly one site:
// FromPod (an ephemeral container in that pod, so the probe shares its
// network, resolver and NetworkPolicies), Node (a host-network pod on it),
// or neither (a short-lived pod in Namespace, as a new client there).
type ProbeOptions struct {
	FromPod *corev1.Pod
	Node    string
	// Namespace is where the short-lived or node pod runs.
	Namespace string
	Image     string
	Plan      probe.Plan
	// Wait bounds how long the client waits for the report; the pod's
	// activeDeadlineSeconds is a little longer so it dies on its own.
	Wait time.Duration
}

// maxPlanArg keeps the plan inside one command-line argument (Linux
// refuses a single argument over 128 KiB).
const maxPlanArg = 96 << 10

// ProbeRun is a probe's report and where it ran.
type ProbeRun struct {
	Report *probe.Report
	// Where is pod/NS/NAME (the --from pod or the short-lived one) or
	// node/NAME; Node is the node it ran on.
	Where, Node string
}

// Probe runs o.Plan inside the cluster and returns the report. Pods it
// creates are deleted before it returns, Ctrl-C included; an ephemeral
// container cannot be removed from its pod, and stays as a terminated
// container (as with kubectl debug).
func Probe(ctx context.Context, client kubernetes.Interface, o ProbeOptions) (*ProbeRun, error) {
	plan, err := probe.EncodePlan(o.Plan)
	if err != nil {
		return nil, err
	}
	if len(plan) > maxPlanArg {
		return nil, fmt.Errorf("the probe plan is %d bytes, over the %d a container argument may hold; probe one port (--port)", len(plan), maxPlanArg)
	}
	c := probeContainer(o.Image, plan)
	var (
		logs []byte
		ran  *corev1.Pod
	)
	if o.FromPod != nil {
		ran, logs, err = probeInPod(ctx, client, o, c)
	} else {
		ran, logs, err = probeNewPod(ctx, client, o, c)
	}
	if err != nil {
		return nil, err
	}
	run := &ProbeRun{Where: "pod/" + ran.Namespace + "/" + ran.Name, Node: ran.Spec.NodeName}
	if o.Node != "" {
		run.Where = "node/" + o.Node
	}
	if run.Report, err = probe.Decode(bytes.NewReader(logs)); err != nil {
		return nil, fmt.Errorf("probe in %s: %w: %s", run.Where, err, tail(logs))
	}
	return run, nil
}

// probeContainer runs the plan unprivileged: connecting and asking DNS
// need no rights, and a restricted Pod Security level admits it.
func probeContainer(image, plan string) corev1.Container {
	yes, no := true, false
	nobody := int64(65532)
	return corev1.Container{
		Name:            "probe",
		Image:           image,
		Command:         []string{"kubectl-svctrace"},
		Args:            []string{"--probe-run", plan},
		ImagePullPolicy: corev1.PullIfNotPresent,
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: &yes, RunAsUser: &nobody, AllowPrivilegeEscalation: &no,
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// probeNewPod runs the probe in a pod of its own and reads its log.
func probeNewPod(ctx context.Context, client kubernetes.Interface, o ProbeOptions, c corev1.Container) (*corev1.Pod, []byte, error) {
	deadline := int64((o.Wait + 30*time.Second) / time.Second)
	no := false
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "svctrace-probe-", Namespace: o.Namespace,
			Labels: map[string]string{LabelKey: LabelValue}},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:        &deadline,
			AutomountServiceAccountToken: &no,
			Containers:                   []corev1.Container{c},
		},
	}
	if o.Node != "" {
		// The node's own network, asking the cluster DNS as the node's
		// host-network pods do.
		pod.Spec.NodeName, pod.Spec.HostNetwork = o.Node, true
		pod.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
		pod.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	}
	created, err := client.CoreV1().Pods(o.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsForbidden(err) {
			return nil, nil, fmt.Errorf("not allowed to create the probe pod in namespace %s (%w); grant create/delete pods and get pods/log there, or probe from an existing pod with --from pod/NAME", o.Namespace, err)
		}
		return nil, nil, fmt.Errorf("create the probe pod in namespace %s: %w", o.Namespace, err)
	}
	defer deletePod(ctx, client, created)
	done, err := waitDone(ctx, client, created, o.Wait)
	if err != nil {
		return nil, nil, err
	}
	logs, err := readLogs(ctx, client, done, c.Name)
	return done, logs, err
}

// probeInPod adds the probe to o.FromPod as an ephemeral container, waits
// for it to finish and reads its log.
func probeInPod(ctx context.Context, client kubernetes.Interface, o ProbeOptions, c corev1.Container) (*corev1.Pod, []byte, error) {
	p := o.FromPod
	pods := client.CoreV1().Pods(p.Namespace)
	cur, err := pods.Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("read pod %s/%s to probe from: %w", p.Namespace, p.Name, err)
	}
	name := "svctrace-probe-" + rand.String(5)
	ec := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: c.Image, Command: c.Command, Args: c.Args,
		ImagePullPolicy: c.ImagePullPolicy, SecurityContext: c.SecurityContext,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}}
	cur.Spec.EphemeralContainers = append(cur.Spec.EphemeralContainers, ec)
	if _, err := pods.UpdateEphemeralContainers(ctx, p.Name, cur, metav1.UpdateOptions{}); err != nil {
		switch {
		case apierrors.IsForbidden(err):
			return nil, nil, fmt.Errorf("not allowed to add an ephemeral container to pod %s/%s (%w); grant patch on pods/ephemeralcontainers and get on pods/log in namespace %s, or drop --from to probe from a new pod", p.Namespace, p.Name, err, p.Namespace)
		case apierrors.IsNotFound(err):
			return nil, nil, fmt.Errorf("the API server does not serve pods/ephemeralcontainers (Kubernetes 1.25 or newer does); drop --from to probe from a new pod: %w", err)
		}
		return nil, nil, fmt.Errorf("add the probe container to pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	done, err := waitEphemeral(ctx, client, p.Namespace, p.Name, name, o.Wait)
	if err != nil {
		return nil, nil, err
	}
	logs, err := readLogs(ctx, client, done, name)
	return done, logs, err
}

// waitEphemeral waits until the pod's ephemeral container name has ended.
func waitEphemeral(ctx context.Context, client kubernetes.Interface, ns, pod, name string, timeout time.Duration) (*corev1.Pod, error) {
	var last *corev1.Pod
	state := "not started"
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return false, nil // transient: try again until the timeout
		}
		last = p
		for _, st := range p.Status.EphemeralContainerStatuses {
			if st.Name != name {
				continue
			}
			switch {
			case st.State.Terminated != nil:
				return true, nil
			case st.State.Waiting != nil:
				state = st.State.Waiting.Reason
			case st.State.Running != nil:
				state = "running"
			}
		}
		return false, nil
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("probe container %s in pod %s/%s: %w", name, ns, pod, ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("probe container %s in pod %s/%s did not finish within %s (%s); check the image (--agent-image) can be pulled on the pod's node", name, ns, pod, timeout, state)
	}
	return last, nil
}
