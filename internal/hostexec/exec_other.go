//go:build !linux

package hostexec

import "errors"

// Exec is Linux only: the image it serves runs on Linux nodes.
func Exec(Plan) error { return errors.New("hostexec: only runs on Linux") }
