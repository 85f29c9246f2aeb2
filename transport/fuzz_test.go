package transport

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// FuzzProxyRegister feeds arbitrary bodies to the registration route and
// to the old-protocol decoder behind it.
func FuzzProxyRegister(f *testing.F) {
	f.Add(mustMarshal(f, testRegistration()))
	f.Add(legacyRegistration(f, "test"))
	f.Add(legacyRegistration(f, "a", "b", "Ünïcode"))
	f.Add(registrationWith(f, map[string][]byte{
		"joe": oldMetadata([]byte("old"), channel(f, "new", "hi"), nil),
		"bob": oldMetadata(channel(f, "", "no topic")),
	}))
	f.Add(legacyRegistration(f, "bad\xff"))
	full := legacyRegistration(f, "test")
	f.Add(full[:len(full)/2])
	f.Add([]byte{})
	f.Add([]byte("Not a protobuf"))

	h := NewProxyServer(&fakeAPI{}, nil).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		req, n, err := decodeRegistration(body)
		if !bytes.Equal(body, orig) {
			t.Fatal("decodeRegistration modified its input")
		}
		if err == nil {
			// What was upgraded is current protocol: a second pass keeps it.
			once, _ := upgradeChannels(body, registrationChannelPath)
			if twice, m := upgradeChannels(once, registrationChannelPath); m != 0 || !bytes.Equal(once, twice) {
				t.Fatalf("upgrade not idempotent: %d more conversions", m)
			}
			// Without old-protocol values, the result is plain decoding.
			if n == 0 {
				plain := new(protocol.RegistrationRequest)
				if perr := proto.Unmarshal(body, plain); perr != nil || !proto.Equal(plain, req) {
					t.Fatalf("no conversion, yet the result differs from plain decoding (%v)", perr)
				}
			}
		}

		rec := serve(t, h, "POST", "/api/v1/system", "application/octet-stream", body)
		switch {
		case err == nil && rec.Code != http.StatusOK,
			err != nil && rec.Code != http.StatusBadRequest:
			t.Fatalf("decode error %v, yet HTTP %d", err, rec.Code)
		}
		resp := new(protocol.RegistrationResponse)
		if uerr := proto.Unmarshal(rec.Body.Bytes(), resp); uerr != nil || resp.GetStatus() == nil {
			t.Fatalf("HTTP %d answer is not a RegistrationResponse with a status: %v", rec.Code, uerr)
		}
	})
}

// FuzzHostClientResponse feeds arbitrary bytes to HostClient as a host's
// answer.
func FuzzHostClientResponse(f *testing.F) {
	value, _ := anypb.New(&protocol.JSONType{Content: `{"n":1}`})
	full := &protocol.ActorInvocationResponse{
		ActorName:      "joe",
		ActorSystem:    "spawn-system",
		UpdatedContext: &protocol.Context{State: value, Tags: map[string]string{"k": "v"}},
		Payload:        &protocol.ActorInvocationResponse_Value{Value: value},
		Workflow: &protocol.Workflow{
			Broadcast: &protocol.Broadcast{ChannelGroup: "test", Payload: &protocol.Broadcast_Noop{Noop: &protocol.Noop{}}},
			Routing:   &protocol.Workflow_Pipe{Pipe: &protocol.Pipe{Actor: "bob", ActionName: "next"}},
		},
	}
	f.Add(uint16(200), mustMarshal(f, full))
	f.Add(uint16(200), mustMarshal(f, testHostResponse()))
	f.Add(uint16(500), mustMarshal(f, testHostResponse()))
	f.Add(uint16(200), mustMarshal(f, &protocol.ActorInvocationResponse{ActorName: "no context"}))
	f.Add(uint16(400), []byte{})
	f.Add(uint16(200), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(uint16(502), []byte("Bad Gateway"))

	f.Fuzz(func(t *testing.T, code uint16, body []byte) {
		status := 100 + int(code)%900
		c := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return fakeResponse(status, body), nil
		})}
		resp, err := NewHostClient("http://host.invalid", c).Call(context.Background(), testInvocationForHost())
		if (resp == nil) == (err == nil) {
			t.Fatalf("resp %v, err %v: want exactly one", resp, err)
		}
		plain := new(protocol.ActorInvocationResponse)
		valid := len(body) > 0 && proto.Unmarshal(body, plain) == nil && plain.GetUpdatedContext() != nil
		if valid != (err == nil) {
			t.Fatalf("valid body %v, yet err %v", valid, err)
		}
		if err == nil && !proto.Equal(resp, plain) {
			t.Fatal("response differs from the body")
		}
		if err != nil && len(err.Error()) > 512 {
			t.Fatalf("error message of %d bytes", len(err.Error()))
		}
	})
}

// FuzzProxyInvoke feeds arbitrary bodies to the invoke and spawn routes:
// every answer is a response message with a status.
func FuzzProxyInvoke(f *testing.F) {
	f.Add(mustMarshal(f, testInvocation()), false)
	f.Add(mustMarshal(f, &protocol.SpawnRequest{Actors: []*protocol.ActorId{{Name: "s1", System: "spawn-system", Parent: "joe"}}}), true)
	f.Add([]byte{}, false)
	f.Add([]byte("garbage"), true)
	f.Add([]byte{0x12, 0xff}, false)
	h := NewProxyServer(&fakeAPI{}, nil).Handler()
	f.Fuzz(func(t *testing.T, body []byte, spawn bool) {
		target, resp := "/api/v1/system/spawn-system/actors/joe/invoke", proto.Message(new(protocol.InvocationResponse))
		if spawn {
			target, resp = "/api/v1/system/spawn-system/actors/spawn", new(protocol.SpawnResponse)
		}
		rec := serve(t, h, "POST", target, "application/octet-stream", body)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && rec.Code != http.StatusInternalServerError {
			t.Fatalf("HTTP %d", rec.Code)
		}
		if err := proto.Unmarshal(rec.Body.Bytes(), resp); err != nil {
			t.Fatalf("HTTP %d answer does not decode: %v", rec.Code, err)
		}
		if st, ok := requestStatus(resp); !ok || st.GetStatus() == protocol.Status_UNKNOWN {
			t.Fatalf("HTTP %d answer has no status", rec.Code)
		}
	})
}

// FuzzProxyClientResponse feeds arbitrary answers of a proxy to
// ProxyClient.Invoke: it returns a response or an error, never both, and
// never panics.
func FuzzProxyClientResponse(f *testing.F) {
	ok := &protocol.InvocationResponse{Status: &protocol.RequestStatus{Status: protocol.Status_OK}}
	bad := &protocol.InvocationResponse{Status: &protocol.RequestStatus{Status: protocol.Status_ERROR, Message: "boom"}}
	f.Add(uint16(200), mustMarshal(f, ok))
	f.Add(uint16(500), mustMarshal(f, bad))
	f.Add(uint16(500), []byte("Internal Server Error"))
	f.Add(uint16(200), []byte{0xff})
	f.Add(uint16(404), []byte("Not found!"))
	f.Fuzz(func(t *testing.T, code uint16, body []byte) {
		status := 100 + int(code)%900
		c := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return fakeResponse(status, body), nil
		})}
		p := NewProxyClient("http://proxy.invalid", c, nil)
		resp, err := p.Invoke(context.Background(), "spawn-system", "joe", testInvocation())
		if (resp == nil) == (err == nil) {
			t.Fatalf("resp %v, err %v: want exactly one", resp, err)
		}
		if err != nil && len(err.Error()) > 1024 {
			t.Fatalf("error message of %d bytes", len(err.Error()))
		}
	})
}
