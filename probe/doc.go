// Package probe runs the Debug Services guide's active checks from where
// traffic really starts: a pod (as an ephemeral container), a node, or a
// short-lived pod. The client builds a Plan from the trace's view of the
// Service; the plugin's binary runs it inside the cluster (Run) and writes a
// Report on its standard output, which the client reads back from the
// container's log (Decode) and turns into the trace's observations.
//
// Traffic only ever leaves from inside the cluster: the plugin never sends
// packets from the user's machine to a Service or pod address.
package probe
