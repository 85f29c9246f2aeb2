package transport

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

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

// The host endpoint mounted on a program's own mux, beside its own routes.
func TestHostHandler(t *testing.T) {
	logs, observed := observer.New(zapcore.ErrorLevel)
	var gotBody []byte
	handler := func(_ context.Context, body []byte) (int, []byte) {
		gotBody = body
		if string(body) == "panic" {
			panic("boom")
		}
		return 0, []byte("answer")
	}
	mux := http.NewServeMux()
	mux.Handle(protocol.HostPath, NewHostHandler(handler, zap.New(logs)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	// Mounted at the root, the handler sees every other path.
	root := NewHostHandler(handler, nil)

	tests := []struct {
		name      string
		h         http.Handler
		method    string
		target    string
		ct        string
		body      []byte
		wantCode  int
		wantCT    string
		wantBody  string
		called    bool
		wantAllow string
	}{
		{name: "invocation", h: mux, method: "POST", target: protocol.HostPath, ct: "application/octet-stream", body: []byte("inv"),
			wantCode: 200, wantCT: "application/octet-stream", wantBody: "answer", called: true},
		{name: "no content type", h: mux, method: "POST", target: protocol.HostPath, body: []byte("inv"),
			wantCode: 200, wantCT: "application/octet-stream", wantBody: "answer", called: true},
		{name: "JSON", h: mux, method: "POST", target: protocol.HostPath, ct: "application/json", body: []byte("{}"),
			wantCode: 415, wantCT: "text/plain", wantBody: `unsupported Content-Type "application/json"`},
		{name: "too large", h: mux, method: "POST", target: protocol.HostPath, ct: "application/octet-stream", body: make([]byte, maxHostBodyBytes+1),
			wantCode: 413, wantCT: "text/plain", wantBody: "larger than"},
		{name: "GET", h: mux, method: "GET", target: protocol.HostPath,
			wantCode: 405, wantCT: "text/plain", wantBody: "POST", wantAllow: "POST"},
		{name: "panic", h: mux, method: "POST", target: protocol.HostPath, ct: "application/octet-stream", body: []byte("panic"),
			wantCode: 500, wantCT: "text/plain", wantBody: "internal error", called: true},
		{name: "the program's own route", h: mux, method: "GET", target: "/healthz", wantCode: 200, wantBody: "ok"},
		{name: "other path at the root", h: root, method: "POST", target: "/api/v1/system", ct: "application/octet-stream", body: []byte("inv"),
			wantCode: 404, wantCT: "text/plain", wantBody: "Not found!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotBody = nil
			rec := serve(t, tt.h, tt.method, tt.target, tt.ct, tt.body)
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
				t.Errorf("handler called = %v, want %v", called, tt.called)
			}
			if tt.called && !bytes.Equal(gotBody, tt.body) {
				t.Errorf("handler got %q, want %q", gotBody, tt.body)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
	if observed.FilterMessageSnippet("panicked").Len() != 1 {
		t.Errorf("the panic was not logged once: %v", observed.All())
	}
}
