//go:build !linux

package main

import (
	"context"
	"errors"

	"github.com/svctrace/kubectl-svctrace/proxy"
)

type serveMode struct {
	proxy.Mode
	state proxy.StateFunc
}

func (s *serveOptions) newMode(context.Context, *options) (*serveMode, error) {
	return nil, errors.New("--serve programs a Linux node's dataplane: run it on Linux")
}
