package probe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// marker starts the line that holds a report, so the client finds it in a
// container log among anything else the container wrote.
const marker = "svctrace-probe/v1 "

// MaxReport bounds the log read back: a plan of a few hundred targets
// reports in well under a megabyte, and the log is written by a container
// the client does not trust.
const MaxReport = 4 << 20

// ErrNoReport means the log held no report line.
var ErrNoReport = errors.New("no probe report in the output")

// Encode writes r as one marked line.
func Encode(w io.Writer, r *Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode probe report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s%s\n", marker, b)
	return err
}

// Decode finds the report line in r (at most MaxReport bytes) and decodes it.
func Decode(r io.Reader) (*Report, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxReport+1))
	if err != nil {
		return nil, fmt.Errorf("read probe output: %w", err)
	}
	if len(b) > MaxReport {
		return nil, fmt.Errorf("probe output exceeds %d bytes", MaxReport)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), MaxReport)
	for sc.Scan() {
		line, ok := bytes.CutPrefix(sc.Bytes(), []byte(marker))
		if !ok {
			continue
		}
		var rep Report
		if err := json.Unmarshal(line, &rep); err != nil {
			return nil, fmt.Errorf("decode probe report: %w", err)
		}
		return &rep, nil
	}
	return nil, ErrNoReport
}

// EncodePlan and DecodePlan carry a plan on the command line.
func EncodePlan(p Plan) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode probe plan: %w", err)
	}
	return string(b), nil
}

// DecodePlan reads a plan given on the command line, refusing unknown fields
// so that a plan from a newer client fails loudly instead of half-running.
func DecodePlan(s string) (Plan, error) {
	var p Plan
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return Plan{}, fmt.Errorf("read probe plan: %w", err)
	}
	return p, nil
}
