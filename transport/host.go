package transport

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/spawn-go/spawn/protocol"
)

// HostHandler runs one encoded ActorInvocation and returns the HTTP status
// and the encoded ActorInvocationResponse to answer with. The proxy reads
// only the body, so the status is informative; 0 means 200.
type HostHandler func(ctx context.Context, body []byte) (status int, resp []byte)

// NewHostServer returns the user program's HTTP server: POST
// /api/v1/actors/actions hands the request body to h, GET /health answers
// 200 {"status":"up"}, and anything else is 404. A nil logger logs nothing.
func NewHostServer(h HostHandler, logger *zap.Logger) *Server {
	s := newServer(logger)
	s.echo.POST(protocol.HostPath, func(c echo.Context) error {
		// The real proxy sends application/octet-stream; hand-written
		// clients (curl, tests) often send no Content-Type at all.
		body, rerr := readBody(c, true, maxHostBodyBytes)
		if rerr != nil {
			return c.String(rerr.code, rerr.msg)
		}
		status, resp := h(c.Request().Context(), body)
		if status == 0 {
			status = http.StatusOK
		}
		return c.Blob(status, contentTypeProtobuf, resp)
	})
	s.echo.GET("/health", s.health)
	return s
}
