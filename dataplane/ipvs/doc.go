// Package ipvs models the Linux IPVS table as kube-proxy's IPVS mode programs it.
//
// It reads the table from text (`ipvsadm -Ln`, `ipvsadm-save -n`) or from the
// kernel (Kernel, backed by netlink), computes the state kube-proxy should
// have programmed for one Service (Expected), walks a packet from a
// VIP:port/protocol to the real servers with the share each receives (Walk),
// and compares expected with actual state (Drift).
//
// Everything except the netlink Kernel is pure: values in, values out.
package ipvs
