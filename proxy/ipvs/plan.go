package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// Kinds of repairs a full sync counts, and of the operations it plans.
const (
	RepairSetMissing           = "set_missing"
	RepairSetEntryMissing      = "set_entry_missing"
	RepairSetEntryStale        = "set_entry_stale"
	RepairVirtualServerMissing = "virtual_server_missing"
	RepairVirtualServerDiffers = "virtual_server_differs"
	RepairVirtualServerStale   = "virtual_server_stale"
	RepairRealServerMissing    = "real_server_missing"
	RepairRealServerDiffers    = "real_server_differs"
	RepairRealServerStale      = "real_server_stale"
	RepairAddressMissing       = "address_missing"
	RepairAddressStale         = "address_stale"
	RepairChainMissing         = "chain_missing"
	RepairRulesDiffer          = "rules_differ"
	RepairJumpMissing          = "jump_missing"
)

// op is one kernel operation: its kind, what it touches (key), the line a
// dry run prints (ipset, ipvsadm and ip syntax) and how to apply it.
type op struct {
	kind, key, text string
	do              func(context.Context) error
}

// plan lists the operations that take the kernel from one state to
// another, in the order they are safe to apply: sets first (rules match
// on them), then virtual and real servers, then the addresses that make
// the kernel take packets for them, and stale virtual servers last.
func (p *Programmer) plan(from, to state) []op {
	var ops []op
	ops = append(ops, p.planSets(from, to)...)
	have := map[string]model.VirtualServer{}
	for _, vs := range from.table.VirtualServers {
		have[vs.Key()] = vs
	}
	for _, vs := range to.table.VirtualServers {
		h, ok := have[vs.Key()]
		switch {
		case !ok:
			ops = append(ops, p.vsOp(RepairVirtualServerMissing, "-A", vs))
		case h.Scheduler != vs.Scheduler || h.Flags != vs.Flags || h.Timeout != vs.Timeout:
			ops = append(ops, p.vsOp(RepairVirtualServerDiffers, "-E", vs))
		}
		ops = append(ops, p.planReal(vs, h.RealServers)...)
	}
	for _, a := range to.bound {
		if !slices.Contains(from.bound, a) {
			ops = append(ops, p.addrOp(RepairAddressMissing, "add", a))
		}
	}
	for _, a := range from.bound {
		if !slices.Contains(to.bound, a) {
			ops = append(ops, p.addrOp(RepairAddressStale, "del", a))
		}
	}
	for _, vs := range from.table.VirtualServers {
		if _, ok := to.table.Find(vs); !ok {
			ops = append(ops, p.vsOp(RepairVirtualServerStale, "-D", vs))
		}
	}
	return ops
}

func (p *Programmer) planSets(from, to state) []op {
	var ops []op
	for _, si := range setInfos {
		def := p.setDef(si.name)
		name := def.Name
		have, exists := from.sets[name]
		if !exists {
			ops = append(ops, op{kind: RepairSetMissing, key: "set " + name, text: fmt.Sprintf("ipset create %s %s", name, def.Type),
				do: func(ctx context.Context) error { return p.sets.CreateSet(ctx, def) }})
		}
		want := to.sets[name]
		for _, e := range want {
			if !slices.Contains(have, e) {
				ops = append(ops, op{kind: RepairSetEntryMissing, key: "entry " + name + " " + e, text: "ipset add " + name + " " + e,
					do: func(ctx context.Context) error { return p.sets.AddEntry(ctx, name, e) }})
			}
		}
		for _, e := range have {
			if !slices.Contains(want, e) {
				ops = append(ops, op{kind: RepairSetEntryStale, key: "entry " + name + " " + e, text: "ipset del " + name + " " + e,
					do: func(ctx context.Context) error { return p.sets.DelEntry(ctx, name, e) }})
			}
		}
	}
	return ops
}

// planReal plans the real servers of vs from have. A real server of
// weight 0 that is wanted but absent is not added: it is a terminating
// endpoint kube-proxy would only keep while connections drain. A TCP real
// server no longer wanted drains first (weight 0, as kube-proxy's
// graceful termination does) and goes once it holds no connections; a UDP
// or SCTP one goes at once.
func (p *Programmer) planReal(vs model.VirtualServer, have []model.RealServer) []op {
	var ops []op
	cur := map[string]model.RealServer{}
	for _, rs := range have {
		cur[rs.Key()] = rs
	}
	wanted := map[string]bool{}
	for _, rs := range vs.RealServers {
		wanted[rs.Key()] = true
		h, ok := cur[rs.Key()]
		switch {
		case !ok && rs.Weight > 0 && p.draining[rsKey(vs, rs)]:
			// Drained in an earlier sync, not yet gone: weigh it again.
			ops = append(ops, p.rsOp(RepairRealServerMissing, "-e", vs, rs))
		case !ok && rs.Weight > 0:
			ops = append(ops, p.rsOp(RepairRealServerMissing, "-a", vs, rs))
		case ok && (h.Weight != rs.Weight || forward(h) != forward(rs)):
			ops = append(ops, p.rsOp(RepairRealServerDiffers, "-e", vs, rs))
		}
	}
	for _, h := range have {
		switch {
		case wanted[h.Key()]:
		case vs.Protocol == model.TCP && h.Weight > 0:
			drained := h
			drained.Weight = 0
			ops = append(ops, p.rsOp(RepairRealServerStale, "-e", vs, drained))
		case vs.Protocol != model.TCP || h.ActiveConns+h.InactiveConns == 0:
			ops = append(ops, p.rsOp(RepairRealServerStale, "-d", vs, h))
		}
	}
	return ops
}

func forward(rs model.RealServer) model.ForwardMethod {
	if rs.Forward == "" {
		return model.Masquerade
	}
	return rs.Forward
}

func (p *Programmer) vsOp(kind, verb string, vs model.VirtualServer) op {
	bare := vs
	bare.RealServers = nil
	line := strings.TrimSpace(model.FormatSave(model.Table{VirtualServers: []model.VirtualServer{bare}}))
	text := "ipvsadm " + verb + strings.TrimPrefix(line, "-A")
	if verb == "-D" {
		text = "ipvsadm -D " + model.Selector(vs)
	}
	o := op{kind: kind, key: "vs " + vs.Key(), text: text}
	switch verb {
	case "-A":
		o.do = func(ctx context.Context) error { return p.ipvs.AddVirtualServer(ctx, bare) }
	case "-E":
		o.do = func(ctx context.Context) error { return p.ipvs.UpdateVirtualServer(ctx, bare) }
	default:
		o.do = func(ctx context.Context) error { return p.ipvs.DeleteVirtualServer(ctx, bare) }
	}
	return o
}

func (p *Programmer) rsOp(kind, verb string, vs model.VirtualServer, rs model.RealServer) op {
	rs.Forward = forward(rs)
	text := fmt.Sprintf("ipvsadm %s %s -r %s", verb, model.Selector(vs), rs.Key())
	if verb != "-d" {
		text += fmt.Sprintf(" -m -w %d", rs.Weight)
	}
	key := rsKey(vs, rs)
	o := op{kind: kind, key: key, text: text}
	switch verb {
	case "-a":
		o.do = func(ctx context.Context) error { return p.ipvs.AddRealServer(ctx, vs, rs) }
	case "-e":
		o.do = func(ctx context.Context) error {
			err := p.ipvs.UpdateRealServer(ctx, vs, rs)
			if err == nil && kind == RepairRealServerStale {
				p.draining[key] = true
			} else if err == nil {
				delete(p.draining, key)
			}
			return err
		}
	default:
		o.do = func(ctx context.Context) error {
			err := p.ipvs.DeleteRealServer(ctx, vs, rs)
			if err == nil {
				delete(p.draining, key)
			}
			return err
		}
	}
	return o
}

func rsKey(vs model.VirtualServer, rs model.RealServer) string {
	return "rs " + vs.Key() + " " + rs.Key()
}

func (p *Programmer) addrOp(kind, verb string, a netip.Addr) op {
	o := op{kind: kind, key: "addr " + a.String(), text: fmt.Sprintf("ip addr %s %s dev %s", verb, netip.PrefixFrom(a, a.BitLen()), p.layout.Interface)}
	if verb == "add" {
		o.do = func(ctx context.Context) error { return p.ipvs.AddAddress(ctx, a) }
	} else {
		o.do = func(ctx context.Context) error { return p.ipvs.DeleteAddress(ctx, a) }
	}
	return o
}
