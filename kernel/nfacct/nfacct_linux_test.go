package nfacct

import (
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestEnsureLetsIptablesUseTheCounter creates the counter twice in a
// private namespace (the second call finds it) and loads a rule naming it,
// which iptables-restore refuses without it.
func TestEnsureLetsIptablesUseTheCounter(t *testing.T) {
	netnstest.Require(t, "ip", "iptables-nft-restore")
	ns := netnstest.New(t, "nfacct")
	rule := "*filter\n:X - [0:0]\n-A X -m nfacct --nfacct-name " + InvalidDropped + " -j DROP\nCOMMIT\n"
	netnstest.Do(t, ns, func() {
		for i := 0; i < 2; i++ {
			if err := Ensure(InvalidDropped); err != nil {
				t.Fatalf("Ensure #%d: %v", i+1, err)
			}
		}
	})
	netnstest.Exec(t, ns, rule, "iptables-nft-restore", "--noflush")
	if out := netnstest.Exec(t, ns, "", "iptables-nft-save", "-t", "filter"); !strings.Contains(out, InvalidDropped) {
		t.Errorf("rule with the counter not loaded:\n%s", out)
	}
}
