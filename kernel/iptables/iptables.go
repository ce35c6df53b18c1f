// Package iptables drives the kernel's iptables for a program that owns
// some chains in it: atomic per-table writes with iptables-restore
// --noflush, reads with iptables-save, and the few single-rule operations
// (base-chain jumps, counters) that github.com/coreos/go-iptables does well.
//
// Interface is what callers program against; Runner is the real
// implementation and iptablestest.Fake an in-memory one for tests.
package iptables

import (
	"context"
	"errors"
)

// Tables the package reads and writes.
const (
	TableFilter = "filter"
	TableNAT    = "nat"
	TableMangle = "mangle"
)

// Interface is the part of iptables a proxy needs. Every call waits for the
// xtables lock instead of failing when another program holds it.
type Interface interface {
	// Restore feeds input (one or more "*table … COMMIT" blocks) to
	// iptables-restore --noflush. Each table's block is applied
	// atomically: when it fails, that table is left as it was.
	Restore(ctx context.Context, input []byte) error
	// Save returns "iptables-save -t table", with per-rule counters when
	// counters is true.
	Save(ctx context.Context, table string, counters bool) ([]byte, error)
	// EnsureChain creates chain in table unless it exists, and reports
	// whether it existed.
	EnsureChain(ctx context.Context, table, chain string) (existed bool, err error)
	// EnsureRule inserts the rule at the top of chain unless an equal rule
	// exists, and reports whether it existed.
	EnsureRule(ctx context.Context, table, chain string, rule ...string) (existed bool, err error)
	// DeleteRule removes the rule from chain; a missing rule or chain is
	// not an error.
	DeleteRule(ctx context.Context, table, chain string, rule ...string) error
	// DeleteChain flushes and deletes chain; a missing chain is not an
	// error. It fails while other rules still jump to the chain.
	DeleteChain(ctx context.Context, table, chain string) error
	// Counters returns the rules of chain as "-A chain …" lines with their
	// packet and byte counters, in rule order.
	Counters(ctx context.Context, table, chain string) ([]Counter, error)
	// Backend names the iptables backend in use: "nf_tables" or "legacy".
	Backend() string
}

// Counter is one rule with the packets and bytes it matched.
type Counter struct {
	Rule           string
	Packets, Bytes uint64
}

// ErrNotFound reports a chain or table that does not exist.
var ErrNotFound = errors.New("not found")
