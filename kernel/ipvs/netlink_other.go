//go:build !linux

package ipvs

import (
	"context"
	"errors"
)

// ErrNoIPVS means the running kernel has no IPVS.
var ErrNoIPVS = errors.New("ipvs is only available on linux")

// NewNetlink fails outside Linux; Interface and ipvstest.Fake still work.
func NewNetlink(context.Context) (Interface, error) { return nil, ErrNoIPVS }

// CheckIPVS reports ErrNoIPVS outside Linux.
func CheckIPVS() error { return ErrNoIPVS }
