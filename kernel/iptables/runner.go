//go:build linux

package iptables

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// Execer runs a program with stdin and returns its standard output. The
// real one is os/exec; tests substitute one that records argv and stdin.
type Execer interface {
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// OSExec runs programs with os/exec; a failure carries the program's
// standard error.
type OSExec struct{}

// Run implements Execer.
func (OSExec) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

// Options configure a Runner.
type Options struct {
	// IPv6 selects ip6tables.
	IPv6 bool
	// Backend is "nf_tables" or "legacy"; empty detects it (see Detect).
	Backend string
	// LockWait bounds the wait for the xtables lock (legacy backend);
	// zero means one minute.
	LockWait time.Duration
	// Exec runs iptables-restore and iptables-save; nil means OSExec.
	Exec Execer
}

// Runner is the real Interface: iptables-restore/-save of the chosen
// backend through an Execer, and go-iptables for single rules.
type Runner struct {
	exec    Execer
	backend string
	ipv6    bool
	wait    int // seconds
	ipt     *goiptables.IPTables
}

// New returns a Runner for the backend in opts, detecting it when empty.
func New(ctx context.Context, opts Options) (*Runner, error) {
	r := newRunner(opts)
	if r.backend == "" {
		b, err := DefaultBackend(ctx, r.exec, opts.IPv6)
		if err != nil {
			return nil, err
		}
		r.backend = b
	}
	proto := goiptables.ProtocolIPv4
	if opts.IPv6 {
		proto = goiptables.ProtocolIPv6
	}
	ipt, err := goiptables.New(goiptables.IPFamily(proto), goiptables.Path(r.command("")), goiptables.Timeout(r.wait))
	if err != nil {
		return nil, fmt.Errorf("iptables: %s: %w (install the iptables package)", r.command(""), err)
	}
	r.ipt = ipt
	return r, nil
}

func newRunner(opts Options) *Runner {
	r := &Runner{exec: opts.Exec, backend: opts.Backend, ipv6: opts.IPv6, wait: int(opts.LockWait / time.Second)}
	if r.exec == nil {
		r.exec = OSExec{}
	}
	if r.wait <= 0 {
		r.wait = 60
	}
	return r
}

// command names the backend's binary: "iptables-nft", "ip6tables-legacy-save", …
func (r *Runner) command(suffix string) string {
	name := "iptables"
	if r.ipv6 {
		name = "ip6tables"
	}
	b := "nft"
	if r.backend == BackendLegacy {
		b = "legacy"
	}
	return name + "-" + b + suffix
}

// Backend implements Interface.
func (r *Runner) Backend() string { return r.backend }

// Restore implements Interface with "iptables-restore --noflush -w N"; a
// large table block is restored with the nf_tables backend's whole-table
// cache (wholeTableCache).
func (r *Runner) Restore(ctx context.Context, input []byte) error {
	if r.backend == BackendNFT {
		input = wholeTableCache(input)
	}
	_, err := r.exec.Run(ctx, input, r.command("-restore"), "--noflush", "-w", strconv.Itoa(r.wait))
	if err != nil {
		return fmt.Errorf("iptables-restore: %w", err)
	}
	return nil
}

// Save implements Interface with "iptables-save -t table [-c]".
func (r *Runner) Save(ctx context.Context, table string, counters bool) ([]byte, error) {
	args := []string{"-t", table}
	if counters {
		args = append(args, "-c")
	}
	out, err := r.exec.Run(ctx, nil, r.command("-save"), args...)
	if err != nil {
		return nil, fmt.Errorf("iptables-save: %w", err)
	}
	return out, nil
}

// EnsureChain implements Interface.
func (r *Runner) EnsureChain(_ context.Context, table, chain string) (bool, error) {
	ok, err := r.ipt.ChainExists(table, chain)
	if err != nil || ok {
		return ok, wrap(err, "check chain", table, chain)
	}
	return false, wrap(r.ipt.NewChain(table, chain), "create chain", table, chain)
}

// EnsureRule implements Interface.
func (r *Runner) EnsureRule(_ context.Context, table, chain string, rule ...string) (bool, error) {
	ok, err := r.ipt.Exists(table, chain, rule...)
	if err != nil || ok {
		return ok, wrap(err, "check rule in", table, chain)
	}
	return false, wrap(r.ipt.Insert(table, chain, 1, rule...), "insert rule into", table, chain)
}

// DeleteRule implements Interface.
func (r *Runner) DeleteRule(_ context.Context, table, chain string, rule ...string) error {
	ok, err := r.ipt.ChainExists(table, chain)
	if err != nil || !ok {
		return wrap(err, "check chain", table, chain)
	}
	return wrap(r.ipt.DeleteIfExists(table, chain, rule...), "delete rule from", table, chain)
}

// DeleteChain implements Interface.
func (r *Runner) DeleteChain(_ context.Context, table, chain string) error {
	ok, err := r.ipt.ChainExists(table, chain)
	if err != nil || !ok {
		return wrap(err, "check chain", table, chain)
	}
	return wrap(r.ipt.ClearAndDeleteChain(table, chain), "delete chain", table, chain)
}

// Counters implements Interface from "iptables -v -S chain".
func (r *Runner) Counters(_ context.Context, table, chain string) ([]Counter, error) {
	lines, err := r.ipt.ListWithCounters(table, chain)
	if err != nil {
		return nil, wrap(err, "list", table, chain)
	}
	return parseCounters(chain, lines)
}

// parseCounters reads the "-A chain … -c PKTS BYTES …" lines of
// "iptables -v -S" (the counters sit before the target); the lines that
// declare the chain are skipped.
func parseCounters(chain string, lines []string) ([]Counter, error) {
	var out []Counter
	for _, l := range lines {
		if !strings.HasPrefix(l, "-A ") {
			continue
		}
		c, ok := cutCounters(l)
		if !ok {
			return nil, fmt.Errorf("iptables: rule of %s without readable counters: %q", chain, l)
		}
		out = append(out, c)
	}
	return out, nil
}

// cutCounters finds " -c PKTS BYTES" in a rule and returns the rule
// without it, with the counts.
func cutCounters(l string) (Counter, bool) {
	for from := 0; ; {
		i := strings.Index(l[from:], " -c ")
		if i < 0 {
			return Counter{}, false
		}
		i += from
		f := strings.SplitN(l[i+4:], " ", 3)
		if len(f) >= 2 {
			p, err1 := strconv.ParseUint(f[0], 10, 64)
			b, err2 := strconv.ParseUint(f[1], 10, 64)
			if err1 == nil && err2 == nil {
				rest := ""
				if len(f) == 3 {
					rest = " " + f[2]
				}
				return Counter{Rule: l[:i] + rest, Packets: p, Bytes: b}, true
			}
		}
		from = i + 4
	}
}

func wrap(err error, what, table, chain string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("iptables: %s %s/%s: %w", what, table, chain, err)
}
