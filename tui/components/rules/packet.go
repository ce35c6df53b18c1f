package rules

import (
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// PacketLabel names a walked packet by where it enters, its source and its
// destination, brackets around an IPv6 address so its port stays apart.
func PacketLabel(pk dataplane.Packet) string {
	s := fmt.Sprintf("from %s %s → %s/%s", pk.From, pk.Source, pk.DestString(), pk.Protocol)
	if pk.ServicePort != "" {
		s += " (" + pk.ServicePort + ")"
	}
	return s
}
