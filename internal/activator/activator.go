// Package activator is the HTTP side of the JSON activator: routes, the
// token, the body's limits, the reply rendered as JSON and failures as JSON
// problems. What a request means (which input type, which call, which
// status for which failure) is the spawn package's, behind Invoke.
//
// Routes:
//
//	POST /v1/actors/{actor}/{action}                              an actor
//	POST /v1/actors/{actor}/instances/{instance}/{action}         an unnamed actor's instance
//
// with ?async=true for a call that returns 202 as soon as it is accepted.
package activator

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/spawn-go/spawn/protocol"
)

// Prefix is the path every route of the activator starts with: mount the
// handler there.
const Prefix = "/v1/actors/"

// MaxBody is the largest request body read, in bytes.
const MaxBody = 4 << 20

// Request is one call asked for over HTTP.
type Request struct {
	// Actor and Action name the call; Instance, when set, names an
	// instance of the unnamed actor Actor.
	Actor, Instance, Action string
	// Body is the input as JSON; empty for none.
	Body []byte
	// Async asks for the call to return once accepted.
	Async bool
}

// Problem is a failure, answered with Status and a JSON body holding Code
// and Message.
type Problem struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

// Invoke runs a request: it returns the reply, nil for none, or the
// failure.
type Invoke func(ctx context.Context, r Request) (*anypb.Any, *Problem)

// Options configure the handler.
type Options struct {
	// Token, when set, is required as "Authorization: Bearer <token>".
	Token string
	// Extract, when set, returns the request's context with what it
	// carries in its headers (a W3C traceparent).
	Extract func(ctx context.Context, h http.Header) context.Context
	// Log receives what goes wrong on the server's side; nil logs nothing.
	Log *zap.Logger
}

// Codes of the failures the handler finds itself, before a call.
const (
	CodeUnauthenticated  = "UNAUTHENTICATED"
	CodeNoRoute          = "NOT_FOUND"
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeMediaType        = "UNSUPPORTED_MEDIA_TYPE"
	CodeTooLarge         = "TOO_LARGE"
	CodeInvalid          = "INVALID"
	CodeInternal         = "INTERNAL"
)

// NewHandler returns the activator's routes, calling invoke.
func NewHandler(invoke Invoke, o Options) http.Handler {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	h := &handler{invoke: invoke, o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/actors/{actor}/{action}", h.serve)
	mux.HandleFunc("/v1/actors/{actor}/instances/{instance}/{action}", h.serve)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		write(w, &Problem{Status: http.StatusNotFound, Code: CodeNoRoute,
			Message: "no such route; POST /v1/actors/{actor}/{action} or /v1/actors/{actor}/instances/{instance}/{action}"})
	})
	return h.authorize(mux)
}

type handler struct {
	invoke Invoke
	o      Options
}

func (h *handler) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.o.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.o.Token)) != 1 {
				write(w, &Problem{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
					Message: "missing or wrong token: send Authorization: Bearer <token>, the program's token"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		write(w, &Problem{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "actions are called with POST"})
		return
	}
	req := Request{Actor: r.PathValue("actor"), Instance: r.PathValue("instance"), Action: r.PathValue("action")}
	if v := r.URL.Query().Get("async"); v != "" {
		async, err := strconv.ParseBool(v)
		if err != nil {
			write(w, &Problem{Status: http.StatusBadRequest, Code: CodeInvalid, Message: "async=" + strconv.Quote(v) + ": want true or false"})
			return
		}
		req.Async = async
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !jsonBody(ct) {
		write(w, &Problem{Status: http.StatusUnsupportedMediaType, Code: CodeMediaType, Message: "send application/json, not " + ct})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			write(w, &Problem{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: "the body is over " + strconv.Itoa(MaxBody) + " bytes"})
			return
		}
		write(w, &Problem{Status: http.StatusBadRequest, Code: CodeInvalid, Message: "reading the body: " + err.Error()})
		return
	}
	req.Body = body
	ctx := r.Context()
	if h.o.Extract != nil {
		ctx = h.o.Extract(ctx, r.Header)
	}
	reply, p := h.invoke(ctx, req)
	switch {
	case p != nil:
		write(w, p)
	case req.Async:
		w.WriteHeader(http.StatusAccepted)
	case reply == nil || (reply.GetTypeUrl() == "" && len(reply.GetValue()) == 0):
		w.WriteHeader(http.StatusNoContent)
	default:
		out, err := Render(reply)
		if err != nil {
			h.o.Log.Warn("spawn: activator: rendering a reply", zap.String("type", reply.GetTypeUrl()), zap.Error(err))
			write(w, &Problem{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "rendering the reply: " + err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}
}

// jsonBody reports whether a request of Content-Type ct is read as JSON:
// application/json and its +json relatives, and the form type that
// curl -d sends unless told otherwise.
func jsonBody(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded")
}

// marshal renders messages for callers: every field, set or not, with its
// JSON name.
var marshal = protojson.MarshalOptions{EmitUnpopulated: true}

// Render returns a reply as JSON: the message it holds, in the protobuf
// JSON mapping; the text of a JSONType reply (what SDKs in other
// languages send) as it is; and a reply whose type this program does not
// link in as {"@type": ..., "value": base64 of the bytes}.
func Render(reply *anypb.Any) ([]byte, error) {
	url := reply.GetTypeUrl()
	if isJSONType(url) {
		var j protocol.JSONType
		if err := proto.Unmarshal(reply.GetValue(), &j); err != nil {
			return nil, err
		}
		if json.Valid([]byte(j.GetContent())) {
			return []byte(j.GetContent()), nil
		}
		return json.Marshal(j.GetContent())
	}
	msg, err := reply.UnmarshalNew()
	if err != nil {
		return json.Marshal(map[string]string{"@type": url, "value": base64.StdEncoding.EncodeToString(reply.GetValue())})
	}
	b, err := marshal.Marshal(msg)
	if err != nil {
		return nil, err
	}
	// protojson varies its spacing from build to build; callers get the
	// same bytes for the same reply.
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func isJSONType(url string) bool {
	name := url[strings.LastIndexByte(url, '/')+1:]
	return name == "spawn.JSONType" || name == "eigr.functions.protocol.JSONType"
}

func write(w http.ResponseWriter, p *Problem) {
	// Messages quote what to send, such as "Bearer <token>": no HTML
	// escaping, which would show as \u003c in a terminal.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(p.Status)
	_, _ = w.Write(b.Bytes())
}
