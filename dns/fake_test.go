package dns

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFake(t *testing.T) {
	cname := rec("db.default.svc.cluster.local.", TypeCNAME, "db.example.com.")
	target := rec("db.example.com.", TypeA, "192.0.2.10")
	f := NewFake(rec(web, TypeA, "10.96.0.20"), cname, target)
	f.SetRcode("broken.example.", TypeA, "SERVFAIL")
	tests := []struct {
		q    Question
		want *Answer
	}{
		{Question{"WEB.default.svc.cluster.local", TypeA}, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.96.0.20"))},
		{Question{web, TypeAAAA}, answer(web, TypeAAAA, RcodeSuccess)},
		{Question{"nope.", TypeA}, answer("nope.", TypeA, RcodeNXDomain)},
		{Question{"db.default.svc.cluster.local.", TypeA}, answer("db.default.svc.cluster.local.", TypeA, RcodeSuccess, cname, target)},
		{Question{"db.default.svc.cluster.local.", TypeCNAME}, answer("db.default.svc.cluster.local.", TypeCNAME, RcodeSuccess, cname)},
		{Question{"broken.example.", TypeA}, answer("broken.example.", TypeA, "SERVFAIL")},
	}
	for _, tt := range tests {
		got, err := f.Query(context.Background(), tt.q.Name, tt.q.Type)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q, diff)
		}
	}
}
