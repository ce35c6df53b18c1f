package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/svctrace/kubectl-svctrace/demo"
	"github.com/svctrace/kubectl-svctrace/termsafe/termsafetest"
)

// TestHostileEventIsEscaped is the attack of issue 15 end to end: someone
// who may create events writes one about the Service and one about a pod
// with terminal control sequences. The text outputs show them escaped;
// JSON keeps them exactly.
func TestHostileEventIsEscaped(t *testing.T) {
	objs, err := demo.Objects()
	if err != nil {
		t.Fatal(err)
	}
	for i, about := range []corev1.ObjectReference{
		{Kind: "Service", Namespace: demo.Namespace, Name: demo.Service},
		{Kind: "Pod", Namespace: demo.Namespace, Name: "hostnames-6f8b9c7d54-tv2rp"},
	} {
		objs = append(objs, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: demo.Namespace, Name: "hostile-" + about.Kind},
			InvolvedObject: about, Type: corev1.EventTypeWarning, Reason: "Unhealthy" + termsafetest.Payload,
			Message: "message " + termsafetest.Payload, Count: int32(i + 1),
			LastTimestamp: metav1.Now(),
		})
	}
	client := fake.NewClientset(objs...)
	for _, output := range []string{"", "wide"} {
		for _, tty := range []bool{false, true} {
			r := runWith(t, client, tty, nil, "-n", demo.Namespace, demo.Service, "-o", output)
			for _, l := range termsafetest.Leaks(r.out, tty) {
				t.Errorf("-o %q tty=%v: control character raw: %s", output, tty, l)
			}
			if !strings.Contains(r.out, "Unhealthy"+termsafetest.EscapedMarker) {
				t.Errorf("-o %q: the hostile event is not shown escaped:\n%s", output, r.out)
			}
		}
	}
	r := runWith(t, client, false, nil, "-n", demo.Namespace, demo.Service, "-o", "json")
	if strings.ContainsRune(r.out, '\x1b') || !json.Valid([]byte(r.out)) || !strings.Contains(r.out, `message \u001b]0;pwned\u0007`) {
		t.Errorf("json does not carry the event escaped by the encoder:\n%s", r.out)
	}
}

// TestErrorsAreEscaped checks that an error quoting the API server cannot
// drive the terminal either.
func TestErrorsAreEscaped(t *testing.T) {
	c := fake.NewClientset()
	c.PrependReactor("get", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New(termsafetest.Payload))
	})
	r := runWith(t, c, false, nil, "web")
	if r.code != ExitFailed || len(termsafetest.Leaks(r.errOut, false)) > 0 || !strings.Contains(r.errOut, termsafetest.EscapedMarker) {
		t.Errorf("code %d, stderr %q: want exit 1 and the error escaped", r.code, r.errOut)
	}
}
