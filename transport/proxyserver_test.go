package transport

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spawn-go/spawn/protocol"
)

// wantProtoStatus decodes an answer of a proxy route as m and checks its
// RequestStatus.
func wantProtoStatus(t *testing.T, rec *httptest.ResponseRecorder, m proto.Message, st protocol.Status, msgPart string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type = %q, want application/octet-stream", ct)
	}
	mustUnmarshal(t, rec.Body.Bytes(), m)
	got, ok := requestStatus(m)
	if !ok {
		t.Fatalf("%T has no status: %v", m, m)
	}
	if got.GetStatus() != st || !strings.Contains(got.GetMessage(), msgPart) {
		t.Errorf("status = %v %q, want %v containing %q", got.GetStatus(), got.GetMessage(), st, msgPart)
	}
}

func TestProxyServerRoutes(t *testing.T) {
	const octet = "application/octet-stream"
	reg := mustMarshal(t, testRegistration())
	inv := mustMarshal(t, testInvocation())
	spawnReq := mustMarshal(t, &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "i1", System: "spawn-system", Parent: "tmpl"}}})
	garbage := []byte{0xff, 0xff, 0xff}

	tests := []struct {
		name     string
		api      *fakeAPI
		method   string
		target   string
		ct       string
		body     []byte
		wantCode int
		check    func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI)
	}{
		{
			name: "register", method: "POST", target: "/api/v1/system", ct: octet, body: reg, wantCode: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				resp := new(protocol.RegistrationResponse)
				wantProtoStatus(t, rec, resp, protocol.Status_OK, "Accepted")
				if pi := resp.GetProxyInfo(); pi.GetProtocolMajorVersion() != 1 || pi.GetProtocolMinorVersion() != 2 || pi.GetProxyName() == "" {
					t.Errorf("proxy_info = %v", pi)
				}
				if !proto.Equal(api.lastReg, testRegistration()) {
					t.Errorf("API got %v", api.lastReg)
				}
			},
		},
		{
			name: "register keeps the API's answer",
			api: &fakeAPI{register: func(*protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
				return &protocol.RegistrationResponse{
					Status:    &protocol.RequestStatus{Status: protocol.Status_OK, Message: "Accepted"},
					ProxyInfo: &protocol.ProxyInfo{ProxyName: "engine"},
				}, nil
			}},
			method: "POST", target: "/api/v1/system", ct: octet, body: reg, wantCode: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				resp := new(protocol.RegistrationResponse)
				wantProtoStatus(t, rec, resp, protocol.Status_OK, "Accepted")
				if resp.GetProxyInfo().GetProxyName() != "engine" {
					t.Errorf("proxy_info = %v", resp.GetProxyInfo())
				}
			},
		},
		{name: "register application/protobuf", method: "POST", target: "/api/v1/system", ct: "application/protobuf", body: reg, wantCode: 200},
		{name: "register content type with parameters", method: "POST", target: "/api/v1/system", ct: "Application/Octet-Stream; charset=utf-8", body: reg, wantCode: 200},
		{
			name: "register JSON", method: "POST", target: "/api/v1/system", ct: "application/json", body: []byte(`{}`), wantCode: 415,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.RegistrationResponse), protocol.Status_ERROR, `unsupported Content-Type "application/json"`)
				if api.lastReg != nil {
					t.Error("API called")
				}
			},
		},
		{
			name: "register without content type", method: "POST", target: "/api/v1/system", body: reg, wantCode: 415,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.RegistrationResponse), protocol.Status_ERROR, "missing Content-Type")
			},
		},
		{
			name: "register malformed", method: "POST", target: "/api/v1/system", ct: octet, body: garbage, wantCode: 400,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.RegistrationResponse), protocol.Status_ERROR, "malformed spawn.RegistrationRequest")
			},
		},
		{
			name: "register fails",
			api: &fakeAPI{register: func(*protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
				return nil, errors.New("node is stopping")
			}},
			method: "POST", target: "/api/v1/system", ct: octet, body: reg, wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				resp := new(protocol.RegistrationResponse)
				wantProtoStatus(t, rec, resp, protocol.Status_ERROR, "node is stopping")
				if resp.GetProxyInfo() != nil {
					t.Errorf("proxy_info on error: %v", resp.GetProxyInfo())
				}
			},
		},
		{
			name: "spawn", method: "POST", target: "/api/v1/system/spawn-system/actors/spawn", ct: octet, body: spawnReq, wantCode: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.SpawnResponse), protocol.Status_OK, "Accepted")
				if api.lastRev != 0 || len(api.lastSpawn.GetActors()) != 1 || api.lastSpawn.GetActors()[0].GetParent() != "tmpl" {
					t.Errorf("API got %v revision %d", api.lastSpawn, api.lastRev)
				}
			},
		},
		{
			name: "spawn with revision", method: "POST", target: "/api/v1/system/x/actors/spawn?revision=7", ct: octet, body: spawnReq, wantCode: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, api *fakeAPI) {
				if api.lastRev != 7 {
					t.Errorf("revision = %d, want 7", api.lastRev)
				}
			},
		},
		{name: "spawn with empty revision", method: "POST", target: "/api/v1/system/x/actors/spawn?revision=", ct: octet, body: spawnReq, wantCode: 200},
		{
			name: "spawn with bad revision", method: "POST", target: "/api/v1/system/x/actors/spawn?revision=abc", ct: octet, body: spawnReq, wantCode: 400,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.SpawnResponse), protocol.Status_ERROR, `revision must be a non-negative integer, got "abc"`)
				if api.lastSpawn != nil {
					t.Error("API called")
				}
			},
		},
		{
			name: "spawn with negative revision", method: "POST", target: "/api/v1/system/x/actors/spawn?revision=-1", ct: octet, body: spawnReq, wantCode: 400,
		},
		{
			name: "spawn malformed", method: "POST", target: "/api/v1/system/x/actors/spawn", ct: octet, body: garbage, wantCode: 400,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.SpawnResponse), protocol.Status_ERROR, "malformed spawn.SpawnRequest")
			},
		},
		{
			name: "spawn fails",
			api: &fakeAPI{spawn: func(*protocol.SpawnRequest, int64) (*protocol.SpawnResponse, error) {
				return nil, statusErr{protocol.Status_ACTOR_NOT_FOUND, "no parent tmpl"}
			}},
			method: "POST", target: "/api/v1/system/x/actors/spawn", ct: octet, body: spawnReq, wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.SpawnResponse), protocol.Status_ACTOR_NOT_FOUND, "no parent tmpl")
			},
		},
		{
			name: "invoke", method: "POST", target: "/api/v1/system/ignored/actors/ignored/invoke", ct: octet, body: inv, wantCode: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				resp := new(protocol.InvocationResponse)
				wantProtoStatus(t, rec, resp, protocol.Status_OK, "")
				want := testInvocation()
				if !proto.Equal(resp.GetSystem(), want.GetSystem()) || !proto.Equal(resp.GetActor(), want.GetActor()) {
					t.Errorf("system/actor not echoed: %v", resp)
				}
				if resp.GetNoop() == nil {
					t.Errorf("payload lost: %v", resp)
				}
				if !proto.Equal(api.lastInvoke, want) {
					t.Errorf("API got %v", api.lastInvoke)
				}
			},
		},
		{
			name: "invoke actor not found",
			api: &fakeAPI{invoke: func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
				return nil, statusErr{protocol.Status_ACTOR_NOT_FOUND, "Actor joe not found on ActorSystem spawn-system"}
			}},
			method: "POST", target: "/api/v1/system/spawn-system/actors/joe/invoke", ct: octet, body: inv, wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				resp := new(protocol.InvocationResponse)
				wantProtoStatus(t, rec, resp, protocol.Status_ACTOR_NOT_FOUND, "Actor joe not found")
				if resp.GetSystem().GetName() != "spawn-system" || resp.GetActor().GetId().GetName() != "joe" {
					t.Errorf("system/actor not echoed: %v", resp)
				}
			},
		},
		{
			name: "invoke fails",
			api: &fakeAPI{invoke: func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
				return nil, errors.New("host down")
			}},
			method: "POST", target: "/api/v1/system/spawn-system/actors/joe/invoke", ct: octet, body: inv, wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "host down")
			},
		},
		{
			name: "invoke error claiming OK is ERROR",
			api: &fakeAPI{invoke: func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
				return nil, statusErr{protocol.Status_OK, "confused"}
			}},
			method: "POST", target: "/api/v1/system/spawn-system/actors/joe/invoke", ct: octet, body: inv, wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "confused")
			},
		},
		{
			name: "invoke error with invalid UTF-8",
			api: &fakeAPI{invoke: func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
				return nil, errors.New("bad \xff name")
			}},
			method: "POST", target: "/api/v1/system/spawn-system/actors/joe/invoke", ct: octet, body: inv, wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "bad \uFFFD name")
			},
		},
		{
			name: "invoke malformed", method: "POST", target: "/api/v1/system/x/actors/y/invoke", ct: octet, body: garbage, wantCode: 400,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "malformed spawn.InvocationRequest")
			},
		},
		{
			name: "invoke JSON", method: "POST", target: "/api/v1/system/x/actors/y/invoke", ct: "application/json", body: []byte(`{}`), wantCode: 415,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "Content-Type")
			},
		},
		{
			name: "state", method: "GET", target: "/api/v1/system/spawn-system/actors/joe", wantCode: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				st := mustUnmarshal(t, rec.Body.Bytes(), new(protocol.ActorState))
				if st.GetTags()["k"] != "v" {
					t.Errorf("state = %v", st)
				}
				want := &protocol.ActorId{Name: "joe", System: "spawn-system"}
				if !proto.Equal(api.lastStateID, want) {
					t.Errorf("API got %v, want %v", api.lastStateID, want)
				}
			},
		},
		{
			name: "state of an unnamed instance with escaped names", method: "GET",
			target: "/api/v1/system/my%20system/actors/a%2Fb%25c?parent=tmpl", wantCode: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, api *fakeAPI) {
				want := &protocol.ActorId{Name: "a/b%c", System: "my system", Parent: "tmpl"}
				if !proto.Equal(api.lastStateID, want) {
					t.Errorf("API got %v, want %v", api.lastStateID, want)
				}
			},
		},
		{
			name: "state of an actor named spawn", method: "GET", target: "/api/v1/system/s/actors/spawn", wantCode: 200,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, api *fakeAPI) {
				if api.lastStateID.GetName() != "spawn" {
					t.Errorf("API got %v", api.lastStateID)
				}
			},
		},
		{
			name: "state of an unknown actor",
			api: &fakeAPI{state: func(*protocol.ActorId) (*protocol.ActorState, error) {
				return nil, statusErr{protocol.Status_ACTOR_NOT_FOUND, "no such actor"}
			}},
			method: "GET", target: "/api/v1/system/s/actors/nobody", wantCode: 404,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				resp := new(protocol.InvocationResponse)
				wantProtoStatus(t, rec, resp, protocol.Status_ACTOR_NOT_FOUND, "no such actor")
				if resp.GetActor().GetId().GetName() != "nobody" || resp.GetSystem().GetName() != "s" {
					t.Errorf("actor not echoed: %v", resp)
				}
			},
		},
		{
			// Names are protobuf strings, which must be UTF-8: the answer
			// could not even echo this one. (Found by cmd/spawn's
			// TestReliabilityBadInput: a 500 "encoding the response
			// failed", logged as an error.)
			name: "state of a name that is not UTF-8", method: "GET", target: "/api/v1/system/s/actors/%ff%fe?parent=p", wantCode: 400,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, api *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "actor name is not valid UTF-8")
				if api.lastStateID != nil {
					t.Errorf("the API was asked for %v", api.lastStateID)
				}
			},
		},
		{
			name: "state fails",
			api: &fakeAPI{state: func(*protocol.ActorId) (*protocol.ActorState, error) {
				return nil, errors.New("store closed")
			}},
			method: "GET", target: "/api/v1/system/s/actors/joe", wantCode: 500,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
				wantProtoStatus(t, rec, new(protocol.InvocationResponse), protocol.Status_ERROR, "store closed")
			},
		},
		{name: "health", method: "GET", target: "/health", wantCode: 200, check: wantJSON(`{"status":"up"}`)},
		{name: "liveness", method: "GET", target: "/health/liveness", wantCode: 200, check: wantJSON(`{"status":"up"}`)},
		{name: "readiness", method: "GET", target: "/health/readiness", wantCode: 200, check: wantJSON(`{"status":"up"}`)},
		{name: "root", method: "GET", target: "/", wantCode: 404, check: wantNotFound},
		{name: "unknown API path", method: "POST", target: "/api/v1/nothing", ct: octet, body: reg, wantCode: 404, check: wantNotFound},
		{name: "wrong method", method: "GET", target: "/api/v1/system", wantCode: 404, check: wantNotFound},
		{name: "wrong method on invoke", method: "PUT", target: "/api/v1/system/s/actors/a/invoke", wantCode: 404, check: wantNotFound},
		{name: "metrics are not served", method: "GET", target: "/metrics", wantCode: 404, check: wantNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := tt.api
			if api == nil {
				api = &fakeAPI{}
			}
			rec := serve(t, NewProxyServer(api, nil).Handler(), tt.method, tt.target, tt.ct, tt.body)
			if rec.Code != tt.wantCode {
				t.Fatalf("%s %s: code %d, want %d; body %s", tt.method, tt.target, rec.Code, tt.wantCode, snippet(rec.Body.Bytes()))
			}
			if tt.check != nil {
				tt.check(t, rec, api)
			}
		})
	}
}

func wantJSON(body string) func(*testing.T, *httptest.ResponseRecorder, *fakeAPI) {
	return func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
		t.Helper()
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		if got := rec.Body.String(); got != body {
			t.Errorf("body = %s, want %s", got, body)
		}
	}
}

func wantNotFound(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeAPI) {
	t.Helper()
	if got := rec.Body.String(); got != "Not found!" {
		t.Errorf("body = %q, want %q", got, "Not found!")
	}
}

func TestProxyServerReadiness(t *testing.T) {
	s := NewProxyServer(&fakeAPI{}, nil)
	for _, step := range []struct {
		draining bool
		code     int
		body     string
	}{
		{false, http.StatusOK, `{"status":"up"}`},
		{true, http.StatusServiceUnavailable, `{"status":"down"}`},
		{false, http.StatusOK, `{"status":"up"}`},
	} {
		s.draining.Store(step.draining) // as Shutdown does, but reversible
		rec := serve(t, s.Handler(), "GET", "/health/readiness", "", nil)
		if rec.Code != step.code || rec.Body.String() != step.body {
			t.Errorf("draining=%v: %d %s, want %d %s", step.draining, rec.Code, rec.Body, step.code, step.body)
		}
		// Liveness never follows readiness: a draining proxy is alive.
		if rec := serve(t, s.Handler(), "GET", "/health/liveness", "", nil); rec.Code != http.StatusOK {
			t.Errorf("draining=%v: liveness %d", step.draining, rec.Code)
		}
	}
}

func TestProxyServerLegacyRegistration(t *testing.T) {
	api := &fakeAPI{}
	body := legacyRegistration(t, "test", "other")
	rec := serve(t, NewProxyServer(api, nil).Handler(), "POST", "/api/v1/system", "application/octet-stream", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("code %d: %s", rec.Code, snippet(rec.Body.Bytes()))
	}
	got := api.lastReg.GetActorSystem().GetRegistry().GetActors()["joe"].GetMetadata().GetChannelGroup()
	want := []*protocol.Channel{{Topic: "test", Action: "receive"}, {Topic: "other", Action: "receive"}}
	if !equalChannels(got, want) {
		t.Errorf("channels = %v, want %v", got, want)
	}
}

func TestProxyServerBodyLimit(t *testing.T) {
	h := NewProxyServer(&fakeAPI{}, nil).Handler()
	big := make([]byte, maxBodyBytes+1)

	t.Run("Content-Length", func(t *testing.T) {
		rec := serve(t, h, "POST", "/api/v1/system", "application/octet-stream", big)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("code %d, want 413", rec.Code)
		}
		wantProtoStatus(t, rec, new(protocol.RegistrationResponse), protocol.Status_ERROR, "larger than")
	})
	t.Run("chunked", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/api/v1/system/s/actors/a/invoke", strings.NewReader(string(big)))
		req.ContentLength = -1 // unknown length: the limit must hold while reading
		req.Header.Set("Content-Type", "application/octet-stream")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("code %d, want 413", rec.Code)
		}
	})
	t.Run("at the limit", func(t *testing.T) {
		// A body of exactly maxBodyBytes is read, and then rejected as
		// malformed (zero bytes are no valid tag): it got past the limit.
		rec := serve(t, h, "POST", "/api/v1/system", "application/octet-stream", big[:maxBodyBytes])
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("code %d, want 400", rec.Code)
		}
	})
}

func TestProxyServerPanicIs500(t *testing.T) {
	api := &fakeAPI{invoke: func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
		panic("engine bug")
	}}
	rec := serve(t, NewProxyServer(api, nil).Handler(), "POST", "/api/v1/system/s/actors/a/invoke",
		"application/octet-stream", mustMarshal(t, testInvocation()))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("code %d, want 500", rec.Code)
	}
}

func equalChannels(a, b []*protocol.Channel) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
