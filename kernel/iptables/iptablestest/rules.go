package iptablestest

import (
	"context"
	"fmt"
	"slices"

	"github.com/svctrace/kubectl-svctrace/kernel/iptables"
)

// EnsureChain implements iptables.Interface.
func (f *Fake) EnsureChain(_ context.Context, name, ch string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.table(name)
	if err != nil {
		return false, err
	}
	if _, ok := t.chains[ch]; ok {
		return true, nil
	}
	t.chains[ch] = &chain{}
	return false, nil
}

// EnsureRule implements iptables.Interface.
func (f *Fake) EnsureRule(_ context.Context, name, ch string, rule ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, c, err := f.chain(name, ch)
	if err != nil {
		return false, err
	}
	if c.find(rule) >= 0 {
		return true, nil
	}
	return false, t.insert(c, 0, rule)
}

// DeleteRule implements iptables.Interface.
func (f *Fake) DeleteRule(_ context.Context, name, ch string, rule ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, c, err := f.chain(name, ch)
	if err != nil {
		return nil
	}
	if i := c.find(rule); i >= 0 {
		c.rules = slices.Delete(c.rules, i, i+1)
	}
	return nil
}

// DeleteChain implements iptables.Interface.
func (f *Fake) DeleteChain(_ context.Context, name, ch string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, c, err := f.chain(name, ch)
	if err != nil {
		return nil
	}
	saved := c.rules
	c.rules = nil
	if err := t.deleteChain(ch); err != nil {
		c.rules = saved
		return err
	}
	return nil
}

// Counters implements iptables.Interface; the fake counts nothing.
func (f *Fake) Counters(_ context.Context, name, ch string) ([]iptables.Counter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, c, err := f.chain(name, ch)
	if err != nil {
		return nil, err
	}
	out := make([]iptables.Counter, len(c.rules))
	for i, r := range c.rules {
		out[i] = iptables.Counter{Rule: Join(append([]string{"-A", ch}, r...))}
	}
	return out, nil
}

func (f *Fake) chain(name, ch string) (*table, *chain, error) {
	t, err := f.table(name)
	if err != nil {
		return nil, nil, err
	}
	c, ok := t.chains[ch]
	if !ok {
		return nil, nil, fmt.Errorf("chain %s/%s: %w", name, ch, iptables.ErrNotFound)
	}
	return t, c, nil
}
