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

// LoadDumps reads and parses the dumps into d; a parse error names the
// file and line.
func LoadDumps(p DumpPaths, stdin io.Reader, d *trace.DataplaneInput) error {
	if p.IPTablesSave != "" {
		b, err := readDump("--iptables-save", p.IPTablesSave, stdin)
		if err != nil {
			return err
		}
		dump, err := iptables.Read(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of iptables-save)", p.IPTablesSave, err)
		}
		d.IPTables, d.IPTablesName = dump, p.IPTablesSave
	}
	if p.NFT != "" {
		b, err := readDump("--nft", p.NFT, stdin)
		if err != nil {
			return err
		}
		rs, err := nftables.ParseJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of nft -j list ruleset)", p.NFT, err)
		}
		d.NFT, d.NFTName = rs, p.NFT
	}
	if p.IPVS != "" {
		b, err := readDump("--ipvs", p.IPVS, stdin)
		if err != nil {
			return err
		}
		t, err := ipvs.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of ipvsadm -Ln or ipvsadm-save -n)", p.IPVS, err)
		}
		d.IPVS, d.IPVSName = &t, p.IPVS
	}
	if p.Conntrack != "" {
		b, err := readDump("--conntrack", p.Conntrack, stdin)
		if err != nil {
			return err
		}
		entries, err := conntrack.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w (expected the output of conntrack -L)", p.Conntrack, err)
		}
		d.Conntrack, d.ConntrackName = entries, p.Conntrack
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
