// Package conntrack reads and deletes the kernel's connection tracking
// entries, behind Interface: Netlink is the kernel's (through
// github.com/vishvananda/netlink), conntracktest.Fake keeps entries in
// memory for tests and can Dump them as `conntrack -L` lines. The entry
// model is package dataplane/conntrack's.
package conntrack

import (
	"context"
	"net/netip"

	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
)

// Interface lists and deletes conntrack entries.
type Interface interface {
	// List returns the entries of both IP families; none when the table is
	// empty. An implementation that cannot reach the table must fail.
	List(ctx context.Context) ([]model.Entry, error)
	// Delete removes the entries any of filters matches, in one pass over
	// the table, and says how many it removed: what kube-proxy does for UDP
	// flows whose endpoint went away. No filter removes nothing.
	Delete(ctx context.Context, filters ...Filter) (int, error)
}

// Filter selects entries; a zero field matches any value.
type Filter struct {
	// Protocol is tcp, udp or sctp.
	Protocol string
	// Dest and DestPort are the original destination: a Service address
	// and port, or a node port.
	Dest     netip.Addr
	DestPort uint16
	// ReplySource is the endpoint the connection was translated to.
	ReplySource netip.Addr
}

// Match reports whether f selects e.
func (f Filter) Match(e model.Entry) bool {
	return (f.Protocol == "" || f.Protocol == e.Protocol) &&
		(!f.Dest.IsValid() || f.Dest == e.Original.Dst) &&
		(f.DestPort == 0 || f.DestPort == e.Original.DPort) &&
		(!f.ReplySource.IsValid() || f.ReplySource == e.Reply.Src)
}
