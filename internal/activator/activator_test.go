package activator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/protocol"
)

func TestRender(t *testing.T) {
	str, _ := anypb.New(wrapperspb.String("hi"))
	obj, _ := anypb.New(&protocol.JSONType{Content: `{"a": 1}`})
	text, _ := anypb.New(&protocol.JSONType{Content: `not json`})
	for _, tt := range []struct {
		name  string
		reply *anypb.Any
		want  string
	}{
		{"a message", str, `"hi"`},
		{"JSON from another SDK, as it is", obj, `{"a": 1}`},
		{"text from another SDK, as a string", text, `"not json"`},
		{"a type this program does not know", &anypb.Any{TypeUrl: "type.googleapis.com/x.Unknown", Value: []byte{1, 2}},
			`{"@type":"type.googleapis.com/x.Unknown","value":"AQI="}`},
	} {
		got, err := Render(tt.reply)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: Render = %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

func TestHandlerLimits(t *testing.T) {
	var got Request
	h := NewHandler(func(_ context.Context, r Request) (*anypb.Any, *Problem) {
		got = r
		return nil, nil
	}, Options{Token: "t"})
	serve := func(method, path, body string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	auth := []string{"Authorization", "Bearer t"}
	for _, tt := range []struct {
		name   string
		rec    *httptest.ResponseRecorder
		status int
		code   string
	}{
		{"no token", serve(http.MethodPost, "/v1/actors/a/b", ""), 401, CodeUnauthenticated},
		{"wrong token", serve(http.MethodPost, "/v1/actors/a/b", "", "Authorization", "Bearer x"), 401, CodeUnauthenticated},
		{"too large", serve(http.MethodPost, "/v1/actors/a/b", strings.Repeat(" ", MaxBody+1), auth...), 413, CodeTooLarge},
		{"no route", serve(http.MethodPost, "/v2/x", "", auth...), 404, CodeNoRoute},
		{"not POST", serve(http.MethodPut, "/v1/actors/a/b", "", auth...), 405, CodeMethodNotAllowed},
		{"no reply", serve(http.MethodPost, "/v1/actors/a/instances/i/b?async=false", "{}", auth...), 204, ""},
	} {
		if tt.rec.Code != tt.status || !strings.Contains(tt.rec.Body.String(), tt.code) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, tt.rec.Code, tt.rec.Body.String(), tt.status, tt.code)
		}
	}
	if got.Actor != "a" || got.Instance != "i" || got.Action != "b" || got.Async || string(got.Body) != "{}" {
		t.Errorf("the handler got %+v", got)
	}
}
