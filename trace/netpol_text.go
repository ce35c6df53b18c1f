package trace

import (
	"encoding/json"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/netpol"
)

// describePeer says in words which sources a peer of a policy in
// namespace ns names.
func describePeer(ns string, p networkingv1.NetworkPolicyPeer) string {
	if b := p.IPBlock; b != nil {
		s := "addresses in " + b.CIDR
		if len(b.Except) > 0 {
			s += " except " + strings.Join(b.Except, ", ")
		}
		return s
	}
	pods := "every pod"
	if p.PodSelector != nil && selectorText(p.PodSelector) != "" {
		pods = "pods labelled " + selectorText(p.PodSelector)
	}
	if p.NamespaceSelector == nil {
		return pods + " in namespace " + ns
	}
	return pods + " in " + describeNamespaces(p.NamespaceSelector)
}

func describeNamespaces(sel *metav1.LabelSelector) string {
	if len(sel.MatchExpressions) == 0 && len(sel.MatchLabels) == 1 {
		if name, ok := sel.MatchLabels[netpol.NamespaceNameLabel]; ok {
			return "namespace " + name
		}
	}
	if s := selectorText(sel); s != "" {
		return "namespaces labelled " + s
	}
	return "every namespace"
}

// selectorText prints a label selector as kubectl's -l takes it; "" for
// the empty selector, which selects everything.
func selectorText(sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Sprintf("%v (invalid: %v)", sel, err)
	}
	return s.String()
}

// enforcementNote ends every NetworkPolicy message: the API objects say
// what should happen, the network plugin decides whether it does.
const enforcementNote = "enforcement depends on the network plugin: a plugin that does not implement NetworkPolicy (flannel on its own, for one) lets everything through"

// volatileLabels are set per pod by controllers: a rule naming them would
// admit only this one pod, and not its replacement.
var volatileLabels = map[string]bool{
	"pod-template-hash": true, "controller-revision-hash": true, "pod-template-generation": true,
	"statefulset.kubernetes.io/pod-name": true, "apps.kubernetes.io/pod-index": true,
	"batch.kubernetes.io/controller-uid": true, "controller-uid": true,
}

func stableLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		if !volatileLabels[k] {
			out[k] = v
		}
	}
	return out
}

// policySnippet is a NetworkPolicy as one line of JSON (which kubectl
// apply reads as YAML), with spaces where a wrapped line may break.
func policySnippet(ns, name string, podSelector map[string]string, dir netpol.Direction, peer map[string]any, ports []map[string]any) string {
	rule := map[string]any{"ports": ports}
	spec := map[string]any{"podSelector": map[string]any{"matchLabels": podSelector}}
	if dir == netpol.Ingress {
		rule["from"] = []any{peer}
		spec["policyTypes"], spec["ingress"] = []string{"Ingress"}, []any{rule}
	} else {
		rule["to"] = []any{peer}
		spec["policyTypes"], spec["egress"] = []string{"Egress"}, []any{rule}
	}
	obj := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]string{"name": name, "namespace": ns}, "spec": spec}
	b, err := json.MarshalIndent(obj, "", "")
	if err != nil {
		return err.Error() // maps of strings always encode
	}
	return "kubectl apply -f - <<< '" + strings.ReplaceAll(string(b), "\n", " ") + "'"
}

// podPeer names pods labelled labels in namespace ns, as seen from a
// policy in namespace from.
func podPeer(from, ns string, labels map[string]string) map[string]any {
	peer := map[string]any{"podSelector": map[string]any{"matchLabels": labels}}
	if ns != from {
		peer["namespaceSelector"] = map[string]any{"matchLabels": map[string]string{netpol.NamespaceNameLabel: ns}}
	}
	return peer
}

func policyPorts(ports ...PolicyConnection) []map[string]any {
	var out []map[string]any
	seen := map[string]bool{}
	for _, p := range ports {
		k := fmt.Sprint(p.Protocol, p.Port)
		if !seen[k] {
			seen[k] = true
			out = append(out, map[string]any{"protocol": p.Protocol, "port": p.Port})
		}
	}
	return out
}

// snippetName is a DNS label made of parts.
func snippetName(parts ...string) string {
	s := strings.ToLower(strings.Join(parts, "-"))
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-")
}
