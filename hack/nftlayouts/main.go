// Command nftlayouts measures what nft and the kernel charge for
// kube-proxy's nftables layout and for three other layouts of the same
// Services (docs/performance.md, "Other nftables layouts"): it reads the
// IPv4 transaction of `--serve --proxy-mode nftables --replace-kube-proxy
// --dry-run`, rewrites each Service chain's endpoint choice, loads each
// layout with `nft -f` into a fresh network namespace of its own, then
// applies the update one moved endpoint needs there. Nothing is asserted;
// it prints a table. Needs root and nft.
//
//	hack/nft-layouts.sh [SERVICES]
//	go run ./hack/nftlayouts -tx TRANSACTION
//
// The layouts, all written through nft as knftables writes them:
//   - kube-proxy: an anonymous map per Service chain
//     (`numgen random mod N map { 0 : ep0, … }`);
//   - named: a named map per Service chain (`… map @svcN`);
//   - shared: one map for every Service, each Service's endpoints at keys
//     of its own (`numgen random mod N offset K map @endpoints`);
//   - cascade: no maps, a rule per endpoint taking it with probability
//     1/(N-i) (`numgen random mod N-i 0 dnat to ep`), as iptables mode's
//     statistic rules.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// serviceRule is kube-proxy's endpoint choice in a Service chain.
var serviceRule = regexp.MustCompile(`^add rule ip kube-proxy (service-\S+) meta l4proto (\w+) dnat ip addr \. port to numgen random mod (\d+) map \{ (.*) \}$`)

// chain is one Service chain of the transaction: its name, protocol and
// endpoints (address . port, in key order).
type chain struct {
	name, proto string
	endpoints   []string
}

type layout struct {
	name string
	// full is the whole transaction; update moves endpoint 0 of the first
	// Service chain to addr.
	full   func(lines []string, chains []chain) string
	update func(chains []chain, addr string) string
}

func main() {
	tx := flag.String("tx", "", "the dry-run transaction (nft -f syntax)")
	runs := flag.Int("runs", 5, "updates timed per layout")
	flag.Parse()
	if err := run(*tx, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "nftlayouts:", err)
		os.Exit(1)
	}
}

func run(txFile string, runs int) error {
	lines, chains, err := read(txFile)
	if err != nil {
		return err
	}
	if len(chains) == 0 {
		return fmt.Errorf("%s: no Service chain choosing among endpoints with numgen (kube-proxy v1.37's layout)", txFile)
	}
	dir, err := os.MkdirTemp("", "nftlayouts")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("%d Service chains, %d transaction lines (IPv4)\n\n", len(chains), len(lines))
	fmt.Printf("| layout | full load s (user, sys) | one moved endpoint s (median of %d) |\n", runs)
	fmt.Println("|---|---:|---:|")
	for _, l := range layouts() {
		full, upd, err := measure(dir, l, lines, chains, runs)
		if err != nil {
			return fmt.Errorf("layout %s: %w", l.name, err)
		}
		fmt.Printf("| %s | %s | %.3f |\n", l.name, full, upd)
	}
	return nil
}

// read returns the transaction's IPv4 lines and its Service chains.
func read(file string) ([]string, []chain, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var lines []string
	var chains []chain
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "add table ip6 ") {
			break
		}
		lines = append(lines, line)
		if m := serviceRule.FindStringSubmatch(line); m != nil {
			c := chain{name: m[1], proto: m[2]}
			for _, el := range strings.Split(m[4], " , ") {
				_, ep, _ := strings.Cut(el, " : ")
				c.endpoints = append(c.endpoints, ep)
			}
			chains = append(chains, c)
		}
	}
	return lines, chains, sc.Err()
}

// rewrite returns the transaction with each Service chain's endpoint rule
// replaced by rule(i, chain), and before the first one the lines of head.
func rewrite(lines []string, chains []chain, head string, rule func(i int, c chain) string) string {
	var b strings.Builder
	i := 0
	for _, line := range lines {
		if serviceRule.MatchString(line) {
			if i == 0 {
				b.WriteString(head)
			}
			b.WriteString(rule(i, chains[i]))
			i++
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func elements(c chain, offset int) string {
	els := make([]string, len(c.endpoints))
	for k, ep := range c.endpoints {
		els[k] = fmt.Sprintf("%d : %s", offset+k, ep)
	}
	return strings.Join(els, " , ")
}

// firstElement is elements(c, offset)'s first element.
func firstElement(c chain, offset int) string {
	return fmt.Sprintf("%d : %s", offset, c.endpoints[0])
}

func moved(c chain, addr string) chain {
	_, port, _ := strings.Cut(c.endpoints[0], " . ")
	c.endpoints = append([]string{addr + " . " + port}, c.endpoints[1:]...)
	return c
}

// offset is the first key of chain i's endpoints in the shared map.
func offset(i int) int { return (i + 1) << 16 }

func layouts() []layout {
	kubeProxy := func(c chain) string {
		return fmt.Sprintf("add rule ip kube-proxy %s meta l4proto %s dnat ip addr . port to numgen random mod %d map { %s }\n", c.name, c.proto, len(c.endpoints), elements(c, 0))
	}
	cascade := func(c chain) string {
		var b strings.Builder
		for k, ep := range c.endpoints {
			to := strings.Replace(ep, " . ", ":", 1)
			if left := len(c.endpoints) - k; left > 1 {
				fmt.Fprintf(&b, "add rule ip kube-proxy %s numgen random mod %d 0 meta l4proto %s dnat ip to %s\n", c.name, left, c.proto, to)
			} else {
				fmt.Fprintf(&b, "add rule ip kube-proxy %s meta l4proto %s dnat ip to %s\n", c.name, c.proto, to)
			}
		}
		return b.String()
	}
	return []layout{
		{
			name: "kube-proxy (anonymous map per Service)",
			full: func(lines []string, chains []chain) string {
				return rewrite(lines, chains, "", func(_ int, c chain) string { return kubeProxy(c) })
			},
			update: func(chains []chain, addr string) string {
				return "flush chain ip kube-proxy " + chains[0].name + "\n" + kubeProxy(moved(chains[0], addr))
			},
		},
		{
			name: "named map per Service",
			full: func(lines []string, chains []chain) string {
				return rewrite(lines, chains, "", func(i int, c chain) string {
					return fmt.Sprintf("add map ip kube-proxy svc%d { typeof numgen random mod 1 : ip daddr . tcp dport ; }\n"+
						"add element ip kube-proxy svc%d { %s }\n"+
						"add rule ip kube-proxy %s meta l4proto %s dnat ip addr . port to numgen random mod %d map @svc%d\n",
						i, i, elements(c, 0), c.name, c.proto, len(c.endpoints), i)
				})
			},
			update: func(chains []chain, addr string) string {
				return fmt.Sprintf("delete element ip kube-proxy svc0 { 0 }\nadd element ip kube-proxy svc0 { %s }\n", firstElement(moved(chains[0], addr), 0))
			},
		},
		{
			name: "one shared map, an offset per Service",
			full: func(lines []string, chains []chain) string {
				head := "add map ip kube-proxy endpoints { typeof numgen random mod 1 : ip daddr . tcp dport ; }\n"
				return rewrite(lines, chains, head, func(i int, c chain) string {
					return fmt.Sprintf("add element ip kube-proxy endpoints { %s }\n"+
						"add rule ip kube-proxy %s meta l4proto %s dnat ip addr . port to numgen random mod %d offset %d map @endpoints\n",
						elements(c, offset(i)), c.name, c.proto, len(c.endpoints), offset(i))
				})
			},
			update: func(chains []chain, addr string) string {
				return fmt.Sprintf("delete element ip kube-proxy endpoints { %d }\nadd element ip kube-proxy endpoints { %s }\n", offset(0), firstElement(moved(chains[0], addr), offset(0)))
			},
		},
		{
			name: "cascade of numgen rules, no maps",
			full: func(lines []string, chains []chain) string {
				return rewrite(lines, chains, "", func(_ int, c chain) string { return cascade(c) })
			},
			update: func(chains []chain, addr string) string {
				return "flush chain ip kube-proxy " + chains[0].name + "\n" + cascade(moved(chains[0], addr))
			},
		},
	}
}

// measure loads l into a fresh namespace and times the load and runs
// updates, alternating the moved endpoint's address so each one changes
// something.
func measure(dir string, l layout, lines []string, chains []chain, runs int) (full string, update float64, err error) {
	ns := fmt.Sprintf("svctrace-nftlayouts-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	fullFile := filepath.Join(dir, "full")
	if err := os.WriteFile(fullFile, []byte(l.full(lines, chains)), 0o600); err != nil {
		return "", 0, err
	}
	d, cmd, err := nft(ns, fullFile)
	if err != nil {
		return "", 0, err
	}
	full = fmt.Sprintf("%.2f (%.2f, %.2f)", d.Seconds(), cmd.ProcessState.UserTime().Seconds(), cmd.ProcessState.SystemTime().Seconds())
	var times []float64
	for r := range runs {
		updFile := filepath.Join(dir, "update")
		addr := fmt.Sprintf("10.250.0.%d", r%2+1)
		if err := os.WriteFile(updFile, []byte(l.update(chains, addr)), 0o600); err != nil {
			return "", 0, err
		}
		d, _, err := nft(ns, updFile)
		if err != nil {
			return "", 0, err
		}
		times = append(times, d.Seconds())
	}
	slices.Sort(times)
	return full, times[len(times)/2], nil
}

func nft(ns, file string) (time.Duration, *exec.Cmd, error) {
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", file)
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, nil, fmt.Errorf("nft -f %s: %v: %.400s", file, err, out)
	}
	return time.Since(begin), cmd, nil
}
