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
	if _, err := json.Marshal(Entry(7)); err == nil {
		t.Error("Entry(7) marshalled")
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
