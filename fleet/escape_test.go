package fleet

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/termsafe/termsafetest"
)

// TestTextEscapesEveryField fills every string of the rows with control
// sequences and fails if any reaches the table raw; JSON keeps them
// escaped by the encoder.
func TestTextEscapesEveryField(t *testing.T) {
	rows := *termsafetest.Filled[[]Row](t, true)
	var text, js bytes.Buffer
	if err := Text(&text, "ns/svc"+termsafetest.Payload, rows, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, l := range termsafetest.Leaks(text.String(), false) {
		t.Errorf("control character raw in the table: %s", l)
	}
	if !strings.Contains(text.String(), termsafetest.EscapedMarker) {
		t.Errorf("the table shows no escaped payload:\n%s", text.String())
	}
	if err := JSON(&js, "ns/svc", rows); err != nil {
		t.Fatal(err)
	}
	for _, l := range termsafetest.Leaks(js.String(), false) {
		t.Errorf("control character raw in the JSON: %s", l)
	}
}
