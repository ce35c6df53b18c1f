//go:build !linux

package nfacct

import "errors"

// Ensure fails: nfacct counters exist only on Linux.
func Ensure(name string) error {
	return errors.New("nfacct counters need Linux")
}
