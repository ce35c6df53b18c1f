package dataplane

import "fmt"

// Mode is a kube-proxy proxy mode, or the connection tracking table that
// every mode relies on.
type Mode string

// The modes, as kube-proxy's --proxy-mode spells them.
const (
	ModeIPTables  Mode = "iptables"
	ModeNFTables  Mode = "nftables"
	ModeIPVS      Mode = "ipvs"
	ModeConntrack Mode = "conntrack"
)

// Entry is where a packet enters the node's rules, which decides the hooks
// it passes: a pod's packet arrives on an interface (PREROUTING, forward),
// the node's own leaves through OUTPUT, a packet from outside the cluster
// arrives on the node's address (and is masqueraded unless a Local traffic
// policy keeps its source).
type Entry uint8

// The entries. The zero value is no entry: a caller that has not chosen
// one, which the modes' walks refuse.
const (
	EntryPod Entry = iota + 1
	EntryNode
	EntryExternal
)

// Entries lists every entry in the order a reader meets them.
var Entries = []Entry{EntryPod, EntryNode, EntryExternal}

var entryNames = [...]string{EntryPod: "pod", EntryNode: "node", EntryExternal: "external"}

// Valid reports whether e is one of the entries.
func (e Entry) Valid() bool { return e >= EntryPod && int(e) < len(entryNames) }

// String is the entry as --from and the JSON output spell it.
func (e Entry) String() string {
	if e.Valid() {
		return entryNames[e]
	}
	return fmt.Sprintf("Entry(%d)", uint8(e))
}

// ParseEntry reads an entry as --from spells it.
func ParseEntry(s string) (Entry, error) {
	for _, e := range Entries {
		if entryNames[e] == s {
			return e, nil
		}
	}
	return 0, fmt.Errorf("unknown entry %q: want pod, node or external", s)
}

// MarshalText writes the entry as its name.
func (e Entry) MarshalText() ([]byte, error) {
	if !e.Valid() {
		return nil, fmt.Errorf("marshal entry: %v is not pod, node or external", e)
	}
	return []byte(e.String()), nil
}

// UnmarshalText reads the entry's name.
func (e *Entry) UnmarshalText(b []byte) error {
	v, err := ParseEntry(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
