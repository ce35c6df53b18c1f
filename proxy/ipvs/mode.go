package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// LocalFunc returns the node's addresses outside the dummy interfaces
// (kipvs.LocalAddresses on a node).
type LocalFunc func(ctx context.Context) ([]netip.Addr, error)

// Mode is IPVS mode for the proxy loop.
type Mode struct {
	p        *Programmer
	settings Settings
	layout   Layout
	local    LocalFunc
}

var _ proxy.Mode = (*Mode)(nil)

// NewMode returns IPVS mode programming through k, sets and ipt in layout
// l; local reads the node's addresses at each sync.
func NewMode(k kipvs.Interface, sets ipset.Interface, ipt kiptables.Interface, l Layout, s Settings, local LocalFunc) *Mode {
	p := New(k, sets, ipt, l)
	p.Exclude = s.ExcludeCIDRs
	return &Mode{p: p, settings: s, layout: l, local: local}
}

// Name implements proxy.Mode.
func (m *Mode) Name() string { return "ipvs" }

// Desired computes the state for objs on this node.
func (m *Mode) Desired(ctx context.Context, objs proxy.Objects) (*Desired, error) {
	local, err := m.local(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the node's addresses: %w", err)
	}
	return Build(objs, m.settings, local, m.layout)
}

// Sync implements proxy.Mode.
func (m *Mode) Sync(ctx context.Context, objs proxy.Objects, full, dryRun bool) (proxy.Report, error) {
	d, err := m.Desired(ctx, objs)
	if err != nil {
		return proxy.Report{}, err
	}
	res, err := m.p.Sync(ctx, d, full, dryRun)
	return proxy.Report{Full: res.Full, Changes: res.Changes(), Summary: res.String(), Repairs: res.Repairs}, err
}

// Cleanup implements proxy.Mode.
func (m *Mode) Cleanup(ctx context.Context, dryRun bool) (proxy.Report, error) {
	local, err := m.local(ctx)
	if err != nil {
		return proxy.Report{}, fmt.Errorf("read the node's addresses: %w", err)
	}
	res, err := m.p.Cleanup(ctx, local, dryRun)
	vs := 0
	for _, o := range res.Ops {
		if strings.HasPrefix(o, "ipvsadm -D") {
			vs++
		}
	}
	summary := fmt.Sprintf("cleanup: %d virtual servers deleted, chains, ip sets and %s removed", vs, m.layout.Interface)
	return proxy.Report{Full: true, Changes: res.Changes(), Summary: summary}, err
}

// VirtualServerState is one virtual server of a Service: as it should be
// and as the kernel holds it, both as ipvsadm-save prints them.
type VirtualServerState struct {
	VirtualServer string   `json:"virtualServer"`
	Port          string   `json:"port"`
	Expected      []string `json:"expected"`
	Programmed    []string `json:"programmed"`
	Equal         bool     `json:"equal"`
}

// ServiceState is what /debug/state answers for one Service in IPVS mode.
type ServiceState struct {
	Service        string               `json:"service"`
	Mode           string               `json:"mode"`
	VirtualServers []VirtualServerState `json:"virtualServers"`
	Drift          bool                 `json:"drift"`
}

// State compares one Service's expected and programmed virtual servers.
func (m *Mode) State(ctx context.Context, objs proxy.Objects, namespace, name string) (any, error) {
	return m.serviceState(ctx, objs, namespace, name)
}

func (m *Mode) serviceState(ctx context.Context, objs proxy.Objects, namespace, name string) (ServiceState, error) {
	d, err := m.Desired(ctx, objs)
	if err != nil {
		return ServiceState{}, err
	}
	got, err := kipvs.ReadTable(ctx, m.p.ipvs)
	if err != nil {
		return ServiceState{}, err
	}
	st := ServiceState{Service: namespace + "/" + name, Mode: "ipvs", VirtualServers: []VirtualServerState{}}
	for _, vs := range d.Table.VirtualServers {
		port := d.ports[vs.Key()]
		if port != st.Service && !strings.HasPrefix(port, st.Service+":") {
			continue
		}
		s := VirtualServerState{VirtualServer: vs.Key(), Port: port, Expected: saveLines(&vs), Programmed: []string{}}
		if have, ok := got.Find(vs); ok {
			for i := range have.RealServers {
				have.RealServers[i].ActiveConns, have.RealServers[i].InactiveConns = 0, 0
			}
			s.Programmed = saveLines(&have)
		}
		// Equal as the trace judges it: a draining real server (weight 0)
		// may be gone already.
		one := model.Expected{VirtualServers: []model.ExpectedVirtualServer{{VirtualServer: vs}}}
		s.Equal = len(s.Programmed) > 0 && len(model.Drift(one, got)) == 0
		st.Drift = st.Drift || !s.Equal
		st.VirtualServers = append(st.VirtualServers, s)
	}
	return st, nil
}

func saveLines(vs *model.VirtualServer) []string {
	return strings.Split(strings.TrimSpace(model.FormatSave(model.Table{VirtualServers: []model.VirtualServer{*vs}})), "\n")
}
