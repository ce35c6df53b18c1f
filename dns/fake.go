package dns

import (
	"context"
	"sync"
)

// Fake is an in-memory Resolver that serves a zone like an authoritative
// server: a known name and type gets its records, a name known only with
// other types gets an empty NOERROR (NODATA), anything else NXDOMAIN.
type Fake struct {
	mu      sync.Mutex
	records map[Question][]Record
	rcodes  map[Question]string
	names   map[string]bool
	err     error
	asked   []Question
}

var _ Resolver = (*Fake)(nil)

// NewFake returns a Fake serving records.
func NewFake(records ...Record) *Fake {
	f := &Fake{records: map[Question][]Record{}, rcodes: map[Question]string{}, names: map[string]bool{}}
	f.Add(records...)
	return f
}

// Add serves more records; a CNAME record also answers A and AAAA questions
// for its name, as a recursive server would, followed by the target's records.
func (f *Fake) Add(records ...Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range records {
		r.Name = fqdn(r.Name)
		q := Question{Name: r.Name, Type: r.Type}
		f.records[q] = append(f.records[q], r)
		f.names[r.Name] = true
	}
}

// SetRcode makes the question answer rcode (e.g. "SERVFAIL") with no records.
func (f *Fake) SetRcode(name string, t RecordType, rcode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rcodes[Question{Name: fqdn(name), Type: t}] = rcode
}

// SetErr makes every query fail with err, e.g. an *UnreachableError.
func (f *Fake) SetErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Asked returns the questions received so far, in order.
func (f *Fake) Asked() []Question {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Question(nil), f.asked...)
}

// Query implements Resolver.
func (f *Fake) Query(ctx context.Context, name string, t RecordType) (*Answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := Question{Name: fqdn(name), Type: t}
	f.asked = append(f.asked, q)
	if f.err != nil {
		return nil, f.err
	}
	if rc, ok := f.rcodes[q]; ok {
		return &Answer{Question: q, Rcode: rc}, nil
	}
	a := &Answer{Question: q, Rcode: RcodeSuccess, Records: f.chase(q, 0)}
	if len(a.Records) == 0 && !f.names[q.Name] {
		a.Rcode = RcodeNXDomain
	}
	return a, nil
}

// chase returns the records for q, following CNAMEs for other types the way
// a recursive answer carries the chain; depth stops loops.
func (f *Fake) chase(q Question, depth int) []Record {
	if rs := f.records[q]; len(rs) > 0 || q.Type == TypeCNAME {
		return append([]Record(nil), rs...)
	}
	cn := f.records[Question{Name: q.Name, Type: TypeCNAME}]
	if len(cn) == 0 || depth > 8 {
		return nil
	}
	out := []Record{cn[0]}
	return append(out, f.chase(Question{Name: cn[0].Value, Type: q.Type}, depth+1)...)
}
