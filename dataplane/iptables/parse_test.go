package iptables

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"rule outside table", "-A FOO -j ACCEPT\n", 1, "outside a table"},
		{"no commit", "*nat\n:A - [0:0]\n", 2, "has no COMMIT"},
		{"undeclared chain", "*nat\n-A NOPE -j ACCEPT\nCOMMIT\n", 2, `chain "NOPE" is not declared`},
		{"bad counters", "*nat\n:A - [x:0]\nCOMMIT\n", 2, "bad counters"},
		{"bad address", "*nat\n:A - [0:0]\n-A A -s 10.0.0.300 -j ACCEPT\nCOMMIT\n", 3, `-s "10.0.0.300"`},
		{"bad port", "*nat\n:A - [0:0]\n-A A -p tcp -m tcp --dport http -j ACCEPT\nCOMMIT\n", 3, `port "http"`},
		{"missing argument", "*nat\n:A - [0:0]\n-A A -j\nCOMMIT\n", 3, "needs an argument"},
		{"open quote at end", "*nat\n:A - [0:0]\n-A A -m comment --comment \"abc\n", 3, "unterminated double quote"},
		{"bad probability", "*nat\n:A - [0:0]\n-A A -m statistic --mode random --probability 2 -j A\nCOMMIT\n", 3, "--probability"},
		{"two targets", "*nat\n:A - [0:0]\n-A A -j ACCEPT -j DROP\nCOMMIT\n", 3, "second target"},
		{"dangling negation", "*nat\n:A - [0:0]\n-A A !\nCOMMIT\n", 3, "negates nothing"},
		{"stray word", "*nat\n:A - [0:0]\n-A A foo\nCOMMIT\n", 3, `unexpected argument "foo"`},
		{"table in table", "*nat\n*filter\n", 2, "before table"},
		{"declared twice", "*nat\n:A - [0:0]\n:A - [0:0]\nCOMMIT\n", 3, "declared twice"},
		{"bad mark", "*nat\n:A - [0:0]\n-A A -j MARK --or-mark zz\nCOMMIT\n", 3, "--or-mark"},
		{"unsupported command", "*nat\n:A - [0:0]\n-D A 1\nCOMMIT\n", 3, "unsupported command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want *ParseError, got %v", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %q, want line %d containing %q", err, tc.line, tc.msg)
			}
		})
	}
}

func parseRule(t *testing.T, rule string) *Rule {
	t.Helper()
	d, err := Parse("*nat\n:C - [0:0]\n" + rule + "\nCOMMIT\n")
	if err != nil {
		t.Fatal(err)
	}
	rs := d.Chain("nat", "C").Rules
	if len(rs) != 1 {
		t.Fatalf("want one rule, got %d", len(rs))
	}
	return rs[0]
}

// TestParseRule checks that each spelling kube-proxy writes or iptables-save
// prints back parses to the same structure, rendered in save syntax.
func TestParseRule(t *testing.T) {
	tests := []struct {
		name, rule string
		matches    []string
		target     string
	}{
		{"restore style", `-A C -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
			[]string{`-m comment --comment "ns1/svc1:p80 cluster IP"`, "-m tcp --dport 80"}, "-j KUBE-MARK-MASQ"},
		{"save style with counters", `[12:720] -A C ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
			[]string{`-m comment --comment "ns1/svc1:p80 cluster IP"`, "-m tcp --dport 80"}, "-j KUBE-MARK-MASQ"},
		{"implicit tcp", `-A C -p tcp --dport 30000:30100 -j ACCEPT`, []string{"-m tcp --dport 30000:30100"}, "-j ACCEPT"},
		{"bare comment", `-A C -m comment --comment ns1/svc1:p80 -j RETURN`, []string{`-m comment --comment "ns1/svc1:p80"`}, "-j RETURN"},
		{"escaped quotes", `-A C -m comment --comment "say \"hi\" it\'s" -j RETURN`, []string{`-m comment --comment "say \"hi\" it\'s"`}, "-j RETURN"},
		{"or-mark", `-A C -j MARK --or-mark 0x4000`, nil, "-j MARK --set-xmark 0x4000/0x4000"},
		{"xor-mark", `-A C -j MARK --xor-mark 0x4000`, nil, "-j MARK --set-xmark 0x4000/0x0"},
		{"set-mark", `-A C -j MARK --set-mark 0x1/0xf`, nil, "-j MARK --set-xmark 0x1/0xf"},
		{"mark match", `-A C -m mark ! --mark 0x4000/0x4000 -j RETURN`, []string{"-m mark ! --mark 0x4000/0x4000"}, "-j RETURN"},
		{"old probability", `-A C -m statistic --mode random --probability 0.33333 -j X`, []string{"-m statistic --mode random --probability 0.33333"}, "-j X"},
		{"recent restore", `-A C -m recent --name KUBE-SEP-A --rcheck --seconds 10800 --reap -j KUBE-SEP-A`,
			[]string{"-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --rsource"}, "-j KUBE-SEP-A"},
		{"recent save", `-A C -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A`,
			[]string{"-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource"}, "-j KUBE-SEP-A"},
		{"ipset", `-A C -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`, []string{"-m set --match-set KUBE-CLUSTER-IP dst,dst"}, "-j ACCEPT"},
		{"conntrack", `-A C -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`, []string{"-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"}, "-j DROP"},
		{"physdev kept", `-A C -m physdev --physdev-is-in --physdev-in veth+ -j ACCEPT`, []string{"-m physdev --physdev-is-in --physdev-in veth+"}, "-j ACCEPT"},
		{"unknown module kept", `-A C -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP`, []string{"-m nfacct --nfacct-name ct_state_invalid_dropped_pkts"}, "-j DROP"},
		{"unknown target option kept", `-A C -j CT --notrack`, nil, "-j CT --notrack"},
		{"dnat", `-A C -m tcp -p tcp -j DNAT --to-destination [fd00::1]:80`, []string{"-m tcp"}, "-j DNAT --to-destination [fd00::1]:80"},
		{"masquerade", `-A C -j MASQUERADE --random-fully`, nil, "-j MASQUERADE --random-fully"},
		{"goto", `-A C -g KUBE-SVC-A`, nil, "-g KUBE-SVC-A"},
		{"addrtype", `-A C -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`, []string{"-m addrtype --dst-type LOCAL"}, "-j KUBE-NODEPORTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := parseRule(t, tc.rule)
			var got []string
			for _, m := range r.Matches {
				got = append(got, m.String())
			}
			if diff := cmp.Diff(tc.matches, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
			if got := targetString(r.Target); got != tc.target {
				t.Errorf("target %q, want %q", got, tc.target)
			}
		})
	}
}

func targetString(t Target) string {
	s := "-j " + t.Name
	if t.Goto {
		s = "-g " + t.Name
	}
	switch {
	case t.Name == "MARK":
		s += " " + t.Mark.String()
	case t.ToDestination != "":
		s += " --to-destination " + t.ToDestination
	case t.RandomFully:
		s += " --random-fully"
	}
	for _, o := range t.Options {
		s += " " + o.String()
	}
	return s
}

func TestParseUnknownIsMarked(t *testing.T) {
	r := parseRule(t, `-A C -m nfacct --nfacct-name x -j DROP`)
	if !r.HasUnknown() {
		t.Error("rule with an unknown module is not marked unknown")
	}
	r = parseRule(t, `-A C -m physdev --physdev-in eth0 -j DROP`)
	if r.HasUnknown() {
		t.Error("physdev is known syntax, yet marked unknown")
	}
	r = parseRule(t, `-A C -j ACCEPT --frob 1`)
	if !r.HasUnknown() || len(r.Target.Options) != 1 || r.Target.Options[0].String() != "--frob 1" {
		t.Errorf("unknown target option not kept: %+v", r.Target)
	}
}

func TestParseDump(t *testing.T) {
	for _, name := range []string{"kube-proxy.restore", "kube-proxy-nft.save", "kube-proxy-legacy.save"} {
		t.Run(name, func(t *testing.T) {
			d := mustParseFile(t, name)
			svc := d.Chain("nat", "KUBE-SVC-XPGD46QRK7WJZT7O")
			if svc == nil || len(svc.Rules) != 4 {
				t.Fatalf("KUBE-SVC-XPGD46QRK7WJZT7O: %+v", svc)
			}
			for _, r := range svc.Rules {
				if !strings.Contains(readText(t, name), r.Text) {
					t.Errorf("rule text %q is not a line of the dump", r.Text)
				}
				if r.Line < 1 || r.Line > d.Lines() {
					t.Errorf("rule line %d out of range", r.Line)
				}
			}
			if got := len(d.RulesForService("ns1/svc1:p80")); got != 13 {
				t.Errorf("RulesForService(ns1/svc1:p80) = %d rules, want 13", got)
			}
			if d.Chain("filter", "KUBE-SERVICES") == nil || d.Table("mangle") != nil {
				t.Error("table index wrong")
			}
		})
	}
}

func TestParseMultilineComment(t *testing.T) {
	d, err := Parse("*filter\n:A - [0:0]\n-A A -m comment --comment \"two\nlines\" -j RETURN\n-A A -j ACCEPT\nCOMMIT\n")
	if err != nil {
		t.Fatal(err)
	}
	rs := d.Chain("filter", "A").Rules
	if len(rs) != 2 || rs[0].Comment() != "two\nlines" || rs[1].Line != 5 {
		t.Errorf("got %d rules, first comment %q, second at line %d", len(rs), rs[0].Comment(), rs[1].Line)
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"plain_1-x", "ns/svc:p80", "with space", `q"uote`, `back\slash`, "it's", ""} {
		got, err := splitArgs("--comment "+savefmt.Quote(s), nil)
		if err != nil || len(got) != 2 || got[1] != s {
			t.Errorf("savefmt.Quote(%q) = %s, splits back to %q (%v)", s, savefmt.Quote(s), got, err)
		}
	}
	if savefmt.Quote("plain_1-x") != "plain_1-x" || savefmt.Quote("a b") != `"a b"` {
		t.Error("quote does not follow xtables_save_string")
	}
}
