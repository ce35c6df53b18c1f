package source

import (
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

func natDump(dst string) string {
	return "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-X - [0:0]\n" +
		"-A KUBE-SERVICES -d " + dst + " -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-X\nCOMMIT\n"
}

// A dual-stack node's two dumps land in their family's place, whichever
// flag carried the IPv6 one; two of one family are refused by name.
func TestIPTablesDumpsByFamily(t *testing.T) {
	v4, v6 := natDump("10.96.0.30/32"), natDump("fd00:10:96::30/128")
	type dump struct {
		kind       DumpKind
		name, text string
	}
	cases := []struct {
		name         string
		dumps        []dump
		wantErr      string
		want4, want6 string
	}{
		{"both flags", []dump{{IPTablesSave, "v4", v4}, {IP6TablesSave, "v6", v6}}, "", "v4", "v6"},
		{"ip6tables-save alone", []dump{{IP6TablesSave, "v6", v6}}, "", "", "v6"},
		{"an IPv6 dump as --iptables-save is read as it always was", []dump{{IPTablesSave, "v6", v6}}, "", "v6", ""},
		{"IPv4 rules in --ip6tables-save", []dump{{IP6TablesSave, "v4", v4}}, "--ip6tables-save v4 holds IPv4 rules", "", ""},
		{"two IPv6 dumps", []dump{{IPTablesSave, "a", v6}, {IP6TablesSave, "b", v6}}, "--ip6tables-save b and --iptables-save a both hold IPv6 rules", "", ""},
		{"two IPv6 dumps, the other order", []dump{{IP6TablesSave, "b", v6}, {IPTablesSave, "a", v6}}, "--iptables-save a and --ip6tables-save b both hold IPv6 rules", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &trace.DataplaneInput{}
			var err error
			for _, x := range tc.dumps {
				if err = ParseDump(x.kind, x.name, []byte(x.text), d); err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.IPTablesName != tc.want4 || d.IPTables6Name != tc.want6 {
				t.Errorf("dumps placed as --iptables-save %q, --ip6tables-save %q; want %q, %q", d.IPTablesName, d.IPTables6Name, tc.want4, tc.want6)
			}
		})
	}
}
