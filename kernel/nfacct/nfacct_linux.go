package nfacct

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

const (
	subsysAcct = 7 // NFNL_SUBSYS_ACCT
	msgAcctNew = 0 // NFNL_MSG_ACCT_NEW
	attrName   = 1 // NFACCT_NAME
)

// Ensure creates the named counter in the current network namespace unless
// it exists.
func Ensure(name string) error {
	req := nl.NewNetlinkRequest(subsysAcct<<8|msgAcctNew, unix.NLM_F_CREATE|unix.NLM_F_ACK)
	req.AddData(&nl.Nfgenmsg{NfgenFamily: unix.AF_UNSPEC, Version: nl.NFNETLINK_V0})
	req.AddData(nl.NewRtAttr(attrName, nl.ZeroTerminated(name)))
	_, err := req.Execute(unix.NETLINK_NETFILTER, 0)
	// The kernel answers EBUSY (or EEXIST) for a counter that exists.
	if err == nil || errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
		return nil
	}
	return fmt.Errorf("create nfacct counter %s: %w (load the nfnetlink_acct module)", name, err)
}
