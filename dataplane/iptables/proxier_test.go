package iptables

import (
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
)

func TestProxierInSync(t *testing.T) { dataplanetest.CheckInSync(t, Proxier{}) }
