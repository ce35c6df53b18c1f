package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/yaml"

	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/termsafe/termsafetest"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestTextEscapesEveryField fails when a control character put in any
// field of the trace reaches the text or wide output raw, with colour on
// (our own colour sequences allowed) or off.
func TestTextEscapesEveryField(t *testing.T) {
	for _, bools := range []bool{true, false} {
		for _, o := range []render.TextOptions{{}, {Wide: true}, {Color: true}, {Color: true, Wide: true}} {
			t.Run(fmt.Sprintf("bools=%v/wide=%v/color=%v", bools, o.Wide, o.Color), func(t *testing.T) {
				tr := termsafetest.Filled[trace.Trace](t, bools)
				var out bytes.Buffer
				if err := render.Text(&out, tr, o); err != nil {
					t.Fatal(err)
				}
				for _, l := range termsafetest.Leaks(out.String(), o.Color) {
					t.Errorf("control character reached the output raw: %s", l)
				}
				if !strings.Contains(out.String(), termsafetest.EscapedMarker) {
					t.Errorf("output shows no escaped payload %q, so the test checked nothing:\n%s", termsafetest.EscapedMarker, out.String())
				}
				if o.Color && !strings.Contains(out.String(), "\x1b[") {
					t.Error("colour on, but the output has no colour sequence: escaping must not touch our own styling")
				}
				if tr.Findings[0].Message != "Trace.Findings[0].Message:"+termsafetest.Payload {
					t.Errorf("Text changed the trace it was given: %q", tr.Findings[0].Message)
				}
			})
		}
	}
}

// TestDocumentsKeepControlCharacters checks that JSON and YAML carry the
// same hostile strings losslessly, escaped by their encoders, never raw.
func TestDocumentsKeepControlCharacters(t *testing.T) {
	for name, write := range map[string]func(*bytes.Buffer, *trace.Trace) error{
		"json": func(b *bytes.Buffer, tr *trace.Trace) error { return render.JSON(b, tr) },
		"yaml": func(b *bytes.Buffer, tr *trace.Trace) error { return render.YAML(b, tr) },
	} {
		t.Run(name, func(t *testing.T) {
			tr := termsafetest.Filled[trace.Trace](t, true)
			var out bytes.Buffer
			if err := write(&out, tr); err != nil {
				t.Fatal(err)
			}
			for _, l := range termsafetest.Leaks(out.String(), false) {
				t.Errorf("control character raw in %s: %s", name, l)
			}
			back := render.Document{Trace: &trace.Trace{}}
			if err := yaml.Unmarshal(out.Bytes(), &back); err != nil {
				t.Fatalf("read %s back: %v", name, err)
			}
			// JSON carries text, so a byte that is not UTF-8 becomes
			// U+FFFD; everything else must come back as it was.
			var want trace.Trace
			if err := termsafetest.FillWith(&want, true, strings.ToValidUTF8(termsafetest.Payload, "\uFFFD")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, back.Trace, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})); diff != "" {
				t.Errorf("%s lost data (-written +read back):\n%s", name, diff)
			}
			if name == "json" && !json.Valid(out.Bytes()) {
				t.Error("invalid JSON")
			}
		})
	}
}

// TestYAMLStartsWithAPIVersionAndKind checks the header kubectl users
// expect comes first, and that fields keep the order of the JSON.
func TestYAMLStartsWithAPIVersionAndKind(t *testing.T) {
	var out bytes.Buffer
	if err := render.YAML(&out, termsafetest.Filled[trace.Trace](t, true)); err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: " + render.APIVersion + "\nkind: " + render.Kind + "\nsummary:\n"
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("yaml starts with %q, want %q", out.String()[:min(out.Len(), len(want))], want)
	}
	if s, f := strings.Index(out.String(), "\nservice:"), strings.Index(out.String(), "\nfindings:"); s < 0 || f < s {
		t.Errorf("service at %d, findings at %d: want the order of the JSON fields", s, f)
	}
}
