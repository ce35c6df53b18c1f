package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// dnsSection lists each name CoreDNS should serve, with what the server
// answered when a live check ran.
func (tw *textWriter) dnsSection(t *trace.Trace) []section {
	d := t.DNS
	if d == nil || len(d.Checks) == 0 {
		return nil
	}
	head := "DNS (expected records; ask from inside with --probe)"
	if d.Server != "" {
		head = "DNS via " + d.Server
	}
	if d.From != "" {
		head += " asked from " + d.From
	}
	var items []string
	for _, c := range d.Checks {
		if !t.Service.Headless && isEndpointName(c.Name) && (!c.Queried || c.OK) {
			continue // per-endpoint names of a ClusterIP Service: JSON has them
		}
		want := strings.Join(c.Expected, ", ")
		switch {
		case c.Note != "":
			want = c.Note
		case want == "":
			want = "no record"
		}
		line := fmt.Sprintf("%s %s → %s", c.Type, c.Name, want)
		if c.Queried {
			line = tw.p.ok(c.OK) + " " + line
			if !c.OK {
				got := strings.Join(c.Answered, ", ")
				if got == "" {
					got = "nothing"
				}
				line += tw.p.paint(ansiRed, " (answered "+got+")")
			}
		}
		items = append(items, line)
	}
	if sp := d.SearchPath; sp != nil {
		res := tw.p.paint(ansiRed, "no tried name is the Service's")
		if sp.Resolves != "" {
			res = "resolves as " + sp.Resolves
		}
		from := "pod " + sp.Pod
		if strings.HasPrefix(sp.Pod, "node/") {
			from = sp.Pod
		}
		items = append(items, fmt.Sprintf("from %s, %q (ndots:%d) tries %s: %s",
			from, sp.Query, sp.Ndots, strings.Join(sp.Tries, " "), res))
		for _, f := range sp.Forms {
			if f.Query != sp.Query {
				items = append(items, tw.searchForm(f))
			}
		}
	}
	var wrapped []string
	for _, it := range items {
		wrapped = append(wrapped, strings.Join(wrap(it, tw.o.Width-9), "\n   "))
	}
	return []section{{head, branches(wrapped)}}
}

// isEndpointName tells a per-endpoint name (host.svc.ns.svc.zone.) from the
// Service's own name and its SRV names.
func isEndpointName(name string) bool {
	return !strings.HasPrefix(name, "_") && strings.Count(name, ".") > 5
}

// searchForm says in one line how another spelling of the name fares: each
// miss before the answer is a query the pod's resolver waits for.
func (tw *textWriter) searchForm(f trace.SearchForm) string {
	i := slices.Index(f.Tries, f.Resolves)
	if f.Resolves == "" || i < 0 {
		return fmt.Sprintf("%q: %s (%d names tried)", f.Query, tw.p.paint(ansiYellow, "does not reach the Service"), len(f.Tries))
	}
	return fmt.Sprintf("%q resolves as %s on try %d of %d", f.Query, f.Resolves, i+1, len(f.Tries))
}
