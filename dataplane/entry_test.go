package dataplane

import (
	"encoding/json"
	"testing"
)

func TestEntryText(t *testing.T) {
	for _, e := range Entries {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal %v: %v", e, err)
		}
		var back Entry
		if err := json.Unmarshal(b, &back); err != nil || back != e {
			t.Errorf("%s read back as %v (%v)", b, back, err)
		}
	}
	if _, err := ParseEntry("outside"); err == nil {
		t.Error("ParseEntry(outside) succeeded")
	}
	for _, bad := range []Entry{0, 7} {
		if _, err := json.Marshal(bad); err == nil {
			t.Errorf("Entry(%d) marshalled", bad)
		}
	}
}

func TestLocatorOmitsUnsetFields(t *testing.T) {
	b, err := json.Marshal(Locator{Mode: ModeIPTables, Table: "nat", Chain: "KUBE-SERVICES", Line: 7})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"mode":"iptables","table":"nat","chain":"KUBE-SERVICES","line":7}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}
