package iptables

import (
	"bytes"
)

// wholeTableAbove is how many lines a table's block must hold before
// Restore has iptables-nft-restore cache the whole table (see
// wholeTableCache); smaller blocks, such as partial syncs, keep the
// per-chain cache.
const wholeTableAbove = 1000

// wholeTableCache puts "-S" first in each table block of input that holds
// more than wholeTableAbove lines.
//
// Why: iptables-nft-restore --noflush (1.8.x) collects the name of every
// chain a command names or jumps to in a sorted linked list
// (cache_chain_list_insert in nft-cache.c), one linear insertion per
// command, so a block with thousands of chains costs a quadratic number of
// string comparisons: kube-proxy's rules for 2,000 Services x 10 endpoints
// (64,000 rules, 22,000 chains) take 35 s of restore on an idle 2-core
// machine, 2.5 s without it. One command naming no chain makes it cache the
// whole table instead and skip the list. "-S" is the only such command that
// changes nothing: it lists the table as it was before the transaction
// (discarded with the rest of standard output), where -Z would zero every
// rule's counters and -F or -X delete. The legacy backend keeps the whole
// table in memory anyway and gets the input unchanged.
func wholeTableCache(input []byte) []byte {
	var out bytes.Buffer
	lines := bytes.SplitAfter(input, []byte("\n"))
	for i := 0; i < len(lines); {
		l := lines[i]
		if !bytes.HasPrefix(l, []byte("*")) {
			out.Write(l)
			i++
			continue
		}
		end := i + 1
		for end < len(lines) && !bytes.Equal(bytes.TrimSpace(lines[end]), []byte("COMMIT")) {
			end++
		}
		out.Write(l)
		if end-i-1 > wholeTableAbove {
			out.WriteString("-S\n")
		}
		for _, b := range lines[i+1 : end] {
			out.Write(b)
		}
		i = end
	}
	return out.Bytes()
}
