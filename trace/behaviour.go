package trace

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
)

// IPTablesLayoutOlder is reported when a node's iptables rules were
// written by a kube-proxy release older than the layout the trace
// generates: they were compared by what packets meet, not rule by rule.
const IPTablesLayoutOlder = "IPTablesLayoutOlder"

// olderLayout is implemented by modes that can tell a node's rules have
// the layout of an older kube-proxy release, and how they tell.
type olderLayout[G any] interface {
	OlderLayout(got G) []string
}

// walkTolerance absorbs the rounding of probabilities older releases
// printed with fewer digits (0.33332999982 for 1/3).
const walkTolerance = 1e-3

// behaviourDiffs compares what packets meet: each packet of the Service
// from every entry, walked through the rules kube-proxy should write now
// and through the node's, outcome by outcome (verdict, target, share,
// masquerade).
func behaviourDiffs[W, G any](r *modeRun[W, G], in Input, v nodeView) ([]dataplane.Diff, error) {
	synced, err := r.m.Materialize(r.want)
	if err != nil {
		return nil, err
	}
	var out []dataplane.Diff
	seen := map[string]bool{}
	for _, entry := range dataplane.Entries {
		ev := v
		ev.from = entry
		ev.src = defaultSource(ev, in)
		if v.family != "" {
			ev = ev.forFamily(v.family, in)
		}
		for _, pt := range r.targets {
			for _, p := range packets(pt, ev) {
				want, err := r.m.Walk(r.want, synced, p)
				if err != nil {
					return nil, err
				}
				got, err := r.m.Walk(r.want, r.got, p)
				if err != nil {
					return nil, err
				}
				for _, d := range compareWalks(r.m.Mode(), string(v.family), p, want, got) {
					// One split serves every client: say it once, from the
					// first entry that meets it.
					k := fmt.Sprint(d.Service, d.Packet.Dest, d.Packet.Port, d.Target, d.Share, d.WantShare)
					if math.Abs(d.Share-d.WantShare) <= walkTolerance {
						k += fmt.Sprint(d.Masquerade, d.WantMasquerade)
					}
					if !seen[k] {
						seen[k] = true
						out = append(out, d)
					}
				}
			}
		}
	}
	return out, nil
}

// outcomeSum is one outcome of a walk, its alternatives added up.
type outcomeSum struct {
	verdict     dataplane.Verdict
	target      string
	probability float64
	masquerade  bool
	chain       string
}

func sumOutcomes(w dataplane.Walk) map[string]*outcomeSum {
	out := map[string]*outcomeSum{}
	for _, o := range w.Outcomes {
		k := string(o.Verdict) + " " + o.Target + " " + string(o.Affinity)
		s := out[k]
		if s == nil {
			s = &outcomeSum{verdict: o.Verdict, target: o.Target}
			out[k] = s
		}
		s.probability += o.Probability
		s.masquerade = s.masquerade || o.Masquerade
		s.chain = decidingChain(o)
	}
	return out
}

// decidingChain is the chain whose rule decided the outcome: the last
// chain of its path before the verdict; for a packet no rule translated,
// the chain it fell out of (the first followed by a return).
func decidingChain(o dataplane.Outcome) string {
	if parts := strings.Split(o.Path, " → "); len(parts) > 1 {
		name, _, _ := strings.Cut(parts[len(parts)-2], " ")
		return name
	}
	for i := 1; i+1 < len(o.Chains); i++ {
		if slices.Contains(o.Chains[:i], o.Chains[i+1]) {
			return o.Chains[i]
		}
	}
	return ""
}

func compareWalks(mode dataplane.Mode, family string, p dataplane.Packet, want, got dataplane.Walk) []dataplane.Diff {
	ws, gs := sumOutcomes(want), sumOutcomes(got)
	keys := make([]string, 0, len(ws)+len(gs))
	for k := range ws {
		keys = append(keys, k)
	}
	for k := range gs {
		if ws[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []dataplane.Diff
	for _, k := range keys {
		w, g := cmp.Or(ws[k], &outcomeSum{}), cmp.Or(gs[k], &outcomeSum{})
		if math.Abs(w.probability-g.probability) <= walkTolerance && (w.masquerade == g.masquerade || g.probability == 0) {
			continue
		}
		o := cmp.Or(gs[k], ws[k])
		pkt := p
		target := string(o.verdict)
		if o.target != "" {
			target += " " + o.target
		}
		where := dataplane.Locator{Mode: mode, Family: family, Chain: cmp.Or(g.chain, w.chain)}
		where.Endpoint, _ = netip.ParseAddrPort(o.target)
		if mode == dataplane.ModeIPTables {
			where.Table = "nat"
			if o.verdict == dataplane.VerdictReject || o.verdict == dataplane.VerdictDrop {
				where.Table = "filter"
			}
		}
		out = append(out, dataplane.Diff{Kind: dataplane.WalkOutcomeDiffers, Service: p.ServicePort, Packet: &pkt, Where: where,
			Target: target, Share: g.probability, WantShare: w.probability, Masquerade: g.masquerade, WantMasquerade: w.masquerade})
	}
	return out
}

// olderLayoutFinding says the view's rules were compared by walks, and why.
func olderLayoutFinding(r viewResult) Finding {
	return Finding{ID: IPTablesLayoutOlder, Severity: SeverityInfo, Subject: "node/" + r.node,
		Message: r.source + " was written by a kube-proxy older than the layouts the trace generates (v1.34 to v1.37): " + strings.Join(r.older, "; ") +
			"; its rules were compared by what packets meet (each walk's outcomes, shares and masquerading), not rule by rule",
		Hint: "the walks follow the node's real rules; kube-proxy releases that old are out of support: upgrade kube-proxy to within three minor versions of the API server"}
}

// walkDetail says what a WalkOutcomeDiffers difference means for traffic.
func walkDetail(d dataplane.Diff) string {
	from := "a packet"
	if d.Packet != nil {
		from = fmt.Sprintf("a packet from %s (%s) to %s", d.Packet.From, d.Packet.Source, d.Packet.DestString())
	}
	if math.Abs(d.Share-d.WantShare) > walkTolerance {
		return fmt.Sprintf("%s meets %s with %s through the node's rules, %s through the rules kube-proxy should write now",
			from, d.Target, textfmt.Percent(d.Share), textfmt.Percent(d.WantShare))
	}
	mq := func(b bool) string {
		if b {
			return "masqueraded"
		}
		return "not masqueraded"
	}
	return fmt.Sprintf("%s meets %s %s by the node's rules, %s by the rules kube-proxy should write now", from, d.Target, mq(d.Masquerade), mq(d.WantMasquerade))
}
