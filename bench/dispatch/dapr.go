package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/dapr/go-sdk/actor"
	actorErr "github.com/dapr/go-sdk/actor/error"
	"github.com/dapr/go-sdk/actor/manager"
	daprhttp "github.com/dapr/go-sdk/service/http"
	"github.com/go-chi/chi/v5"

	"github.com/spawn-go/spawn/bench/internal/loopback"
)

// The Dapr side of the comparison. Dapr's sidecar calls the app with PUT
// /actors/{type}/{id}/method/{method} and a JSON body; the Go SDK's actor
// manager finds (or activates) the actor, decodes the body into the
// method's argument, calls it by reflection and encodes the reply. Dapr
// actors keep their state through the sidecar, not in the request, so the
// counter lives in the actor value; nothing is sent to a sidecar.

// DaprEchoType is the Dapr actor type of the comparison.
const DaprEchoType = "echo"

// DaprPayload is the JSON body of a Dapr call: the same bytes as the
// Spawn subjects' BytesValue (base64 in JSON).
type DaprPayload struct {
	Data []byte `json:"data"`
}

// DaprEcho is the Dapr actor: it counts calls and echoes its input.
type DaprEcho struct {
	actor.ServerImplBaseCtx
	Count int64
}

// Type implements actor.ServerContext.
func (a *DaprEcho) Type() string { return DaprEchoType }

// Echo counts the call and answers with its input.
func (a *DaprEcho) Echo(ctx context.Context, in *DaprPayload) (*DaprPayload, error) {
	a.Count++
	return in, nil
}

func daprBody(n int) []byte {
	b, _ := json.Marshal(DaprPayload{Data: Data(n)})
	return b
}

func daprCheck(n int, resp []byte) error {
	var out DaprPayload
	if err := json.Unmarshal(resp, &out); err != nil {
		return fmt.Errorf("dapr reply: %w", err)
	}
	if !bytes.Equal(out.Data, Data(n)) {
		return fmt.Errorf("dapr reply holds %d bytes, not the %d sent", len(out.Data), len(Data(n)))
	}
	return nil
}

// DaprSubject runs DaprEcho: in memory through the SDK's actor manager
// behind a handler that does what the SDK's own route handler does (read
// the body, InvokeMethod, write the reply) without its router, and over
// HTTP through the SDK's service (github.com/dapr/go-sdk/service/http),
// router included.
func DaprSubject() (Subject, error) {
	// Activating a Dapr actor dials the sidecar's gRPC port and waits up
	// to this many seconds for it; there is no sidecar here, and the
	// actors work without one as long as they save no state.
	if os.Getenv("DAPR_CLIENT_TIMEOUT_SECONDS") == "" {
		os.Setenv("DAPR_CLIENT_TIMEOUT_SECONDS", "1")
	}
	mgr, aerr := manager.NewDefaultActorManagerContext("json")
	if aerr != actorErr.Success {
		return Subject{}, fmt.Errorf("dapr actor manager: error %d", aerr)
	}
	mgr.RegisterActorImplFactory(func() actor.ServerContext { return &DaprEcho{} })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqData, _ := io.ReadAll(r.Body)
		rsp, aerr := mgr.InvokeMethod(r.Context(), "a1", "Echo", reqData)
		if aerr != actorErr.Success {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(rsp)
	})

	addr, err := loopback.FreeAddr()
	if err != nil {
		return Subject{}, err
	}
	mux := chi.NewRouter()
	svc := daprhttp.NewServiceWithMux(addr, mux)
	svc.RegisterActorImplFactoryContext(func() actor.ServerContext { return &DaprEcho{} })
	started := make(chan error, 1)
	go func() { started <- svc.Start() }()
	if err := loopback.WaitListening(addr, 10*time.Second); err != nil {
		return Subject{}, fmt.Errorf("dapr service: %w", err)
	}
	stop := func() {
		_ = svc.Stop()
		<-started
	}
	return Subject{
		Name: "dapr", Body: daprBody, Check: daprCheck,
		Method: http.MethodPut, Path: "/actors/" + DaprEchoType + "/a1/method/Echo", ContentType: "application/json",
		Handler: h, URL: "http://" + addr, Close: stop,
	}, nil
}
