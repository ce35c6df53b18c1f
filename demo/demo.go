// Package demo embeds a snapshot of a small cluster so the tool can show a
// real trace on a machine without one.
package demo

import (
	"bytes"
	_ "embed"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svctrace/kubectl-svctrace/source"
)

//go:embed hostnames.yaml
var hostnamesYAML []byte

// Service is the Service the demo traces.
const (
	Namespace = "default"
	Service   = "hostnames"
)

// Objects decodes the demo cluster.
func Objects() ([]runtime.Object, error) {
	return source.Decode("demo/hostnames.yaml", bytes.NewReader(hostnamesYAML))
}
