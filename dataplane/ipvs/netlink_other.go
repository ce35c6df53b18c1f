//go:build !linux

package ipvs

import (
	"context"
	"errors"
)

// ErrNoIPVS means the running kernel has no IPVS.
var ErrNoIPVS = errors.New("ipvs is only available on linux")

// NewNetlink fails outside Linux; the Kernel interface and Fake still work.
func NewNetlink(context.Context) (Kernel, error) { return nil, ErrNoIPVS }

// CheckIPVS reports ErrNoIPVS outside Linux.
func CheckIPVS() error { return ErrNoIPVS }
