//go:build !linux

package ipset

import (
	"context"
	"errors"
)

// ErrNoIPSet means the platform has no ip_set.
var ErrNoIPSet = errors.New("ip sets need Linux")

// NewNetlink fails off Linux; Interface and ipsettest.Fake still work.
func NewNetlink(context.Context) (Interface, error) { return nil, ErrNoIPSet }
