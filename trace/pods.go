package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxPodEvents bounds the events kept per pod: the newest say what is wrong.
const maxPodEvents = 5

func podHops(pods []corev1.Pod, events []corev1.Event) []PodHop {
	var out []PodHop
	for i := range pods {
		p := &pods[i]
		h := PodHop{
			Name:        p.Name,
			Phase:       string(p.Status.Phase),
			Ready:       podReady(p),
			Node:        p.Spec.NodeName,
			Labels:      p.Labels,
			Terminating: p.DeletionTimestamp != nil,
		}
		for _, ip := range p.Status.PodIPs {
			h.IPs = append(h.IPs, ip.IP)
		}
		if len(h.IPs) == 0 && p.Status.PodIP != "" {
			h.IPs = []string{p.Status.PodIP}
		}
		for _, cs := range p.Status.ContainerStatuses {
			h.Restarts += cs.RestartCount
		}
		if !h.Ready {
			h.Reason = notReadyReason(p)
		}
		for _, c := range p.Status.Conditions {
			h.Conditions = append(h.Conditions, PodCondition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason})
		}
		h.ContainerPorts = containerPorts(p)
		h.Events = podEvents(p, events)
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podEvents are p's Warning events, newest first: those naming it, and
// naming this pod rather than an earlier one of the same name.
func podEvents(p *corev1.Pod, events []corev1.Event) []PodEvent {
	var mine []*corev1.Event
	for i := range events {
		e := &events[i]
		o := e.InvolvedObject
		if o.Kind != "Pod" || o.Name != p.Name || e.Type != corev1.EventTypeWarning || (o.UID != "" && p.UID != "" && o.UID != p.UID) {
			continue
		}
		mine = append(mine, e)
	}
	sort.SliceStable(mine, func(i, j int) bool { return eventTime(mine[i]) > eventTime(mine[j]) })
	var out []PodEvent
	for _, e := range mine[:min(len(mine), maxPodEvents)] {
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		out = append(out, PodEvent{Reason: e.Reason, Message: e.Message, Count: max(count, 1), Last: eventTime(e)})
	}
	return out
}

// containerPorts lists the ports of the containers and of the native
// sidecars (init containers that keep running), which Services reach too.
func containerPorts(p *corev1.Pod) []ContainerPort {
	var out []ContainerPort
	add := func(c corev1.Container) {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			out = append(out, ContainerPort{Container: c.Name, Name: cp.Name, Port: cp.ContainerPort, Protocol: string(proto)})
		}
	}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	for _, c := range p.Spec.Containers {
		add(c)
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// notReadyReason explains, in one line, why a pod is not ready, naming the
// container at fault when there is one.
func notReadyReason(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "pod is terminating"
	}
	switch p.Status.Phase {
	case corev1.PodFailed, corev1.PodSucceeded:
		return strings.TrimSpace(fmt.Sprintf("pod phase is %s %s", p.Status.Phase, p.Status.Reason))
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return "pod is not scheduled: " + firstNonEmpty(c.Message, c.Reason)
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if r := containerReason(p, cs); r != "" {
			return r
		}
	}
	if p.Status.Phase == corev1.PodPending {
		return "pod is Pending"
	}
	if len(p.Status.ContainerStatuses) == 0 {
		return "pod reports no container status yet (is its node's kubelet running?)"
	}
	return "pod Ready condition is False"
}

func containerReason(p *corev1.Pod, cs corev1.ContainerStatus) string {
	name := fmt.Sprintf("container %q", cs.Name)
	if w := cs.State.Waiting; w != nil {
		msg := fmt.Sprintf("%s is waiting: %s", name, w.Reason)
		if w.Reason == "CrashLoopBackOff" {
			msg = fmt.Sprintf("%s is in CrashLoopBackOff (%d restarts", name, cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf(", last exit code %d %s", t.ExitCode, t.Reason)
			}
			return msg + ")"
		}
		if w.Message != "" {
			msg += " (" + w.Message + ")"
		}
		return msg
	}
	if t := cs.State.Terminated; t != nil && !isInit(p, cs.Name) {
		return fmt.Sprintf("%s terminated with exit code %d %s", name, t.ExitCode, t.Reason)
	}
	if cs.State.Running != nil && !cs.Ready && !isInit(p, cs.Name) {
		if probe := readinessProbe(p, cs.Name); probe != "" {
			return fmt.Sprintf("%s is running but its readiness probe (%s) fails", name, probe)
		}
		return name + " is running but not ready"
	}
	return ""
}

// isInit reports whether name is a run-to-completion init container; a
// native sidecar counts as a regular container.
func isInit(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.InitContainers {
		if c.Name == name {
			return !isSidecar(c)
		}
	}
	return false
}

func readinessProbe(p *corev1.Pod, container string) string {
	for _, c := range servingContainers(p) {
		if c.Name != container || c.ReadinessProbe == nil {
			continue
		}
		h := c.ReadinessProbe.ProbeHandler
		switch {
		case h.HTTPGet != nil:
			return fmt.Sprintf("GET %s on port %s", firstNonEmpty(h.HTTPGet.Path, "/"), h.HTTPGet.Port.String())
		case h.TCPSocket != nil:
			return "TCP connect to port " + h.TCPSocket.Port.String()
		case h.GRPC != nil:
			return fmt.Sprintf("gRPC on port %d", h.GRPC.Port)
		case h.Exec != nil:
			return "exec " + strings.Join(h.Exec.Command, " ")
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
