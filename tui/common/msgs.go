package common

import (
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TraceMsg carries a freshly loaded trace.
type TraceMsg struct{ Trace *trace.Trace }

// ReloadErrMsg reports a failed reload; the previous data stays on screen.
type ReloadErrMsg struct{ Err error }

// UpdateMsg says the cluster changed and the trace should be reloaded.
type UpdateMsg struct{}

// JumpMsg asks the Path screen to select the item a finding is about.
type JumpMsg struct{ Subject string }
