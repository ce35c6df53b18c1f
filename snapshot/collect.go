package snapshot

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// Runner runs a command and returns its standard output; a failure's error
// carries what the command wrote to standard error.
type Runner interface {
	Run(ctx context.Context, argv []string) ([]byte, error)
}

// Getter reads a URL. A response other than 200 returns its body and an
// error naming the status: kube-proxy's /healthz answers 503 with the
// times it needs.
type Getter interface {
	Get(ctx context.Context, url string) ([]byte, error)
}

// Collector reads one node. Every field but Filter, Node and Version is an
// access to the node, replaced by fakes in tests.
type Collector struct {
	// HostRoot is where the host's root is mounted ("/host"); binaries
	// found under it run through chroot, so their versions match what
	// kube-proxy uses.
	HostRoot string
	Run      Runner
	HTTP     Getter
	// IPVS reads the IPVS table through netlink.
	IPVS func(ctx context.Context) (ipvs.Table, error)
	// Conntrack reads the conntrack table (both families) through
	// netlink; nil, or a failure, falls back to the conntrack command.
	Conntrack func(ctx context.Context) ([]conntrack.Entry, error)
	// Exists reports whether a file exists (to find host binaries).
	Exists func(path string) bool
	// LookPath finds a binary of the agent's own image.
	LookPath func(name string) (string, error)
	Now      func() time.Time

	Node    string
	Version string
	// Filter, when set, keeps the snapshot to one Service.
	Filter *Filter
	// MetricsAddr and HealthzAddr are kube-proxy's metrics (with
	// /proxyMode) and health endpoints, host:port.
	MetricsAddr, HealthzAddr string
}

// binDirs are searched for host binaries, in order.
var binDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"}

// command resolves name to what to run: the host's binary through chroot,
// else the agent's own. ok is false when neither exists.
func (c *Collector) command(name string, args ...string) (argv []string, ok bool) {
	if c.HostRoot != "" {
		for _, d := range binDirs {
			if p := path.Join(d, name); c.Exists(path.Join(c.HostRoot, p)) {
				return append([]string{"chroot", c.HostRoot, p}, args...), true
			}
		}
	}
	if p, err := c.LookPath(name); err == nil {
		return append([]string{p}, args...), true
	}
	return nil, false
}

// Collect reads every section. A section that cannot be read carries its
// error; the snapshot itself never fails, so the client sees what was read.
func (c *Collector) Collect(ctx context.Context) *Snapshot {
	s := &Snapshot{Format: Format, Node: c.Node, AgentVersion: c.Version, Filter: c.Filter, Taken: c.Now().UTC()}
	if c.HostRoot != "" && c.Exists(c.HostRoot) {
		s.HostRoot = c.HostRoot
	}
	add := func(sec Section) { s.Sections = append(s.Sections, sec) }
	for _, cmd := range []string{"iptables", "ip6tables"} {
		legacy, nft := c.exec(ctx, cmd+"-legacy-save", cmd+"-legacy-save", "-c"), c.exec(ctx, cmd+"-nft-save", cmd+"-nft-save", "-c")
		if notFound(legacy) && notFound(nft) {
			add(c.filtered(c.exec(ctx, cmd+"-save", cmd+"-save", "-c"), FilterIPTables))
			continue
		}
		add(c.filtered(legacy, FilterIPTables))
		add(c.filtered(nft, FilterIPTables))
	}
	add(c.filtered(c.exec(ctx, NFT, "nft", "-j", "list", "ruleset"), FilterNFT))
	add(c.ipvs(ctx))
	add(c.conntrack(ctx))
	add(c.exec(ctx, Addresses, "ip", "addr", "show"))
	add(c.get(ctx, ProxyMode, "http://"+c.MetricsAddr+"/proxyMode"))
	add(c.get(ctx, Healthz, "http://"+c.HealthzAddr+"/healthz"))
	m := c.get(ctx, Metrics, "http://"+c.MetricsAddr+"/metrics")
	if c.Filter != nil {
		m.Output, m.Filtered = FilterMetrics(m.Output), true
	}
	add(m)
	add(c.exec(ctx, KernelVersion, "uname", "-r"))
	add(c.exec(ctx, IPTablesVersion, "iptables", "--version"))
	add(c.exec(ctx, NFTVersion, "nft", "--version"))
	return s
}

const notFoundSuffix = " not found on the host or in the agent image"

func notFound(s Section) bool { return strings.HasSuffix(s.Error, notFoundSuffix) }

func (c *Collector) exec(ctx context.Context, section, name string, args ...string) Section {
	argv, ok := c.command(name, args...)
	if !ok {
		return Section{Name: section, Source: strings.Join(append([]string{name}, args...), " "), Error: name + notFoundSuffix}
	}
	start := c.Now()
	out, err := c.Run.Run(ctx, argv)
	sec := Section{Name: section, Source: strings.Join(argv, " "), Output: string(out), Took: c.Now().Sub(start)}
	if err != nil {
		sec.Error = err.Error()
	}
	return sec
}

func (c *Collector) get(ctx context.Context, section, url string) Section {
	start := c.Now()
	out, err := c.HTTP.Get(ctx, url)
	sec := Section{Name: section, Source: url, Output: string(out), Took: c.Now().Sub(start)}
	if err != nil {
		sec.Error = err.Error()
	}
	return sec
}

// conntrack reads the conntrack table through netlink, as the kernel
// holds it; where that fails (no netlink access, an old kernel) through the
// conntrack command, saying why.
func (c *Collector) conntrack(ctx context.Context) Section {
	var ct Section
	if c.Conntrack != nil {
		start := c.Now()
		entries, err := c.Conntrack(ctx)
		ct = Section{Name: Conntrack, Source: "netlink (conntrack table, IPv4 and IPv6)", Output: conntrack.Format(entries), Took: c.Now().Sub(start)}
		if err != nil {
			ct = c.exec(ctx, Conntrack, "conntrack", "-L")
			ct.Note = "netlink failed (" + err.Error() + "): read with the conntrack command"
		}
	} else {
		ct = c.exec(ctx, Conntrack, "conntrack", "-L")
	}
	if c.Filter != nil && ct.Error == "" {
		ct.Output, ct.Filtered = FilterConntrack(ct.Output, c.Filter), true
	}
	return ct
}

func (c *Collector) ipvs(ctx context.Context) Section {
	start := c.Now()
	sec := Section{Name: IPVS, Source: "netlink (generic netlink family IPVS)"}
	t, err := c.IPVS(ctx)
	if err != nil {
		sec.Error = err.Error()
		return sec
	}
	if c.Filter != nil {
		t, sec.Filtered = FilterIPVS(t, c.Filter), true
	}
	// ipvsadm -Ln's form keeps each real server's connections.
	sec.Output, sec.Took = ipvs.FormatList(t), c.Now().Sub(start)
	return sec
}

// filtered applies fn to a section read without error; a filter that
// cannot read the output leaves it whole and says so.
func (c *Collector) filtered(sec Section, fn func(string, *Filter) (string, error)) Section {
	if c.Filter == nil || sec.Error != "" {
		return sec
	}
	out, err := fn(sec.Output, c.Filter)
	if err != nil {
		sec.Note = fmt.Sprintf("kept whole: %v", err)
		return sec
	}
	sec.Output, sec.Filtered = out, true
	return sec
}
