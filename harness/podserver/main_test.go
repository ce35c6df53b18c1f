package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		spec      string
		wantPort  int
		wantProto string
		wantErr   bool
	}{
		{"9376", 9376, "tcp", false},
		{"53/UDP", 53, "udp", false},
		{" 80/tcp ", 80, "tcp", false},
		{"0/tcp", 0, "", true},
		{"70000", 0, "", true},
		{"80/sctp", 0, "", true},
		{"http", 0, "", true},
	} {
		port, proto, err := parsePort(tc.spec)
		if port != tc.wantPort || proto != tc.wantProto || (err != nil) != tc.wantErr {
			t.Errorf("parsePort(%q) = %d, %q, %v; want %d, %q, error %v", tc.spec, port, proto, err, tc.wantPort, tc.wantProto, tc.wantErr)
		}
	}
}

func TestHandlerFollowsFailFile(t *testing.T) {
	fail := filepath.Join(t.TempDir(), "unhealthy")
	h := handler("hostnames-0", fail)
	for _, tc := range []struct {
		failing  bool
		wantCode int
		wantBody string
	}{
		{false, http.StatusOK, "hostnames-0"},
		{true, http.StatusServiceUnavailable, "hostnames-0 unhealthy\n"},
		{false, http.StatusOK, "hostnames-0"},
	} {
		if tc.failing {
			if err := os.WriteFile(fail, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			_ = os.Remove(fail)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != tc.wantCode || string(body) != tc.wantBody {
			t.Errorf("failing=%v: got %d %q, want %d %q", tc.failing, rec.Code, body, tc.wantCode, tc.wantBody)
		}
	}
}
