package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The text form: a begin line, base64 lines of gzip-compressed JSON, an end
// line. Base64 in short lines survives container logs (which are split and
// stored per line) and terminals; anything around the block, such as a
// banner from kubectl debug, is ignored.
const (
	beginLine = "-----BEGIN SVCTRACE SNAPSHOT v1-----"
	endLine   = "-----END SVCTRACE SNAPSHOT-----"
	lineWidth = 76
)

// Limits on what Decode accepts, so a hostile or broken log cannot exhaust
// memory. A full snapshot of a node with 10,000 Services is well below them.
const (
	MaxEncoded = 64 << 20
	MaxDecoded = 512 << 20
)

// Encode writes s in the text form.
func Encode(w io.Writer, s *Snapshot) error {
	var z bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	if err := json.NewEncoder(gz).Encode(s); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("compress snapshot: %w", err)
	}
	enc := base64.StdEncoding.EncodeToString(z.Bytes())
	bw := bufio.NewWriter(w)
	bw.WriteString(beginLine + "\n")
	for len(enc) > 0 {
		n := min(lineWidth, len(enc))
		bw.WriteString(enc[:n])
		bw.WriteByte('\n')
		enc = enc[n:]
	}
	bw.WriteString(endLine + "\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// ErrNoSnapshot means the input holds no snapshot block at all: typically
// the agent failed before writing one, and the input is its error message.
var ErrNoSnapshot = errors.New("no snapshot found (no " + beginLine + " line)")

// Decode reads the first snapshot block of r. It refuses input over
// MaxEncoded, output over MaxDecoded, a truncated block, and a format
// version it does not know, each with an error naming the problem.
func Decode(r io.Reader) (*Snapshot, error) { return decode(r, MaxEncoded, MaxDecoded) }

func decode(r io.Reader, maxEncoded, maxDecoded int) (*Snapshot, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(maxEncoded)+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if len(b) > maxEncoded {
		return nil, fmt.Errorf("snapshot is larger than %s; refusing to read it", size(maxEncoded))
	}
	payload, err := block(b)
	if err != nil {
		return nil, err
	}
	z, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("snapshot is corrupt (bad base64: %v)", err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("snapshot is corrupt (not gzip: %v)", err)
	}
	raw, err := io.ReadAll(io.LimitReader(gz, int64(maxDecoded)+1))
	if err != nil {
		return nil, fmt.Errorf("snapshot is corrupt (gzip: %v)", err)
	}
	if len(raw) > maxDecoded {
		return nil, fmt.Errorf("snapshot expands to more than %s; refusing to read it", size(maxDecoded))
	}
	return unmarshal(raw)
}

// block returns the base64 text between the begin and end lines.
func block(b []byte) (string, error) {
	var payload strings.Builder
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case !in && strings.TrimSpace(line) == beginLine:
			in = true
		case in && strings.TrimSpace(line) == endLine:
			return payload.String(), nil
		case in:
			payload.WriteString(strings.TrimSpace(line))
		}
	}
	if !in {
		return "", ErrNoSnapshot
	}
	return "", errors.New("snapshot is truncated (no " + endLine + " line): the agent stopped early or the log was cut")
}

func unmarshal(raw []byte) (*Snapshot, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("snapshot is corrupt (JSON: %v)", err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("snapshot format %q is not %q: use a kubectl-svctrace of the agent's version", clip(head.Format, 80), Format)
	}
	var s Snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("snapshot is corrupt (JSON: %v)", err)
	}
	seen := map[string]bool{}
	for _, sec := range s.Sections {
		if sec.Name == "" {
			return nil, errors.New("snapshot is corrupt: a section has no name")
		}
		if seen[sec.Name] {
			return nil, fmt.Errorf("snapshot is corrupt: section %q appears twice", clip(sec.Name, 80))
		}
		seen[sec.Name] = true
	}
	return &s, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
