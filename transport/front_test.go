package transport

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spawn-go/spawn/protocol"
)

// The routes served without echo (the host endpoint, the proxy's invoke)
// answer every request exactly as echo's router and middleware do: the
// same status, body and content type, and the same calls reach the API.
func TestHotRoutesAnswerAsEcho(t *testing.T) {
	inv := mustMarshal(t, testInvocation())
	hostBody := mustMarshal(t, &protocol.ActorInvocation{ActionName: "a"})
	paths := []string{
		"/api/v1/system/s/actors/a/invoke",
		"/api/v1/system/s%2Fx/actors/a%2Fb/invoke",
		"/api/v1/system/s/actors/spawn/invoke",
		"/api/v1/system//actors/a/invoke",
		"/api/v1/system/s/actors//invoke",
		"/api/v1/system/s/actors/a/invoke/",
		"/api/v1/system/s/x/actors/a/invoke",
		"/api/v1/system/s/actors/a/b/invoke",
		protocol.HostPath,
		protocol.HostPath + "/",
		"/api/v1/actors%2Factions",
		"/api/v1/actors/%61ctions",
	}
	for _, token := range []string{"", "secret"} {
		for _, path := range paths {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				for _, auth := range []string{"", "Bearer secret"} {
					answer := func(s *Server, h http.Handler, api *fakeAPI) (*httptest.ResponseRecorder, bool) {
						body := inv
						if path == protocol.HostPath {
							body = hostBody
						}
						req := httptest.NewRequest(method, path, bytes.NewReader(body))
						req.Header.Set("Content-Type", contentTypeProtobuf)
						if auth != "" {
							req.Header.Set("Authorization", auth)
						}
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						api.mu.Lock()
						defer api.mu.Unlock()
						return rec, api.lastInvoke != nil
					}
					for _, kind := range []string{"proxy", "host"} {
						build := func() (*Server, *fakeAPI) {
							api := &fakeAPI{}
							if kind == "proxy" {
								return NewProxyServer(api, nil, WithToken(token)), api
							}
							return NewHostServer(echoHost, nil, WithToken(token)), api
						}
						s1, api1 := build()
						got, gotCalled := answer(s1, s1.Handler(), api1)
						s2, api2 := build()
						want, wantCalled := answer(s2, s2.echo, api2)
						if kind == "host" && path == protocol.HostPath && method == http.MethodPost {
							// echo has no route for it any more; the
							// mountable handler is the reference.
							want = httptest.NewRecorder()
							req := httptest.NewRequest(method, path, bytes.NewReader(hostBody))
							req.Header.Set("Content-Type", contentTypeProtobuf)
							if auth != "" {
								req.Header.Set("Authorization", auth)
							}
							NewHostHandler(echoHost, nil, WithToken(token)).ServeHTTP(want, req)
						}
						name := kind + " " + method + " " + path + " token=" + token + " auth=" + auth
						if got.Code != want.Code || got.Body.String() != want.Body.String() ||
							got.Header().Get("Content-Type") != want.Header().Get("Content-Type") || gotCalled != wantCalled {
							t.Errorf("%s:\n got %d %q %q called=%v\nwant %d %q %q called=%v", name,
								got.Code, got.Header().Get("Content-Type"), got.Body.String(), gotCalled,
								want.Code, want.Header().Get("Content-Type"), want.Body.String(), wantCalled)
						}
						if kind == "proxy" && got.Code != http.StatusNotFound && got.Code != http.StatusUnauthorized &&
							got.Header().Get(InstanceHeader) == "" {
							t.Errorf("%s: no %s header", name, InstanceHeader)
						}
					}
				}
			}
		}
	}
}
