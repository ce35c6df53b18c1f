package source

import (
	"context"
	"strings"
	"testing"
)

// hostileEvent is an Event as kubectl get events -o json writes it when its
// message carries terminal control sequences: escaped as \u001b and \u0007.
const hostileEvent = `{"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1","namespace":"default"},
 "involvedObject":{"kind":"Service","name":"web","namespace":"default"},"type":"Warning","reason":"Sync",
 "message":"\u001b]0;owned\u0007\u001b[2Jcleared"}`

const webService = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80}]}}`

// TestJSONEventWithControlCharactersLoads: one hostile event must not blind
// the trace. Its JSON is decoded as JSON, and the characters are kept for
// the output's escaper to show.
func TestJSONEventWithControlCharactersLoads(t *testing.T) {
	for name, input := range map[string]string{
		"values back to back": webService + "\n" + hostileEvent + "\n",
		"a List":              `{"apiVersion":"v1","kind":"List","items":[` + webService + ",\n" + hostileEvent + `]}`,
		"a JSON document in a YAML stream": "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\n" +
			`{"apiVersion":"v1","kind":"List","items":[` + webService + ",\n" + hostileEvent + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			store, err := Load(context.Background(), []string{"-"}, strings.NewReader(input), "default", Want{Namespace: "default", Service: "web"})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			in, err := Fetcher{Client: store, Offline: true}.Fetch(context.Background(), "default", "web")
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Events) != 1 || in.Events[0].Message != "\x1b]0;owned\x07\x1b[2Jcleared" {
				t.Errorf("events = %+v, want the message with its control characters", in.Events)
			}
		})
	}
}
