// Package ipvs models the Linux IPVS table as kube-proxy's IPVS mode programs it.
//
// It reads the table from text (`ipvsadm -Ln`, `ipvsadm-save -n`), computes
// the state kube-proxy should have programmed for one Service (Expected),
// walks a packet from a VIP:port/protocol to the real servers with the
// share each receives (Walk), compares expected with actual state (Drift),
// and implements dataplane.Proxier for the IPVS mode (Proxier).
//
// The package is pure: values in, values out. Reading and programming the
// kernel's table is package kernel/ipvs's.
package ipvs
