package spawn_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spawn-go/spawn/spawntest"
)

// BenchmarkProxyInvoke measures a sync call of a stateful actor through
// the standalone proxy's HTTP API, with the host served over HTTP as well
// (both on loopback), beside floor: one bare loopback HTTP round trip on a
// kept-alive connection. A call through a proxy makes two round trips
// (caller to proxy, proxy to host), so sdk/floor cannot go below about 2.
func BenchmarkProxyInvoke(b *testing.B) {
	b.Run("sdk", func(b *testing.B) {
		sys, _ := spawntest.StartWithProxy(b, &benchAdder{})
		benchInvoke(b, sys)
	})
	b.Run("floor", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(body)
		}))
		defer srv.Close() // also closes the idle connections of srv.Client()
		client := srv.Client()
		// About the size of a small InvocationRequest.
		body := bytes.Repeat([]byte{0x2a}, 96)
		b.ReportAllocs()
		for b.Loop() {
			res, err := client.Post(srv.URL, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			// Reading to EOF and closing returns the connection to the
			// pool, so the next request reuses it.
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK || len(got) != len(body) {
				b.Fatalf("echo: HTTP %d, %d bytes, %v", res.StatusCode, len(got), err)
			}
		}
	})
}
