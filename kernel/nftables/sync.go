package nftables

import (
	"context"
	"fmt"

	"sigs.k8s.io/knftables"
)

// Sync makes nft's table hold exactly objs (what
// dataplane/nftables.Want.Objects lists): in one transaction it adds the
// table, flushes it and adds every object, so the table's rules and
// elements are objs' whatever they were. Chains and sets of the table
// that objs lack stay, empty.
func Sync(ctx context.Context, nft knftables.Interface, objs []knftables.Object) error {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Flush(&knftables.Table{})
	for _, o := range objs {
		tx.Add(o)
	}
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("program the kube-proxy table (%d objects): %w", tx.NumOperations(), err)
	}
	return nil
}
