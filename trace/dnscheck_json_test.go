package trace

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDNSCheckNotQueriedIsNull(t *testing.T) {
	for _, tt := range []struct {
		c    DNSCheck
		want string
	}{
		{DNSCheck{Name: "a.", Type: "A", Expected: []string{"10.0.0.1"}}, `"answered":null,"queried":false,"ok":null`},
		{DNSCheck{Name: "a.", Type: "A", Answered: []string{}, Queried: true}, `"queried":true,"ok":false`},
		{DNSCheck{Name: "a.", Type: "A", Answered: []string{"10.0.0.1"}, Queried: true, OK: true}, `"queried":true,"ok":true`},
	} {
		b, err := json.Marshal(tt.c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.want) || strings.Count(string(b), `"ok"`) != 1 {
			t.Errorf("%+v encodes as %s, want it to hold %s once", tt.c, b, tt.want)
		}
		var back DNSCheck
		if err := json.Unmarshal(b, &back); err != nil || back.OK != tt.c.OK || back.Queried != tt.c.Queried {
			t.Errorf("%s reads back as %+v (%v)", b, back, err)
		}
	}
}
