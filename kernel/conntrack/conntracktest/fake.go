// Package conntracktest holds Fake, an in-memory conntrack.Interface for
// tests. It is never linked into the plugin.
package conntracktest

import (
	"context"
	"slices"
	"sync"

	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/kernel/conntrack"
)

// Fake is a connection tracking table in memory.
type Fake struct {
	mu      sync.Mutex
	entries []model.Entry
}

var _ conntrack.Interface = (*Fake)(nil)

// NewFake returns a Fake holding entries.
func NewFake(entries ...model.Entry) *Fake {
	return &Fake{entries: slices.Clone(entries)}
}

// Add adds an entry, as a connection through the node would.
func (f *Fake) Add(e model.Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, e)
}

// List implements conntrack.Interface.
func (f *Fake) List(ctx context.Context) ([]model.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.entries), ctx.Err()
}

// Delete implements conntrack.Interface.
func (f *Fake) Delete(ctx context.Context, filters ...conntrack.Filter) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.entries)
	f.entries = slices.DeleteFunc(f.entries, func(e model.Entry) bool {
		return slices.ContainsFunc(filters, func(flt conntrack.Filter) bool { return flt.Match(e) })
	})
	return n - len(f.entries), ctx.Err()
}

// Dump lists the table as `conntrack -L` prints it.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return model.Format(f.entries)
}
