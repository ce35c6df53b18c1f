package rules

import (
	"fmt"
	"net"
	"strconv"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// PacketLabel names a walked packet by where it enters, its source and its
// destination, brackets around an IPv6 address so its port stays apart.
func PacketLabel(pk trace.Packet) string {
	s := fmt.Sprintf("from %s %s → %s/%s", pk.From, pk.Source, net.JoinHostPort(pk.Dest, strconv.Itoa(int(pk.Port))), pk.Protocol)
	if pk.ServicePort != "" {
		s += " (" + pk.ServicePort + ")"
	}
	return s
}
