package source

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// DumpPaths names a node's dataplane dumps; "-" reads stdin.
type DumpPaths struct {
	IPTablesSave, NFT, IPVS, Conntrack string
}

// DumpKind names what a dump holds.
type DumpKind string

// The dumps a node view can be made of.
const (
	IPTablesSave DumpKind = "--iptables-save"
	NFTJSON      DumpKind = "--nft"
	IPVSList     DumpKind = "--ipvs"
	Conntrack    DumpKind = "--conntrack"
)

// LoadDumps reads and parses the dumps into d; a parse error names the
// file and line.
func LoadDumps(p DumpPaths, stdin io.Reader, d *trace.DataplaneInput) error {
	for _, f := range []struct {
		kind DumpKind
		path string
	}{{IPTablesSave, p.IPTablesSave}, {NFTJSON, p.NFT}, {IPVSList, p.IPVS}, {Conntrack, p.Conntrack}} {
		if f.path == "" {
			continue
		}
		b, err := readDump(string(f.kind), f.path, stdin)
		if err != nil {
			return err
		}
		if err := ParseDump(f.kind, f.path, b, d); err != nil {
			return err
		}
	}
	return nil
}

// ParseDump parses one dump named name into d.
func ParseDump(kind DumpKind, name string, b []byte, d *trace.DataplaneInput) error {
	switch kind {
	case IPTablesSave:
		dump, err := iptables.Read(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of iptables-save)", name, err)
		}
		d.IPTables, d.IPTablesName = dump, name
	case NFTJSON:
		rs, err := nftables.ParseJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of nft -j list ruleset)", name, err)
		}
		d.NFT, d.NFTName = rs, name
	case IPVSList:
		t, err := ipvs.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of ipvsadm -Ln or ipvsadm-save -n)", name, err)
		}
		d.IPVS, d.IPVSName = &t, name
	case Conntrack:
		entries, err := conntrack.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of conntrack -L)", name, err)
		}
		d.Conntrack, d.ConntrackName = entries, name
	default:
		return fmt.Errorf("unknown dump kind %q", kind)
	}
	return nil
}

func readDump(flag, path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("%s -: read stdin: %w", flag, err)
		}
		return b, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}
