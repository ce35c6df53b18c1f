package hostexec

import (
	"errors"
	"fmt"
	"path"
	"reflect"
	"testing"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want Plan
	}{
		{[]string{"chroot", "/host", "/usr/sbin/iptables-save", "-c"}, Plan{"/host", []string{"/usr/sbin/iptables-save", "-c"}}},
		{[]string{"/usr/sbin/chroot", "--", "/h", "uname", "-r"}, Plan{"/h", []string{"uname", "-r"}}},
		{[]string{"/usr/sbin/iptables-nft-save", "-t", "nat"}, Plan{"/host", []string{"iptables-nft-save", "-t", "nat"}}},
		{[]string{"nft", "-j", "list", "ruleset"}, Plan{"/host", []string{"nft", "-j", "list", "ruleset"}}},
	} {
		got, err := Resolve(tc.argv, "/host")
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v", tc.argv, got, err, tc.want)
		}
	}
}

func TestResolveBadInput(t *testing.T) {
	for _, argv := range [][]string{nil, {"chroot"}, {"chroot", "/host"}, {"chroot", "--userspec=1:1", "/host", "id"}} {
		_, err := Resolve(argv, "/host")
		if !errors.Is(err, ErrUsage) || ExitCode(err) != 125 {
			t.Errorf("Resolve(%q): error %v (exit %d), want the usage error and exit 125", argv, err, ExitCode(err))
		}
	}
}

func TestExitCode(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("%w /host: permission denied", ErrChroot): 125,
		&NotFoundError{Name: "nft", Root: "/host"}:           127,
		errors.New("exec format error"):                      126,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// Every link the image makes must be a plain command name.
func TestTools(t *testing.T) {
	names := Tools()
	if len(names) < 10 {
		t.Fatalf("tools.txt names %d tools: %q", len(names), names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || n == "chroot" || n != path.Base(n) {
			t.Errorf("tools.txt: %q is repeated, chroot or not a plain name", n)
		}
		seen[n] = true
	}
}
