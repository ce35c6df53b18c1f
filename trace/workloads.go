package trace

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Finding IDs about the workloads behind a selector that matches no pod.
const (
	WorkloadScaledToZero = "WorkloadScaledToZero"
	WorkloadPodsRefused  = "WorkloadPodsRefused"
	WorkloadRolloutStuck = "WorkloadRolloutStuck"
)

// workload is what the checks need of a Deployment, StatefulSet,
// ReplicaSet or DaemonSet whose pod template the selector matches.
type workload struct {
	kind, name string // kind as kubectl names it: deployment, statefulset, ...
	// replicas is the number of pods asked for; for a DaemonSet, the
	// nodes it should run on.
	replicas int32
	ready    int32
	paused   bool
	// observed is set when the controller has written the status of the
	// current spec (status.observedGeneration ≥ metadata.generation).
	observed bool
	// conditions are the status conditions, as type → condition.
	conditions map[string]workloadCondition
	// creators are the objects whose FailedCreate events count: the
	// workload itself, or a Deployment's ReplicaSets.
	creators map[string]bool
}

type workloadCondition struct {
	status, reason, message string
}

// workloadFindings explains why no pod matches the selector when some
// workload's template does: each workload gets its own finding with the
// command that fixes it.
func workloadFindings(in Input) []Finding {
	var out []Finding
	for _, w := range matchingWorkloads(in.Workloads) {
		if f, ok := workloadFinding(in, w); ok {
			out = append(out, f)
		}
	}
	return out
}

func workloadFinding(in Input, w workload) (Finding, bool) {
	ref, ns := w.kind+"/"+w.name, in.Namespace
	f := Finding{Severity: SeverityError, Subject: ref}
	refused := failedCreate(in.Workloads.Events, w)
	switch {
	case w.kind != "daemonset" && w.replicas == 0:
		f.ID = WorkloadScaledToZero
		f.Message = fmt.Sprintf("%s's template matches the selector, but it is scaled to 0 replicas, so no pod runs for the Service", ref)
		f.Hint = fmt.Sprintf("kubectl scale %s -n %s --replicas=N (N the number of pods to run, e.g. 1)", ref, ns)
	case !w.observed && refused == "":
		f.ID = WorkloadRolloutStuck
		f.Message = fmt.Sprintf("%s's template matches the selector, but its controller has not acted on its current spec yet (no status for it)", ref)
		f.Hint = fmt.Sprintf("trace again in a moment; if it stays, check kube-controller-manager runs: kubectl describe %s -n %s", ref, ns)
	case w.kind == "daemonset" && w.replicas == 0:
		f.ID = WorkloadScaledToZero
		f.Message = fmt.Sprintf("%s's template matches the selector, but it should run on no node: its nodeSelector, affinity or tolerations fit none", ref)
		f.Hint = fmt.Sprintf("compare them with the nodes: kubectl get %s -n %s -o jsonpath='{.spec.template.spec.nodeSelector}'; kubectl get nodes --show-labels", ref, ns)
	case refused != "":
		f.ID = WorkloadPodsRefused
		f.Message = fmt.Sprintf("%s wants %d %s but its pods are refused: %s", ref, w.replicas, plural(int(w.replicas), "pod", "pods"), refused)
		f.Hint = refusedHint(refused, ref, ns)
	case w.paused:
		f.ID = WorkloadRolloutStuck
		f.Message = fmt.Sprintf("%s wants %d %s but its rollout is paused with none running", ref, w.replicas, plural(int(w.replicas), "pod", "pods"))
		f.Hint = fmt.Sprintf("kubectl rollout resume %s -n %s", ref, ns)
	case w.ready == 0:
		f.ID = WorkloadRolloutStuck
		f.Message = fmt.Sprintf("%s wants %d %s, has no ready one and no pod matching the selector%s", ref, w.replicas, plural(int(w.replicas), "pod", "pods"), conditionNote(w))
		f.Hint = fmt.Sprintf("kubectl rollout status %s -n %s; kubectl describe %s -n %s; if it stays, check kube-controller-manager runs", ref, ns, ref, ns)
	default:
		return Finding{}, false // it has ready pods, just not for this selector now
	}
	return f, true
}

// conditionNote quotes the condition saying why a rollout does not
// progress, when the status holds one.
func conditionNote(w workload) string {
	for _, t := range []string{"Progressing", "Available"} {
		if c, ok := w.conditions[t]; ok && c.status == string(corev1.ConditionFalse) {
			return fmt.Sprintf(" (%s=False %s: %s)", t, c.reason, c.message)
		}
	}
	return ""
}

// failedCreate is the newest message of a FailedCreate event (or a
// ReplicaFailure condition) about the workload's pods, "" when none.
func failedCreate(events []corev1.Event, w workload) string {
	var newest *corev1.Event
	for i := range events {
		e := &events[i]
		if e.Type != corev1.EventTypeWarning || e.Reason != "FailedCreate" || !w.creators[e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name] {
			continue
		}
		if newest == nil || eventTime(e) > eventTime(newest) {
			newest = e
		}
	}
	if newest != nil {
		return fmt.Sprintf("%s (%s/%s, last %s)", newest.Message, newest.InvolvedObject.Kind, newest.InvolvedObject.Name, eventTime(newest))
	}
	if c, ok := w.conditions["ReplicaFailure"]; ok && c.status == string(corev1.ConditionTrue) {
		return c.message
	}
	return ""
}

func refusedHint(msg, ref, ns string) string {
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "exceeded quota") || strings.Contains(lower, "quota"):
		return fmt.Sprintf("a ResourceQuota refuses the pods: kubectl describe resourcequota -n %s; raise it, or lower the pod template's requests (kubectl edit %s -n %s)", ns, ref, ns)
	case strings.Contains(lower, "admission webhook") || strings.Contains(lower, "denied") || strings.Contains(lower, "forbidden"):
		return fmt.Sprintf("an admission controller refuses the pods; change the pod template as its message asks: kubectl edit %s -n %s", ref, ns)
	}
	return fmt.Sprintf("kubectl describe %s -n %s shows the controller's events", ref, ns)
}

// matchingWorkloads turns the workloads into what the checks read. A
// ReplicaSet a Deployment owns is that Deployment's: its events count for
// the Deployment, and it is not reported on its own.
func matchingWorkloads(ws Workloads) []workload {
	var out []workload
	for i := range ws.Deployments {
		d := &ws.Deployments[i]
		w := workload{kind: "deployment", name: d.Name, replicas: replicas(d.Spec.Replicas), ready: d.Status.ReadyReplicas,
			paused: d.Spec.Paused, observed: d.Status.ObservedGeneration >= d.Generation, conditions: map[string]workloadCondition{}, creators: map[string]bool{}}
		for _, c := range d.Status.Conditions {
			w.conditions[string(c.Type)] = workloadCondition{string(c.Status), c.Reason, c.Message}
		}
		out = append(out, w)
	}
	for i := range ws.StatefulSets {
		s := &ws.StatefulSets[i]
		out = append(out, simpleWorkload("statefulset", s.ObjectMeta, replicas(s.Spec.Replicas), s.Status.ReadyReplicas, s.Status.ObservedGeneration))
	}
	for i := range ws.DaemonSets {
		d := &ws.DaemonSets[i]
		out = append(out, simpleWorkload("daemonset", d.ObjectMeta, d.Status.DesiredNumberScheduled, d.Status.NumberReady, d.Status.ObservedGeneration))
	}
	var owned []*appsv1.ReplicaSet
	for i := range ws.ReplicaSets {
		rs := &ws.ReplicaSets[i]
		if owner := metav1.GetControllerOf(rs); owner != nil && owner.Kind == "Deployment" {
			owned = append(owned, rs)
			continue
		}
		out = append(out, simpleWorkload("replicaset", rs.ObjectMeta, replicas(rs.Spec.Replicas), rs.Status.ReadyReplicas, rs.Status.ObservedGeneration))
	}
	// out is complete: pointers into it stay valid.
	deployments := map[string]*workload{}
	for i := range out {
		if out[i].kind == "deployment" {
			deployments[out[i].name] = &out[i]
		}
	}
	for _, rs := range owned {
		if d := deployments[metav1.GetControllerOf(rs).Name]; d != nil {
			d.creators["ReplicaSet/"+rs.Name] = true
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].kind+"/"+out[i].name < out[j].kind+"/"+out[j].name })
	return out
}

func simpleWorkload(kind string, m metav1.ObjectMeta, want, ready int32, observed int64) workload {
	kindName := map[string]string{"statefulset": "StatefulSet", "daemonset": "DaemonSet", "replicaset": "ReplicaSet"}[kind]
	return workload{kind: kind, name: m.Name, replicas: want, ready: ready, observed: observed >= m.Generation,
		conditions: map[string]workloadCondition{}, creators: map[string]bool{kindName + "/" + m.Name: true}}
}

// replicas is spec.replicas, which defaults to 1.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}
