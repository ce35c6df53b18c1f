package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSpec describes a long-running process of the cluster.
type procSpec struct {
	name  string   // log file and manifest name, e.g. "kube-apiserver"
	netns string   // run inside this network namespace when set
	path  string   // executable
	args  []string // arguments after path
	// env, when set, replaces the environment (pods do not inherit the
	// test's).
	env []string
}

// process is a started child. done closes when it has exited and been reaped.
type process struct {
	rec  procRecord
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done
}

// startProcess starts spec with its output in <logDir>/<name>.log and records
// it in the manifest. Each child leads its own process group so teardown can
// also stop what it forks (kube-proxy runs iptables-restore), and gets
// SIGKILL if this process dies without tearing down.
func startProcess(m *manifest, logDir string, spec procSpec) (*process, error) {
	logPath := filepath.Join(logDir, spec.name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log for %s: %w", spec.name, err)
	}
	defer logFile.Close()

	argv := append([]string{spec.path}, spec.args...)
	if spec.netns != "" {
		// ip netns exec execs the command without forking, so the PID
		// recorded below is the command's own.
		argv = append([]string{"ip", "netns", "exec", spec.netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if spec.env != nil {
		cmd.Env = spec.env
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.name, spec.path, err)
	}
	p := &process{log: logPath, cmd: cmd, done: make(chan struct{})}
	p.rec = procRecord{Name: spec.name, PID: cmd.Process.Pid, Start: procStartTime(cmd.Process.Pid)}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := m.addProcess(p.rec); err != nil {
		_ = syscall.Kill(-p.rec.PID, syscall.SIGKILL)
		<-p.done
		return nil, err
	}
	return p, nil
}

// exited reports whether the process is gone, with the reason for errors.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, fmt.Errorf("%s exited: %v; see %s", p.rec.Name, p.err, p.log)
	default:
		return false, nil
	}
}

// stop ends the process group and waits for the child to be reaped.
func (p *process) stop(m *manifest, grace time.Duration) error {
	errs := stopProcesses([]procRecord{p.rec}, grace)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		errs = append(errs, fmt.Errorf("%s (pid %d) was not reaped", p.rec.Name, p.rec.PID))
	}
	if len(errs) == 0 {
		return m.forgetProcess(p.rec.PID)
	}
	return errs[0]
}

// alive reports whether the recorded process still runs. A zombie counts as
// gone, and so does a different process that reuses the PID.
func alive(p procRecord) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return false
	}
	fields := statFields(data)
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return false
	}
	start, _ := strconv.ParseUint(fields[19], 10, 64)
	return p.Start == 0 || start == p.Start
}

// procStartTime returns field 22 of /proc/PID/stat, or 0 when unreadable.
func procStartTime(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := statFields(data)
	if len(fields) < 20 {
		return 0
	}
	start, _ := strconv.ParseUint(fields[19], 10, 64)
	return start
}

// statFields splits /proc/PID/stat after the command name, which may hold
// spaces and parentheses; the first field returned is the state (field 3).
func statFields(data []byte) []string {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// run executes a short command and returns its standard output; the error
// names the command and carries its output, which says what went wrong.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	// Standard output only, as `kubectl debug … > file` captures it: tools
	// write warnings to standard error at any point (iptables-nft-save's
	// "# Warning: iptables-legacy tables present" can land mid-line), and
	// mixed into a dump they corrupt it.
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(append(out, stderr.Bytes()...)))
	}
	return out, nil
}
