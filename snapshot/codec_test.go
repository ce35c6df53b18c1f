package snapshot

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sample() *Snapshot {
	return &Snapshot{
		Format: Format, Node: "node-1", Taken: time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC),
		Sections: []Section{
			{Name: IPTablesNFT, Source: "chroot /host /usr/sbin/iptables-nft-save -c", Output: "*nat\nCOMMIT\n", Filtered: true},
			{Name: IPVS, Source: "netlink", Error: "kernel has no IPVS"},
		},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := Encode(&b, sample()); err != nil {
		t.Fatal(err)
	}
	// A banner before and a line after the block, as kubectl debug prints.
	in := "Creating debugging pod node-debugger-node-1-abcde\n" + b.String() + "pod deleted\n"
	got, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(), got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for line := range strings.Lines(b.String()) {
		if len(line) > lineWidth+1 {
			t.Fatalf("line of %d bytes, want at most %d: logs split long lines", len(line), lineWidth)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, sample()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(good.String()), "\n")
	truncated := strings.Join(lines[:len(lines)-1], "\n")
	wrongFormat := encodeRaw(t, `{"format":"svctrace.dev/snapshot/v9","sections":[]}`)
	twice := encodeRaw(t, `{"format":"`+Format+`","sections":[{"name":"nft"},{"name":"nft"}]}`)
	bomb := encodeRaw(t, `{"format":"`+Format+`","node":"`+strings.Repeat("a", 4096)+`"}`)
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "no snapshot found"},
		{"error text", "error: exec: iptables-save: not found\n", "no snapshot found"},
		{"truncated", truncated, "truncated"},
		{"bad base64", beginLine + "\n!!!!\n" + endLine + "\n", "bad base64"},
		{"not gzip", beginLine + "\naGVsbG8=\n" + endLine + "\n", "not gzip"},
		{"wrong format", wrongFormat, `"svctrace.dev/snapshot/v9"`},
		{"section twice", twice, "appears twice"},
		{"expands too far", bomb, "expands to more than"},
		{"oversized", strings.Repeat("x", 8193), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Small limits stand in for MaxEncoded and MaxDecoded.
			_, err := decode(strings.NewReader(tc.in), 8192, 4096)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode: %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	if _, err := Decode(strings.NewReader("")); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("empty input: %v, want ErrNoSnapshot", err)
	}
}

// encodeRaw wraps JSON text in the snapshot block as Encode would.
func encodeRaw(t testing.TB, js string) string {
	t.Helper()
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	if _, err := gz.Write([]byte(js)); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return beginLine + "\n" + base64.StdEncoding.EncodeToString(z.Bytes()) + "\n" + endLine + "\n"
}

func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	if err := Encode(&good, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(beginLine + "\nH4sI\n" + endLine))
	f.Add([]byte(encodeRaw(f, `{"format":"`+Format+`","sections":[{"name":""}]}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(bytes.NewReader(b))
		if err != nil {
			if s != nil {
				t.Fatal("snapshot returned with an error")
			}
			return
		}
		if s.Format != Format {
			t.Fatalf("accepted format %q", s.Format)
		}
		// What was accepted encodes and decodes to the same.
		var again bytes.Buffer
		if err := Encode(&again, s); err != nil {
			t.Fatal(err)
		}
		s2, err := Decode(&again)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if diff := cmp.Diff(s, s2); diff != "" {
			t.Fatalf("re-decode differs:\n%s", diff)
		}
	})
}
