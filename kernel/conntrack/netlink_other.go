//go:build !linux

package conntrack

import (
	"context"
	"errors"

	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
)

// Netlink reports errNoConntrack outside Linux; Interface and
// conntracktest.Fake still work.
type Netlink struct{}

var errNoConntrack = errors.New("conntrack is only available on linux")

// List implements Interface.
func (Netlink) List(context.Context) ([]model.Entry, error) { return nil, errNoConntrack }

// Delete implements Interface.
func (Netlink) Delete(context.Context, ...Filter) (int, error) { return 0, errNoConntrack }
