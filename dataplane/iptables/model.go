package iptables

import (
	"fmt"
	"net/netip"
)

// Dump is a parsed iptables-save dump. Tables and chains are indexed by name,
// so lookups do not rescan the rules.
type Dump struct {
	// Tables in the order they appear in the dump.
	Tables []*Table

	tables map[string]*Table
	// byService indexes rules by the service-port name their comment names
	// ("ns/name:port"; the old trailing-colon form is stored without the colon).
	byService map[string][]*Rule
	lines     int
}

// Table is one "*name ... COMMIT" block.
type Table struct {
	Name string
	// Line is the 1-based line of the "*name" header.
	Line int
	// Chains in declaration order. Built-in chains that the dump never declares
	// but rules use are added when first referenced.
	Chains []*Chain
	// Deleted lists chains removed with "-X" in iptables-restore input.
	Deleted []string

	chains map[string]*Chain
}

// Chain is one chain with its rules in order.
type Chain struct {
	Name  string
	Table string
	// Policy is ACCEPT or DROP for built-in chains and "-" for user chains.
	Policy   string
	Counters Counters
	// Line is the 1-based line of the ":NAME" declaration, 0 when implicit.
	Line  int
	Rules []*Rule
}

// Counters are packet and byte counters as printed by iptables-save -c.
type Counters struct {
	Packets, Bytes uint64
	// Set is false when the dump had no counters for this item.
	Set bool
}

// Rule is one "-A CHAIN ..." line.
type Rule struct {
	// Table and Chain name where the rule lives.
	Table, Chain string
	// Line is the 1-based line number in the dump.
	Line int
	// Text is the original text of the line, counters included.
	Text     string
	Counters Counters

	// Generic conditions (-s, -d, -p, -i, -o); the zero value means absent.
	Source, Destination AddrCond
	Protocol            Cond
	InInterface         Cond
	OutInterface        Cond

	// Matches are the -m modules and any options not owned by one, in order.
	Matches []Match
	Target  Target
}

// AddrCond is a -s or -d condition.
type AddrCond struct {
	Prefix  netip.Prefix
	Negated bool
}

// IsSet reports whether the condition was present in the rule.
func (a AddrCond) IsSet() bool { return a.Prefix.IsValid() }

// String renders the condition as iptables-save would, without the flag.
func (a AddrCond) String() string {
	if !a.IsSet() {
		return ""
	}
	if a.Negated {
		return "! " + a.Prefix.String()
	}
	return a.Prefix.String()
}

// Cond is a string-valued condition such as -p tcp or -i eth0.
type Cond struct {
	Value   string
	Negated bool
}

// IsSet reports whether the condition was present in the rule.
func (c Cond) IsSet() bool { return c.Value != "" }

// Option is one option with its arguments, kept exactly as written.
type Option struct {
	// Name is the option as written, e.g. "--dport".
	Name    string
	Negated bool
	Args    []string
	// Unknown is true when no known module or target owns the option.
	Unknown bool
}

// String renders the option as it would appear in a rule.
func (o Option) String() string {
	s := o.Name
	if o.Negated {
		s = "! " + s
	}
	for _, a := range o.Args {
		s += " " + quoteArg(a)
	}
	return s
}

// Target is the -j or -g part of a rule.
type Target struct {
	// Name is a built-in target (ACCEPT, DROP, RETURN, REJECT, DNAT, MARK,
	// MASQUERADE, ...) or a chain name; empty when the rule has no target.
	Name string
	// Goto is true for -g: the called chain does not return here.
	Goto bool
	// ToDestination is the DNAT --to-destination argument as written.
	ToDestination string
	// Mark is the MARK action normalised to --set-xmark form:
	// mark = (mark &^ Mask) ^ Value. Only meaningful when Name is MARK.
	Mark MarkAction
	// RejectWith is the REJECT --reject-with argument, empty if absent.
	RejectWith string
	// RandomFully is MASQUERADE/SNAT --random-fully.
	RandomFully bool
	// Options holds target options this package does not model, verbatim.
	Options []Option
}

// MarkAction is a MARK target in the kernel's xmark form.
type MarkAction struct {
	Value, Mask uint32
	Set         bool
}

// Apply returns mark after the action.
func (m MarkAction) Apply(mark uint32) uint32 {
	if !m.Set {
		return mark
	}
	return (mark &^ m.Mask) ^ m.Value
}

// String renders the action as iptables-save prints it.
func (m MarkAction) String() string {
	return fmt.Sprintf("--set-xmark %#x/%#x", m.Value, m.Mask)
}

// Table returns the named table or nil.
func (d *Dump) Table(name string) *Table {
	if d == nil {
		return nil
	}
	return d.tables[name]
}

// Chain returns the chain in the named table, or nil when either is absent.
func (d *Dump) Chain(table, chain string) *Chain {
	return d.Table(table).Chain(chain)
}

// Lines is the number of lines the dump had.
func (d *Dump) Lines() int { return d.lines }

// RulesForService returns the rules whose comment names the service port
// portName ("ns/name:port", or "ns/name" for an unnamed port; the old
// "ns/name:" spelling is found too), in dump order per table.
func (d *Dump) RulesForService(portName string) []*Rule {
	if d == nil {
		return nil
	}
	return d.byService[trimPortColon(portName)]
}

// Chain returns the named chain or nil.
func (t *Table) Chain(name string) *Chain {
	if t == nil {
		return nil
	}
	return t.chains[name]
}

// Builtin reports whether the chain is a built-in one (it has a policy).
func (c *Chain) Builtin() bool { return c.Policy != "-" && c.Policy != "" }

// Comment returns the rule's comments joined by "; ", or "".
func (r *Rule) Comment() string {
	s := ""
	for _, m := range r.Matches {
		if c, ok := m.(*CommentMatch); ok {
			if s != "" {
				s += "; "
			}
			s += c.Text
		}
	}
	return s
}

// HasUnknown reports whether any match, option or target option of the rule
// was not understood.
func (r *Rule) HasUnknown() bool {
	for _, m := range r.Matches {
		if o, ok := m.(*OtherMatch); ok && !o.Known {
			return true
		}
	}
	for _, o := range r.Target.Options {
		if o.Unknown {
			return true
		}
	}
	return false
}

// Statistic returns the rule's statistic match, or nil.
func (r *Rule) Statistic() *StatisticMatch {
	for _, m := range r.Matches {
		if s, ok := m.(*StatisticMatch); ok {
			return s
		}
	}
	return nil
}

// String returns where the rule is, for messages: "nat KUBE-SERVICES line 12".
func (r *Rule) String() string {
	return fmt.Sprintf("%s %s line %d", r.Table, r.Chain, r.Line)
}
