//go:build linux

// Command measure runs a command and prints its wall time, CPU time (user
// plus system) and peak resident set size, the figures hack/bench-scale.sh
// records; with -runs N it prints the best of N runs.
//
//	go run ./hack/measure -runs 3 -- bin/kubectl-svctrace web -f dump.yaml
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 1, "runs; the fastest is printed")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure [-runs N] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	var best result
	for i := range *runs {
		r, err := run(flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "measure:", err)
			os.Exit(1)
		}
		if i == 0 || r.wall < best.wall {
			best = r
		}
	}
	fmt.Printf("wall_s=%.2f cpu_s=%.2f rss_mb=%.0f\n", best.wall.Seconds(), best.cpu.Seconds(), best.rssMB)
}

type result struct {
	wall, cpu time.Duration
	rssMB     float64
}

func run(args []string) (result, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	// Exit code 3 means the trace found errors: the run still counts.
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		return result{}, fmt.Errorf("%s: %w", args[0], err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return result{}, errors.New("no resource usage on this system")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return result{wall: wall, cpu: cpu, rssMB: float64(ru.Maxrss) / 1024}, nil
}
