package nodeagent

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// NodeReaderRole is the ClusterRole of deploy/node-reader.yaml.
const NodeReaderRole = "svctrace-node-reader"

// AccessError means the cluster refused the agent: the user lacks a right
// (Missing names it) or the namespace's Pod Security level refuses
// privileged pods (PodSecurity).
type AccessError struct {
	Node, Namespace string
	// Missing is the verb and resource refused, e.g. "create pods".
	Missing     string
	PodSecurity bool
	Err         error
}

func (e *AccessError) Error() string {
	if e.PodSecurity {
		return fmt.Sprintf("namespace %s refuses the privileged agent pod for node %s (Pod Security): %v", e.Namespace, e.Node, e.Err)
	}
	return fmt.Sprintf("not allowed to %s in namespace %s to read node %s: %v", e.Missing, e.Namespace, e.Node, e.Err)
}

func (e *AccessError) Unwrap() error { return e.Err }

// Hint says how to grant what is missing.
func (e *AccessError) Hint() string {
	if e.PodSecurity {
		return fmt.Sprintf("let the namespace run privileged pods (kubectl label namespace %s pod-security.kubernetes.io/enforce=privileged) or pass --agent-namespace NS naming one that does (kube-system usually does)", e.Namespace)
	}
	return fmt.Sprintf("bind the node-read role in the agent namespace: kubectl create rolebinding svctrace-node-USER -n %s --clusterrole=%s --user=USER (deploy/node-reader.yaml); or give the node's dumps instead (--iptables-save, --nft, --ipvs)", e.Namespace, NodeReaderRole)
}

// createError classifies a refused pod creation.
func createError(err error, o Options) error {
	if !apierrors.IsForbidden(err) {
		return fmt.Errorf("start agent pod on node %s in namespace %s: %w", o.Node, o.Namespace, err)
	}
	ae := &AccessError{Node: o.Node, Namespace: o.Namespace, Missing: "create pods", Err: err}
	if msg := err.Error(); strings.Contains(msg, "PodSecurity") || strings.Contains(msg, "pod security") {
		ae.PodSecurity = true
	}
	return ae
}
