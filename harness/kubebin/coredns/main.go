// Command coredns is upstream CoreDNS with its standard plugin set. It lives
// in its own module because its dependency graph does not agree with the one
// k8s.io/kubernetes pins.
package main

import (
	"github.com/coredns/coredns/coremain"

	// Registers every plugin of the standard build, kubernetes included.
	_ "github.com/coredns/coredns/core/plugin"
)

func main() {
	coremain.Run()
}
