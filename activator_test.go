package spawn_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/internal/testpb"
	"github.com/spawn-go/spawn/spawntest"
)

// Till and Basket are what the activator's tests call: a named actor with
// every kind of action, and an unnamed one.
type Till struct {
	spawn.Actor `spawn:"name=till"`
	State       *testpb.CounterState `spawn:"state"`
}

func (t *Till) Add(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	t.State.Value += in.Delta
	return &testpb.Total{Value: t.State.Value}, nil
}

func (t *Till) Refuse(ctx *spawn.Context, in *testpb.Add) (*testpb.Total, error) {
	return nil, errors.New("the till is closed")
}

func (t *Till) Peek(ctx *spawn.Context) (*testpb.Total, error) {
	return &testpb.Total{Value: t.State.Value}, nil
}

func (t *Till) Drop(ctx *spawn.Context, in *testpb.Add) error { return nil }

func (t *Till) Raw(ctx *spawn.Context, in *anypb.Any) (*testpb.Text, error) {
	return &testpb.Text{Text: in.GetTypeUrl()}, nil
}

type Basket struct {
	spawn.Actor `spawn:"name=basket,kind=unnamed"`
	State       *testpb.CounterState `spawn:"state"`
}

func (c *Basket) Put(ctx *spawn.Context, in *testpb.Text) (*testpb.Total, error) {
	c.State.Log = append(c.State.Log, in.Text)
	return &testpb.Total{Value: int64(len(c.State.Log))}, nil
}

type answer struct {
	status int
	body   string
}

func post(t *testing.T, h http.Handler, path, body string, header ...string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec.Code, strings.TrimSpace(rec.Body.String())}
}

// problemCode reads the code of a JSON problem.
func problemCode(t *testing.T, a answer) string {
	t.Helper()
	var p struct{ Code, Message string }
	if err := json.Unmarshal([]byte(a.body), &p); err != nil || p.Code == "" || p.Message == "" {
		t.Fatalf("not a JSON problem: %q (%v)", a.body, err)
	}
	return p.Code
}

func TestActivator(t *testing.T) {
	modes(t, func(t *testing.T, start func(...any) *spawn.System) {
		sys := start(&Till{}, &Basket{})
		h := sys.Activator()
		for _, tt := range []struct {
			name, path, body string
			header           []string
			status           int
			// want is the body of a success, or the code of a failure.
			want string
		}{
			{"call", "/v1/actors/till/Add", `{"delta": 2}`, nil, 200, `{"value":"2"}`},
			{"content type with charset", "/v1/actors/till/Add", `{"delta": 1}`, []string{"Content-Type", "application/json; charset=utf-8"}, 200, `{"value":"3"}`},
			{"empty body is an empty input", "/v1/actors/till/Add", ``, nil, 200, `{"value":"3"}`},
			{"no input", "/v1/actors/till/Peek", ``, nil, 200, `{"value":"3"}`},
			{"no reply", "/v1/actors/till/Drop", `{}`, nil, 204, ``},
			{"built-in read", "/v1/actors/till/get", ``, nil, 200, `{"value":"3","log":[]}`},
			{"an action taking Any", "/v1/actors/till/Raw", `{"@type": "type.googleapis.com/spawn.test.Text", "text": "x"}`, nil, 200, `{"text":"type.googleapis.com/spawn.test.Text"}`},
			{"a JSON Any for an action of ours", "/v1/actors/till/Add", `{"@type": "type.googleapis.com/spawn.test.Add", "delta": 0}`, nil, 200, `{"value":"3"}`},
			{"instance", "/v1/actors/basket/instances/c1/Put", `{"text": "apple"}`, nil, 200, `{"value":"1"}`},
			{"instance again", "/v1/actors/basket/instances/c1/Put", `{"text": "pear"}`, nil, 200, `{"value":"2"}`},
			{"another instance", "/v1/actors/basket/instances/c2/Put", `{"text": "fig"}`, nil, 200, `{"value":"1"}`},

			{"bad JSON", "/v1/actors/till/Add", `{"delta":`, nil, 400, "INVALID"},
			{"wrong type", "/v1/actors/till/Add", `{"text": "two"}`, nil, 400, "INVALID"},
			{"input to an action without", "/v1/actors/till/Peek", `{"delta": 1}`, nil, 400, "INVALID"},
			{"Any without @type", "/v1/actors/till/Raw", `{"text": "x"}`, nil, 400, "INVALID"},
			{"a JSON Any of the wrong type", "/v1/actors/till/Add", `{"@type": "type.googleapis.com/spawn.test.Text", "text": "x"}`, nil, 400, "INVALID"},
			{"unknown actor", "/v1/actors/nobody/Hi", ``, nil, 404, "NOT_FOUND"},
			{"unknown action", "/v1/actors/till/Addd", `{}`, nil, 404, "NOT_FOUND"},
			{"unknown action, async", "/v1/actors/till/Addd?async=true", `{}`, nil, 404, "NOT_FOUND"},
			{"a body to a built-in read", "/v1/actors/till/get", `{"x": 1}`, nil, 400, "INVALID"},
			{"action error", "/v1/actors/till/Refuse", `{"delta": 1}`, nil, 422, "ACTION_FAILED"},
			{"instance of a named actor", "/v1/actors/till/instances/t1/Add", `{}`, nil, 400, "INVALID"},
			{"unnamed actor without an instance", "/v1/actors/basket/Put", `{}`, nil, 400, "INVALID"},
			{"not JSON", "/v1/actors/till/Add", `<delta>1</delta>`, []string{"Content-Type", "application/xml"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"curl -d's content type", "/v1/actors/till/Peek", ``, []string{"Content-Type", "application/x-www-form-urlencoded"}, 200, `{"value":"3"}`},
			{"bad async", "/v1/actors/till/Add?async=maybe", `{}`, nil, 400, "INVALID"},
			{"no such route", "/v1/actors/till", `{}`, nil, 404, "NOT_FOUND"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := post(t, h, tt.path, tt.body, tt.header...)
				if got.status != tt.status {
					t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.body)
				}
				if tt.status >= 400 {
					if code := problemCode(t, got); code != tt.want {
						t.Fatalf("code %s, want %s: %s", code, tt.want, got.body)
					}
					return
				}
				if got.body != tt.want {
					t.Fatalf("body %s, want %s", got.body, tt.want)
				}
			})
		}
		t.Run("the action's message", func(t *testing.T) {
			got := post(t, h, "/v1/actors/till/Refuse", `{}`)
			if !strings.Contains(got.body, `"message":"the till is closed"`) {
				t.Fatalf("body %s, want the action's message alone", got.body)
			}
		})
		t.Run("async", func(t *testing.T) {
			if got := post(t, h, "/v1/actors/till/Add?async=true", `{"delta": 10}`); got.status != http.StatusAccepted || got.body != "" {
				t.Fatalf("got %d %q, want 202 and no body", got.status, got.body)
			}
			deadline := time.Now().Add(10 * time.Second)
			for post(t, h, "/v1/actors/till/Peek", ``).body != `{"value":"13"}` {
				if time.Now().After(deadline) {
					t.Fatal("the async call never ran")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		t.Run("GET", func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/actors/till/Peek", nil))
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
				t.Fatalf("GET answered %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
			}
		})
	})
}

// TestActivatorForActorsServedElsewhere calls actors through a program
// that serves none, as a gateway in front of a proxy would: the body names
// its type.
func TestActivatorForActorsServedElsewhere(t *testing.T) {
	_, proxy := spawntest.StartWithProxy(t, &Till{})
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gateway, err := spawn.Start(c, spawn.WithProxy(proxy.Addr), spawn.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer gateway.Stop(c)
	h := gateway.Activator()
	if got := post(t, h, "/v1/actors/till/Add", `{"@type": "type.googleapis.com/spawn.test.Add", "delta": 5}`); got.status != 200 || got.body != `{"value":"5"}` {
		t.Fatalf("got %d %s", got.status, got.body)
	}
	if got := post(t, h, "/v1/actors/till/Add", `{"delta": 5}`); got.status != 400 || !strings.Contains(got.body, "@type") {
		t.Fatalf("a body without @type: got %d %s, want 400 asking for @type", got.status, got.body)
	}
}

// TestActivatorSaysWhatIsWrong checks the messages of two mistakes: an
// actor the embedded runtime does not serve, whatever the body, and a
// JSON Any whose type is not linked into the program.
func TestActivatorSaysWhatIsWrong(t *testing.T) {
	sys := spawntest.Start(t, &Till{}, &Basket{})
	h := sys.Activator()
	for _, tt := range []struct {
		name, path, body string
		status           int
		code, message    string
	}{
		{"unknown actor, no body", "/v1/actors/nobody/Hi", ``, 404, "NOT_FOUND", `this program serves no actor "nobody"; it serves "basket", "till"`},
		{"unknown actor, a body", "/v1/actors/nobody/Hi", `{"text": "x"}`, 404, "NOT_FOUND", `this program serves no actor "nobody"; it serves "basket", "till"`},
		{"a misspelt actor", "/v1/actors/tilll/Add", `{"delta": 1}`, 404, "NOT_FOUND", `this program serves no actor "tilll"; did you mean "till"?`},
		{"an unlinked @type", "/v1/actors/till/Raw", `{"@type": "type.googleapis.com/shop.Order", "id": "1"}`, 400, "INVALID",
			`the body's "@type" names shop.Order, a message type this program does not know: import the Go package generated for it`},
		{"an unlinked @type for a typed action", "/v1/actors/till/Add", `{"@type": "type.googleapis.com/shop.Order"}`, 400, "INVALID",
			`names shop.Order, a message type this program does not know`},
		{"a misspelt action", "/v1/actors/till/Ad", `{"delta": 1}`, 404, "NOT_FOUND", `actor "till" has no action "Ad"; did you mean "Add"?`},
		{"a body to a built-in read", "/v1/actors/till/get", `{"x": 1}`, 400, "INVALID", `"get" of actor "till" reads its state and takes no input; send no body`},
		{"a broken JSON Any for a typed action", "/v1/actors/till/Add", `{"@type": "type.googleapis.com/spawn.test.Add", "delta": "x"}`, 400, "INVALID",
			`action "Add" of actor "till" takes spawn.test.Add: send it in JSON, or as a JSON Any`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, h, tt.path, tt.body)
			var p struct{ Code, Message string }
			if err := json.Unmarshal([]byte(got.body), &p); err != nil || got.status != tt.status || p.Code != tt.code || !strings.Contains(p.Message, tt.message) {
				t.Fatalf("got %d %s, want %d %s saying %q", got.status, got.body, tt.status, tt.code, tt.message)
			}
		})
	}
}

// TestActivatorRecordsMistakes checks that a call to an actor or action
// that is not there is traced, as the same mistake made from Go is, so
// that it shows in traces, metrics and the dashboard.
func TestActivatorRecordsMistakes(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	sys := spawntest.Start(t, &Till{}, spawn.WithTracerProvider(tp))
	for _, path := range []string{"/v1/actors/till/Addd", "/v1/actors/tilll/Add"} {
		if got := post(t, sys.Activator(), path, `{}`); got.status != 404 {
			t.Fatalf("%s: %d %s, want 404", path, got.status, got.body)
		}
	}
	var names []string
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			names = append(names, s.Name())
		}
	}
	if want := []string{"till/Addd", "tilll/Add"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("client spans %q, want %q", names, want)
	}
}

// TestActivatorBadAddress checks that an address without a port says what
// to write.
func TestActivatorBadAddress(t *testing.T) {
	_, err := spawn.Start(context.Background(), &Till{}, spawn.WithEmbedded(), spawn.WithDataDir(t.TempDir()), spawn.WithActivator("8092"))
	if err == nil || !strings.Contains(err.Error(), "want host:port, as :8092") {
		t.Fatalf("Start with activator address 8092: %v", err)
	}
}

// TestActivatorLogsItsURL checks that the start-up line gives the URL to
// call, not only an address.
func TestActivatorLogsItsURL(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	sys := spawntest.Start(t, &Till{}, spawn.WithActivator("127.0.0.1:0"), spawn.WithLogger(zap.New(core)))
	entries := logs.FilterMessage("spawn: JSON activator listening").All()
	want := "http://" + sys.ActivatorAddress().String() + "/v1/actors/"
	if len(entries) != 1 || entries[0].ContextMap()["url"] != want {
		t.Fatalf("log entries %+v, want one with url %q", entries, want)
	}
}

func TestActivatorListensWithItsToken(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	sys := spawntest.Start(t, &Till{}, spawn.WithActivator("127.0.0.1:0"), spawn.WithToken("s3cret"), spawn.WithTracerProvider(tp))
	addr := sys.ActivatorAddress()
	if addr == nil {
		t.Fatal("no activator address")
	}
	call := func(header ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr.String()+"/v1/actors/till/Add", strings.NewReader(`{"delta": 4}`))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	if status, body := call(); status != http.StatusUnauthorized || !strings.Contains(body, "UNAUTHENTICATED") || !strings.Contains(body, "Bearer <token>") {
		t.Fatalf("without the token: %d %s", status, body)
	}
	// A caller's trace context in the headers continues into the call.
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if status, body := call("Authorization", "Bearer s3cret", "traceparent", parent); status != http.StatusOK || body != `{"value":"4"}` {
		t.Fatalf("with the token: %d %s", status, body)
	}
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	s := span(t, rec, tid, "till/Add", trace.SpanKindClient)
	if s.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Fatalf("the call's span has parent %s, want the caller's", s.Parent().SpanID())
	}
}
