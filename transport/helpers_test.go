package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// statusErr is an engine-like error carrying a protocol status.
type statusErr struct {
	st  protocol.Status
	msg string
}

func (e statusErr) Error() string                   { return e.msg }
func (e statusErr) ProtocolStatus() protocol.Status { return e.st }

// fakeAPI is a ProxyAPI whose methods answer OK unless a test sets them, and
// which records the last request of each kind.
type fakeAPI struct {
	register func(*protocol.RegistrationRequest) (*protocol.RegistrationResponse, error)
	spawn    func(*protocol.SpawnRequest, int64) (*protocol.SpawnResponse, error)
	invoke   func(*protocol.InvocationRequest) (*protocol.InvocationResponse, error)
	state    func(*protocol.ActorId) (*protocol.ActorState, error)

	mu          sync.Mutex
	lastReg     *protocol.RegistrationRequest
	lastSpawn   *protocol.SpawnRequest
	lastRev     int64
	lastInvoke  *protocol.InvocationRequest
	lastStateID *protocol.ActorId
}

func (f *fakeAPI) Register(_ context.Context, req *protocol.RegistrationRequest) (*protocol.RegistrationResponse, error) {
	f.mu.Lock()
	f.lastReg = req
	f.mu.Unlock()
	if f.register != nil {
		return f.register(req)
	}
	return nil, nil
}

func (f *fakeAPI) Spawn(_ context.Context, req *protocol.SpawnRequest, rev int64) (*protocol.SpawnResponse, error) {
	f.mu.Lock()
	f.lastSpawn, f.lastRev = req, rev
	f.mu.Unlock()
	if f.spawn != nil {
		return f.spawn(req, rev)
	}
	return nil, nil
}

func (f *fakeAPI) Invoke(_ context.Context, req *protocol.InvocationRequest) (*protocol.InvocationResponse, error) {
	f.mu.Lock()
	f.lastInvoke = req
	f.mu.Unlock()
	if f.invoke != nil {
		return f.invoke(req)
	}
	return &protocol.InvocationResponse{Payload: &protocol.InvocationResponse_Noop{Noop: &protocol.Noop{}}}, nil
}

func (f *fakeAPI) State(_ context.Context, id *protocol.ActorId) (*protocol.ActorState, error) {
	f.mu.Lock()
	f.lastStateID = id
	f.mu.Unlock()
	if f.state != nil {
		return f.state(id)
	}
	return &protocol.ActorState{Tags: map[string]string{"k": "v"}}, nil
}

// serve runs one request through h and returns the recorded answer.
func serve(t *testing.T, h http.Handler, method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	return b
}

func mustUnmarshal[M proto.Message](t testing.TB, b []byte, m M) M {
	t.Helper()
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatalf("unmarshal %T from %x: %v", m, b, err)
	}
	return m
}

// readAll reads r, failing the test on error.
func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testRegistration() *protocol.RegistrationRequest {
	return &protocol.RegistrationRequest{
		ServiceInfo: &protocol.ServiceInfo{ServiceName: "test", SupportLibraryName: "spawn-go"},
		ActorSystem: &protocol.ActorSystem{
			Name: "spawn-system",
			Registry: &protocol.Registry{Actors: map[string]*protocol.Actor{
				"joe": {
					Id:       &protocol.ActorId{Name: "joe", System: "spawn-system"},
					State:    &protocol.ActorState{},
					Metadata: &protocol.Metadata{ChannelGroup: []*protocol.Channel{{Topic: "test", Action: "hi"}}},
					Settings: &protocol.ActorSettings{Kind: protocol.Kind_NAMED, Stateful: true},
					Actions:  []*protocol.Action{{Name: "hi"}},
				},
			}},
		},
	}
}

func testInvocation() *protocol.InvocationRequest {
	v, _ := anypb.New(&protocol.JSONType{Content: `{"a":1}`})
	return &protocol.InvocationRequest{
		System:     &protocol.ActorSystem{Name: "spawn-system"},
		Actor:      &protocol.Actor{Id: &protocol.ActorId{Name: "joe", System: "spawn-system"}},
		ActionName: "hi",
		Payload:    &protocol.InvocationRequest_Value{Value: v},
	}
}

func testHostResponse() *protocol.ActorInvocationResponse {
	return &protocol.ActorInvocationResponse{
		ActorName:      "joe",
		ActorSystem:    "spawn-system",
		UpdatedContext: &protocol.Context{Tags: map[string]string{"k": "v"}},
		Payload:        &protocol.ActorInvocationResponse_Noop{Noop: &protocol.Noop{}},
	}
}
