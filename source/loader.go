package source

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

type objectKey struct {
	kind, namespace, name string
}

type loaded struct {
	obj    runtime.Object
	source string
}

// loader keeps the objects of the items it is given; with a Want, only
// those the trace reads, decoded in full only when it needs more than
// their names and labels.
type loader struct {
	defaultNS string
	want      *Want // nil: every object
	seen      map[objectKey]loaded
	objs      []runtime.Object
	items     int // items read, kept or not
	maxBytes  int64

	// selector is the traced Service's, once read; pods read before it
	// wait in pending.
	selector labels.Selector
	pending  []pendingPod
	jdec     *jsontext.Decoder
}

type pendingPod struct {
	source string
	it     item
	h      header
	obj    runtime.Object // when already decoded
}

func newLoader(defaultNS string, want *Want, maxBytes int64) *loader {
	return &loader{defaultNS: defaultNS, want: want, maxBytes: maxBytes, seen: map[objectKey]loaded{}, jdec: jsontext.NewDecoder(bytes.NewReader(nil))}
}

type decision int

const (
	skip  decision = iota
	keep           // decode in full
	light          // names and labels are enough
	wait           // a pod read before its Service's selector
)

func (l *loader) add(source string, it item) error {
	l.items++
	if l.want == nil {
		objs, err := decodeItem(source, it)
		if err != nil {
			return err
		}
		return l.keep(source, objs...)
	}
	var h header
	if it.json {
		h = jsonHeader(l.jdec, it.body)
	} else {
		h = yamlHeader(it.body)
	}
	if h.unsure {
		return l.placeDecoded(source, it)
	}
	return l.place(source, it, h, nil)
}

// placeDecoded decodes an item and decides on each object it holds by its
// decoded header.
func (l *loader) placeDecoded(source string, it item) error {
	objs, err := decodeItem(source, it)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := l.place(source, it, headerOf(o), o); err != nil {
			return err
		}
	}
	return nil
}

// place acts on the decision for an object; obj is nil when the item is
// not decoded yet.
func (l *loader) place(source string, it item, h header, obj runtime.Object) error {
	switch l.decide(h) {
	case keep:
		if obj != nil {
			return l.keep(source, obj)
		}
		// Decide again on what was decoded: a scan stops reading once it
		// has what decides, and would not see a duplicated field.
		return l.placeDecoded(source, it)
	case light:
		return l.keep(source, lightObject(h))
	case wait:
		it.body = bytes.Clone(it.body) // not the whole block it shares
		l.pending = append(l.pending, pendingPod{source: source, it: it, h: h, obj: obj})
	}
	return nil
}

// finish places the pods read before the Service.
func (l *loader) finish() error {
	if l.selector == nil {
		l.selector = labels.Nothing()
	}
	for _, p := range l.pending {
		if err := l.place(p.source, p.it, p.h, p.obj); err != nil {
			return err
		}
	}
	l.pending = nil
	return nil
}

func (l *loader) decide(h header) decision {
	w := l.want
	ns := h.namespace
	if ns == "" && h.kind != "Node" {
		ns = l.defaultNS
	}
	switch h.apiVersion + " " + h.kind {
	case "v1 Node":
		return keep
	case "v1 Service":
		switch {
		case ns == w.Namespace && h.name == w.Service, ns == "kube-system" && h.name == "kube-dns":
			return keep
		case ns == w.Namespace || h.name == w.Service:
			return light // for suggestions
		}
	case "discovery.k8s.io/v1 EndpointSlice":
		if ns == w.Namespace && h.labels[discoveryv1.LabelServiceName] == w.Service {
			return keep
		}
	case "networking.k8s.io/v1 NetworkPolicy":
		// kube-system's decide whether the kube-dns pods admit a client's
		// queries.
		if ns == w.Namespace || ns == fromNamespace(w.FromPod) || (w.FromPod != "" && ns == dnsNamespace) {
			return keep
		}
	case "v1 Namespace":
		return keep // a policy's namespaceSelector matches its labels
	case "v1 Pod":
		switch {
		case ns+"/"+h.name == w.FromPod:
			return keep
		case ns == dnsNamespace && h.labels["k8s-app"] == "kube-dns":
			return keep // where a client's DNS queries go
		case ns != w.Namespace:
		case l.selector == nil:
			return wait
		case l.selector.Matches(labels.Set(h.labels)):
			return keep
		default:
			return light // for near misses
		}
	case "apps/v1 Deployment", "apps/v1 StatefulSet", "apps/v1 ReplicaSet", "apps/v1 DaemonSet":
		// Read when no pod matches the selector: the workload meant to
		// run the pods says why there are none.
		if ns == w.Namespace {
			return keep
		}
	case "v1 Event":
		if ns == w.Namespace && (h.involvedKind == "Service" && h.involvedName == w.Service ||
			h.eventType == corev1.EventTypeWarning && workloadEventKind(h.involvedKind)) {
			return keep
		}
	}
	return skip
}

// fromNamespace is the namespace of a "namespace/name" pod reference.
func fromNamespace(ref string) string {
	ns, _, ok := strings.Cut(ref, "/")
	if !ok {
		return ""
	}
	return ns
}

// workloadEventKind tells the kinds whose Warning events a trace reads:
// pods', and the workloads' that create them (FailedCreate).
func workloadEventKind(kind string) bool {
	switch kind {
	case "Pod", "ReplicaSet", "StatefulSet", "DaemonSet":
		return true
	}
	return false
}

// headerOf is the header of a decoded object.
func headerOf(o runtime.Object) header {
	var h header
	if m, err := meta.Accessor(o); err == nil {
		h.name, h.namespace, h.labels = m.GetName(), m.GetNamespace(), m.GetLabels()
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		if kinds, _, err := scheme.Scheme.ObjectKinds(o); err == nil && len(kinds) > 0 {
			gvk = kinds[0]
		}
	}
	h.apiVersion, h.kind = gvk.ToAPIVersionAndKind()
	if e, ok := o.(*corev1.Event); ok {
		h.involvedKind, h.involvedName, h.eventType = e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Type
	}
	return h
}

// lightObject holds only what suggestions and near misses read.
func lightObject(h header) runtime.Object {
	om := metav1.ObjectMeta{Name: h.name, Namespace: h.namespace, Labels: h.labels}
	if h.kind == "Service" {
		return &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: om}
	}
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: om}
}

// keep defaults the namespaces of objs and keeps the ones not seen yet.
func (l *loader) keep(source string, objs ...runtime.Object) error {
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			continue
		}
		if m.GetNamespace() == "" && namespaced(o) {
			m.SetNamespace(l.defaultNS)
		}
		key := objectKey{fmt.Sprintf("%T", o), m.GetNamespace(), m.GetName()}
		if prev, ok := l.seen[key]; ok {
			if equality.Semantic.DeepEqual(prev.obj, o) {
				continue
			}
			return fmt.Errorf("%s %s is given twice, differently, in %s and %s; pass one copy", kindName(o), path.Join(m.GetNamespace(), m.GetName()), prev.source, source)
		}
		l.seen[key] = loaded{o, source}
		l.objs = append(l.objs, o)
		if svc, ok := o.(*corev1.Service); ok && l.want != nil && svc.Namespace == l.want.Namespace && svc.Name == l.want.Service {
			l.selector = podSelector(svc)
		}
	}
	return nil
}

// podSelector is what selects the Service's pods: nothing when it does
// not select any (no selector, ExternalName, or an invalid one, which the
// trace reports).
func podSelector(svc *corev1.Service) labels.Selector {
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return labels.Nothing()
	}
	sel, err := labels.ValidatedSelectorFromSet(svc.Spec.Selector)
	if err != nil {
		return labels.Nothing()
	}
	return sel
}

// namespaced is false for the cluster-scoped kinds a dump may hold.
func namespaced(o runtime.Object) bool {
	switch o.(type) {
	case *corev1.Node, *corev1.Namespace, *corev1.PersistentVolume:
		return false
	}
	return true
}

// kindName is the lower-case kind of o, e.g. "service".
func kindName(o runtime.Object) string {
	t := fmt.Sprintf("%T", o)
	return strings.ToLower(t[strings.LastIndex(t, ".")+1:])
}
