package trace

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DumpPredatesObjects stands for a dump's differences when the dump was
// taken before objects it is compared with changed: they may be nothing
// but its age, so kube-proxy is not blamed for them.
const DumpPredatesObjects = "DumpPredatesObjects"

// change is when one object compared with a dump last changed.
type change struct {
	what string // "pod/web-2 became Ready"
	at   time.Time
}

// changes lists what the trace compares a dump with and when each changed:
// the Service's creation, its EndpointSlices' last change (the
// controller's last-change-trigger-time, else creation), and its pods'
// creation and condition transitions.
func changes(in Input) []change {
	var out []change
	add := func(what string, at time.Time) {
		if !at.IsZero() {
			out = append(out, change{what, at})
		}
	}
	add("service/"+in.Service.Name+" was created", in.Service.CreationTimestamp.Time)
	for i := range in.EndpointSlices {
		s := &in.EndpointSlices[i]
		at := s.CreationTimestamp.Time
		if v, ok := s.Annotations[corev1.EndpointsLastChangeTriggerTime]; ok {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.After(at) {
				at = t
			}
		}
		add("endpointslice/"+s.Name+" changed", at)
	}
	for i := range in.Pods {
		p := &in.Pods[i]
		add("pod/"+p.Name+" was created", p.CreationTimestamp.Time)
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				add(fmt.Sprintf("pod/%s became Ready=%s", p.Name, c.Status), c.LastTransitionTime.Time)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.After(out[j].at) })
	return out
}

// dumpAge weighs a dump view's differences against when the dump was
// taken: objects changed after it make them one DumpPredatesObjects
// finding that asks for a fresh dump; a dump newer than every object says
// so on each, as its age then explains nothing.
func dumpAge(in Input, source string, fs []Finding) []Finding {
	d := in.Dataplane
	if len(fs) == 0 || d == nil || d.SavedAt.IsZero() {
		return fs
	}
	saved := d.SavedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	if d.SavedAtGuessed {
		saved += " (its header's time, read as UTC)"
	}
	all := changes(in)
	var later []string
	for _, c := range all {
		if c.at.After(d.SavedAt) {
			later = append(later, fmt.Sprintf("%s %s", c.what, c.at.UTC().Format("15:04:05")))
		}
	}
	if len(later) == 0 {
		if len(all) > 0 {
			note := fmt.Sprintf("; the dump (saved %s) is newer than every object compared with it (last: %s at %s), so its age does not explain this",
				saved, all[0].what, all[0].at.UTC().Format("2006-01-02 15:04:05"))
			for i := range fs {
				fs[i].Message += note
			}
		}
		return fs
	}
	count := map[string]int{}
	var ids []string
	for _, f := range fs {
		if count[f.ID] == 0 {
			ids = append(ids, f.ID)
		}
		count[f.ID]++
	}
	for i, id := range ids {
		ids[i] = fmt.Sprintf("%s ×%d", id, count[id])
	}
	return []Finding{{ID: DumpPredatesObjects, Severity: SeverityWarning, Subject: source,
		Message: fmt.Sprintf("%s was saved %s, before %s; its %d difference(s) from the rules kube-proxy should write now (%s) may only be the dump's age",
			source, saved, limitList(later, 3), len(fs), strings.Join(ids, ", ")),
		Hint: "take a fresh dump and trace again (kubectl debug node/NODE -q … -- chroot /host iptables-save, or --node NODE without a dump to read the node now); only differences a fresh dump still shows are kube-proxy's"}}
}
