// Package ipsettest holds Fake, an in-memory ipset.Interface for tests. It
// is never linked into the plugin.
package ipsettest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
)

// Fake is an in-memory ipset.Interface. Like the kernel it refuses
// duplicate or missing entries, entries of the wrong shape for the set's
// type or of the wrong family for a hash set (inet, or inet6 when
// created IPv6), and destroying a set that is referenced (see Referenced).
type Fake struct {
	mu   sync.Mutex
	sets map[string]*set
	// Referenced, when set, reports whether a rule still matches on a
	// set; DestroySet then fails as the kernel does (EBUSY).
	Referenced func(name string) bool
}

type set struct {
	def     ipset.Set
	entries map[string]bool
}

var _ ipset.Interface = (*Fake)(nil)

// NewFake returns a Fake without sets.
func NewFake() *Fake { return &Fake{sets: map[string]*set{}} }

// ListSets implements ipset.Interface.
func (f *Fake) ListSets(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.sets)), ctx.Err()
}

// CreateSet implements ipset.Interface.
func (f *Fake) CreateSet(_ context.Context, s ipset.Set) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if have, ok := f.sets[s.Name]; ok {
		if have.def != s {
			return fmt.Errorf("create ip set %s: exists as %s", s.Name, have.def.Type)
		}
		return nil
	}
	f.sets[s.Name] = &set{def: s, entries: map[string]bool{}}
	return nil
}

// DestroySet implements ipset.Interface.
func (f *Fake) DestroySet(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sets[name]; !ok {
		return fmt.Errorf("destroy ip set %s: does not exist", name)
	}
	if f.Referenced != nil && f.Referenced(name) {
		return fmt.Errorf("destroy ip set %s: set is in use by a rule", name)
	}
	delete(f.sets, name)
	return nil
}

// ListEntries implements ipset.Interface.
func (f *Fake) ListEntries(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sets[name]
	if !ok {
		return nil, fmt.Errorf("list ip set %s: does not exist", name)
	}
	return slices.Sorted(maps.Keys(s.entries)), ctx.Err()
}

// AddEntry implements ipset.Interface.
func (f *Fake) AddEntry(_ context.Context, name, entry string) error {
	return f.edit(name, entry, func(s *set, e string) error {
		if s.entries[e] {
			return fmt.Errorf("add %s to ip set %s: already added", entry, name)
		}
		s.entries[e] = true
		return nil
	})
}

// DelEntry implements ipset.Interface.
func (f *Fake) DelEntry(_ context.Context, name, entry string) error {
	return f.edit(name, entry, func(s *set, e string) error {
		if !s.entries[e] {
			return fmt.Errorf("delete %s from ip set %s: not in the set", entry, name)
		}
		delete(s.entries, e)
		return nil
	})
}

func (f *Fake) edit(name, entry string, do func(*set, string) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sets[name]
	if !ok {
		return fmt.Errorf("ip set %s does not exist", name)
	}
	e, err := ipset.ParseEntry(entry)
	if err != nil {
		return err
	}
	if !fits(s.def.Type, e) {
		return fmt.Errorf("entry %s does not fit ip set %s of type %s", entry, name, s.def.Type)
	}
	if e.IP.IsValid() && (e.IP.Is6() != s.def.IPv6 || (e.Net.IsValid() && e.Net.Addr().Is6() != s.def.IPv6)) {
		return fmt.Errorf("entry %s is not of ip set %s's family %s", entry, name, family(s.def))
	}
	return do(s, e.String())
}

// fits reports whether e has the parts the set type takes.
func fits(t ipset.Type, e ipset.Entry) bool {
	ip, port, third := e.IP.IsValid(), e.HasPort && e.Protocol != "", e.Net.IsValid()
	switch t {
	case ipset.HashIP:
		return ip && !e.HasPort && !third
	case ipset.HashIPPort:
		return ip && port && !third
	case ipset.HashIPPortIP:
		return ip && port && third && e.Net.Bits() == e.Net.Addr().BitLen()
	case ipset.HashIPPortNet:
		return ip && port && third
	case ipset.BitmapPort:
		return !ip && e.HasPort
	}
	return false
}

func family(s ipset.Set) string {
	if s.IPv6 {
		return "inet6"
	}
	return "inet"
}

// Dump lists every set as `ipset save` would: a create line (with
// "family inet6" for IPv6 sets), then its entries, sets by name.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(f.sets)) {
		s := f.sets[name]
		fmt.Fprintf(&b, "create %s %s", name, s.def.Type)
		if s.def.IPv6 {
			b.WriteString(" family inet6")
		}
		b.WriteString("\n")
		for _, e := range slices.Sorted(maps.Keys(s.entries)) {
			fmt.Fprintf(&b, "add %s %s\n", name, e)
		}
	}
	return b.String()
}
