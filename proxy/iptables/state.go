package iptables

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/proxy"
)

// ChainState is one chain of a Service port: its rules as they should be
// and as the kernel holds them, both as iptables-save prints them. In
// shared chains only the port's own rules are listed.
type ChainState struct {
	Table      string   `json:"table"`
	Chain      string   `json:"chain"`
	Expected   []string `json:"expected"`
	Programmed []string `json:"programmed"`
	Equal      bool     `json:"equal"`
}

// PortState is one Service port.
type PortState struct {
	Port   string       `json:"port"`
	Chains []ChainState `json:"chains"`
}

// ServiceState is what /debug/state answers for one Service.
type ServiceState struct {
	Service string      `json:"service"`
	Mode    string      `json:"mode"`
	Ports   []PortState `json:"ports"`
	Drift   bool        `json:"drift"`
}

// State compares one Service's expected and programmed rules. It reads the
// whole nat and filter tables, so it is for debugging, not for polling.
func (m *Mode) State(ctx context.Context, objs proxy.Objects, namespace, name string) (any, error) {
	d, err := m.Desired(objs)
	if err != nil {
		return nil, err
	}
	a, err := m.p.read(ctx, d.family, tables, d)
	if err != nil {
		return nil, err
	}
	st := ServiceState{Service: namespace + "/" + name, Mode: "iptables"}
	for _, sp := range d.Ruleset.Services {
		if sp.Namespace != namespace || sp.Service != name {
			continue
		}
		ps := PortState{Port: sp.String()}
		own := map[string]bool{}
		for _, c := range sp.OwnChains() {
			own[m.layout.Chain(c)] = true
		}
		for _, r := range d.order {
			want, err := d.normalized(r, nil)
			if err != nil {
				return nil, err
			}
			have := a.normalizedRules(d.family, r)
			if !own[r.chain] {
				want, have = mentioning(want, sp.ID), mentioning(have, sp.ID)
				if len(want) == 0 && len(have) == 0 {
					continue
				}
			}
			cs := ChainState{Table: r.table, Chain: r.chain, Expected: want, Programmed: have, Equal: slices.Equal(want, have)}
			st.Drift = st.Drift || !cs.Equal
			ps.Chains = append(ps.Chains, cs)
		}
		st.Ports = append(st.Ports, ps)
	}
	if len(st.Ports) == 0 {
		return nil, fmt.Errorf("service %s/%s is not served here (missing, headless, or outside the label selector)", namespace, name)
	}
	return st, nil
}

// mentioning keeps the rules whose comment names the port ID.
func mentioning(rules []string, id string) []string {
	var out []string
	for _, r := range rules {
		if strings.Contains(r, `"`+id+` `) || strings.Contains(r, `"`+id+`"`) || strings.Contains(r, " "+id+" ") {
			out = append(out, r)
		}
	}
	return out
}
