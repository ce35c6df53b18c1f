package proxy

import (
	"errors"
	"fmt"
	"strings"
)

// EachFamily runs do for each of a mode's programmers, one per IP family
// as kube-proxy runs one proxier per family, and merges their reports. A
// family that fails is named in the error and does not keep the others
// from running. family names a programmer's family ("IPv4", "IPv6");
// header heads its part of the changes (a comment line saying which
// command it is for). With one programmer its report is returned as is.
func EachFamily[M any](modes []M, family, header func(M) string, do func(M) (Report, error)) (Report, error) {
	if len(modes) == 1 {
		return do(modes[0])
	}
	all := Report{Repairs: map[string]int{}}
	var lines []string
	var errs []error
	for _, m := range modes {
		fam := family(m)
		rep, err := do(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fam, err))
		}
		all.Full = all.Full || rep.Full
		if rep.Changes != "" {
			all.Changes += header(m) + rep.Changes
		}
		lines = append(lines, fam+" "+rep.Summary)
		for k, n := range rep.Repairs {
			all.Repairs[k] += n
		}
	}
	all.Summary = strings.Join(lines, "; ")
	return all, errors.Join(errs...)
}
