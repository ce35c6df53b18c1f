package ipvs

import (
	"fmt"
	"strings"
)

// FormatSave prints t as `ipvsadm-save -n` does, so ParseSave reads it back.
// The local-node forwarding method prints as -g, as in ipvsadm.
func FormatSave(t Table) string {
	var b strings.Builder
	for _, vs := range t.VirtualServers {
		writeSaveService(&b, vs)
	}
	return b.String()
}

// Selector is how ipvsadm names vs on its command line: "-t 10.96.0.1:443",
// "-u …", "--sctp-service …" or "-f MARK".
func Selector(vs VirtualServer) string {
	if vs.FWMark != 0 {
		if vs.IPv6 {
			return fmt.Sprintf("-f %d -6", vs.FWMark)
		}
		return fmt.Sprintf("-f %d", vs.FWMark)
	}
	flag := map[Protocol]string{TCP: "-t", UDP: "-u", SCTP: "--sctp-service"}[vs.Protocol]
	return flag + " " + vs.Key()[:strings.LastIndexByte(vs.Key(), '/')]
}

func writeSaveService(b *strings.Builder, vs VirtualServer) {
	sel := Selector(vs)
	fmt.Fprintf(b, "-A %s -s %s", sel, vs.Scheduler)
	if vs.Persistent() {
		fmt.Fprintf(b, " -p %d", vs.Timeout)
		if vs.Netmask != 0 {
			fmt.Fprintf(b, " -M %s", maskString(vs))
		}
	}
	if vs.PE != "" {
		fmt.Fprintf(b, " --pe %s", vs.PE)
	}
	if f := schedFlagString(vs.Scheduler, vs.Flags); f != "" {
		fmt.Fprintf(b, " -b %s", f)
	}
	if vs.Flags&FlagOnePacket != 0 {
		b.WriteString(" -o")
	}
	b.WriteByte('\n')
	for _, rs := range vs.RealServers {
		fwd := map[ForwardMethod]string{Masquerade: "-m", Tunnel: "-i"}[rs.Forward]
		if fwd == "" {
			fwd = "-g"
		}
		fmt.Fprintf(b, "-a %s -r %s %s -w %d\n", sel, rs.Key(), fwd, rs.Weight)
	}
}

// String prints the expected state: the kube-ipvs0 addresses, then each
// virtual server in ipvsadm-save form under a comment naming its role.
func (e Expected) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# service %s\n", e.Service)
	if e.Skipped != "" {
		fmt.Fprintf(&b, "# skipped: %s\n", e.Skipped)
		return b.String()
	}
	for _, a := range e.Bound {
		fmt.Fprintf(&b, "# bound on %s: %s\n", DummyInterface, a)
	}
	for _, vs := range e.VirtualServers {
		fmt.Fprintf(&b, "# %s %s\n", vs.PortName, vs.Role)
		writeSaveService(&b, vs.VirtualServer)
	}
	return b.String()
}

// Table returns a copy of the expected virtual servers as a Table.
func (e Expected) Table() Table {
	t := Table{}
	for _, vs := range e.VirtualServers {
		v := vs.VirtualServer
		v.RealServers = append([]RealServer(nil), v.RealServers...)
		t.VirtualServers = append(t.VirtualServers, v)
	}
	t.Sort()
	return t
}
