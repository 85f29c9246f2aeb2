package transport

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spawn-go/spawn/protocol"
)

func TestHostServer(t *testing.T) {
	type ctxKey struct{}
	var gotBody []byte
	var gotCtx context.Context
	handler := func(ctx context.Context, body []byte) (int, []byte) {
		gotBody, gotCtx = body, ctx
		if string(body) == "teapot" {
			return http.StatusTeapot, []byte("short and stout")
		}
		return 0, []byte("answer")
	}
	h := NewHostServer(handler, nil).Handler()

	tests := []struct {
		name     string
		method   string
		target   string
		ct       string
		body     string
		wantCode int
		wantCT   string
		wantBody string
		called   bool
	}{
		{"octet-stream", "POST", protocol.HostPath, "application/octet-stream", "inv", 200, "application/octet-stream", "answer", true},
		{"protobuf", "POST", protocol.HostPath, "application/protobuf", "inv", 200, "application/octet-stream", "answer", true},
		{"parameters", "POST", protocol.HostPath, "application/octet-stream; charset=utf-8", "inv", 200, "application/octet-stream", "answer", true},
		{"no content type", "POST", protocol.HostPath, "", "inv", 200, "application/octet-stream", "answer", true},
		{"handler status", "POST", protocol.HostPath, "application/octet-stream", "teapot", http.StatusTeapot, "application/octet-stream", "short and stout", true},
		{"JSON", "POST", protocol.HostPath, "application/json", "{}", 415, "text/plain", `unsupported Content-Type "application/json"`, false},
		{"health", "GET", "/health", "", "", 200, "application/json", `{"status":"up"}`, false},
		{"GET actions", "GET", protocol.HostPath, "", "", 404, "text/plain", "Not found!", false},
		{"other path", "POST", "/api/v1/system", "application/octet-stream", "inv", 404, "text/plain", "Not found!", false},
		{"readiness is a proxy route", "GET", "/health/readiness", "", "", 404, "text/plain", "Not found!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotBody, gotCtx = nil, nil
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, "marker"))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("code %d, want %d", rec.Code, tt.wantCode)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantCT) {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantCT)
			}
			if got := rec.Body.String(); !strings.Contains(got, tt.wantBody) {
				t.Errorf("body %q, want %q", got, tt.wantBody)
			}
			if called := gotBody != nil; called != tt.called {
				t.Fatalf("handler called = %v, want %v", called, tt.called)
			}
			if tt.called {
				if !bytes.Equal(gotBody, []byte(tt.body)) {
					t.Errorf("handler got %q, want %q", gotBody, tt.body)
				}
				if gotCtx.Value(ctxKey{}) != "marker" {
					t.Error("handler did not get the request's context")
				}
			}
		})
	}
}

func TestHostServerBodyLimit(t *testing.T) {
	called := false
	h := NewHostServer(func(context.Context, []byte) (int, []byte) { called = true; return 200, nil }, nil).Handler()
	rec := serve(t, h, "POST", protocol.HostPath, "application/octet-stream", make([]byte, maxHostBodyBytes+1))
	if rec.Code != http.StatusRequestEntityTooLarge || called {
		t.Errorf("code %d, handler called %v; want 413 without a call", rec.Code, called)
	}
}

// TestHostServerTakesLargerBodiesThanTheProxyAPI sends an invocation over
// the proxy API's limit: its size comes from the actor's state, which the
// host itself produced, so the host must take it.
func TestHostServerTakesLargerBodiesThanTheProxyAPI(t *testing.T) {
	var got int
	h := NewHostServer(func(_ context.Context, b []byte) (int, []byte) { got = len(b); return 200, nil }, nil).Handler()
	rec := serve(t, h, "POST", protocol.HostPath, "application/octet-stream", make([]byte, maxBodyBytes+1))
	if rec.Code != http.StatusOK || got != maxBodyBytes+1 {
		t.Errorf("code %d, handler got %d bytes; want 200 and all %d", rec.Code, got, maxBodyBytes+1)
	}
}
