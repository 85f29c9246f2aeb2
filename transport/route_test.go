package transport

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWithGetAddsARouteBehindTheToken(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("up 1\n"))
	})
	for _, token := range []string{"", "s3cret"} {
		h := NewProxyServer(&fakeAPI{}, nil, WithGet("/metrics", metrics), WithToken(token)).Handler()
		rec := serve(t, h, http.MethodGet, "/metrics", "", nil)
		want := http.StatusOK
		if token != "" {
			want = http.StatusUnauthorized
		}
		if rec.Code != want {
			t.Errorf("token %q: GET /metrics without a token answered %d, want %d", token, rec.Code, want)
		}
		if token == "" && rec.Body.String() != "up 1\n" {
			t.Errorf("GET /metrics answered %q", rec.Body.String())
		}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("token %q: GET /metrics with the token answered %d", token, rec.Code)
		}
	}
}
