package trace

import "encoding/json"

// MarshalJSON writes ok as null when no query was made: a check that did
// not run has no result, and false would read as a failed lookup.
func (c DNSCheck) MarshalJSON() ([]byte, error) {
	type fields DNSCheck // without this method
	var ok *bool
	if c.Queried {
		ok = &c.OK
	}
	return json.Marshal(struct {
		fields
		OK *bool `json:"ok"`
	}{fields(c), ok})
}
