// Package dashboard is the development dashboard of spawn-go's runtime: a
// web page that shows, live, the registered actors with their settings,
// active instances, mailboxes, timers and channels; an actor's state as
// JSON where its message type is known, its revisions, a diff between two
// of them and a restore; and the recent invocations, errors first to the
// eye.
//
// It is served by the embedded runtime when a program asks for it
// (spawn.WithDashboard, SPAWN_DASHBOARD_ADDR) and by spawn proxy
// (-dashboard), on loopback only. It is server-rendered HTML from
// html/template with a little plain JavaScript that refreshes the page's
// live parts, all embedded in the binary: it needs no build step and no
// network. It shows what the runtime's introspection and Observer report,
// and changes nothing but by a restore, through the same Engine.Restore as
// the API (and, when the program serves the JSON activator, by the calls
// made through it).
//
// Routes, from the root of its listener:
//
//	GET  /                              the actors, topics and recent invocations
//	GET  /actors/{name}                 one actor: settings, state, revisions, its calls
//	     ?rev=N                         the state as revision N holds it
//	     ?from=A&to=B                   the diff of revisions A and B
//	     ?parent=P                      an instance of the unnamed actor P
//	POST /actors/{name}/restore         restore the revision of the form's "revision"
//	POST /actors/{name}/call            call an action with JSON (with the activator only)
//	GET  /static/{file}                 the style sheet and the script
package dashboard

import (
	"cmp"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
)

// Engine is what the dashboard reads of a runtime, and the one thing it
// changes: *runtime.Engine.
type Engine interface {
	Actors() []runtime.ActorInfo
	Topics() []runtime.TopicInfo
	Activations() []runtime.ActivationInfo
	CurrentState(ctx context.Context, id *protocol.ActorId) (runtime.CurrentState, error)
	Revisions(ctx context.Context, id *protocol.ActorId) ([]runtime.RevisionInfo, error)
	StateAt(ctx context.Context, id *protocol.ActorId, rev int64) (*protocol.ActorState, error)
	Restore(ctx context.Context, id *protocol.ActorId, rev int64) error
}

// CallFunc calls action on actor (on its instance, when instance is set)
// with body, its input as JSON, and returns the reply as JSON; nil for
// none.
type CallFunc func(ctx context.Context, actor, instance, action string, body []byte) ([]byte, error)

// Options configure a Dashboard.
type Options struct {
	// Engine is the runtime shown. Required.
	Engine Engine
	// Recent keeps its invocations; feed it with Recent.Observer. Nil
	// shows none.
	Recent *Recent
	// System is the actor system the engine serves.
	System string
	// Where says what runs the engine, as the page's title shows it: "the
	// embedded runtime of shop-service", "spawn proxy".
	Where string
	// Types finds the message types of states, to show them as JSON; nil
	// knows none, and states are shown by type URL, size and bytes.
	Types *protoregistry.Types
	// Token, when set, is required: as "Authorization: Bearer <token>", or
	// once as ?token=, which the page then keeps in a cookie.
	Token string
	// Call, when set, lets the page call actions with JSON.
	Call CallFunc
	// Log receives what goes wrong; nil logs nothing.
	Log *zap.Logger
}

// Dashboard is the page's HTTP handler.
type Dashboard struct {
	o     Options
	mux   *http.ServeMux
	pages map[string]*template.Template
	cop   *http.CrossOriginProtection
}

//go:embed assets
var assets embed.FS

// timeout bounds what the page waits for the engine: a state behind a
// long mailbox is reported as not read, not waited for.
const timeout = 5 * time.Second

// New returns the dashboard of o.Engine.
func New(o Options) (*Dashboard, error) {
	if o.Engine == nil {
		return nil, errors.New("dashboard: Options.Engine is required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Where == "" {
		o.Where = "spawn-go"
	}
	d := &Dashboard{o: o, mux: http.NewServeMux(), pages: map[string]*template.Template{}, cop: http.NewCrossOriginProtection()}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/calls.html")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"overview.html", "actor.html"} {
		t, err := template.Must(layout.Clone()).ParseFS(assets, "assets/"+name)
		if err != nil {
			return nil, err
		}
		d.pages[name] = t
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	d.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	d.mux.HandleFunc("GET /{$}", d.overview)
	d.mux.HandleFunc("GET /actors/{name}", d.actor)
	d.mux.HandleFunc("POST /actors/{name}/restore", d.restore)
	d.mux.HandleFunc("POST /actors/{name}/call", d.call)
	return d, nil
}

// ServeHTTP serves the page, after checking who asks.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if !loopbackHost(r.Host) {
		// A page of another site whose name was made to point at this
		// machine must not read it.
		http.Error(w, "the dashboard answers requests for localhost only", http.StatusMisdirectedRequest)
		return
	}
	if err := d.cop.Check(r); err != nil {
		http.Error(w, "the dashboard takes forms from its own pages only", http.StatusForbidden)
		return
	}
	if d.o.Token != "" && !d.authorized(w, r) {
		return
	}
	d.mux.ServeHTTP(w, r)
}

// cookieName is the cookie that keeps the token.
const cookieName = "spawn-dashboard-token"

// authorized reports whether r carries the token. A GET with ?token= sets
// the cookie and is sent to the same address without it, so that the token
// stays out of the page's links and the browser's history.
func (d *Dashboard) authorized(w http.ResponseWriter, r *http.Request) bool {
	same := func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(d.o.Token)) == 1 }
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(auth) {
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil && same(c.Value) {
		return true
	}
	if q := r.URL.Query(); q.Has("token") && same(q.Get("token")) && r.Method == http.MethodGet {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: d.o.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintln(w, "This dashboard needs the runtime's token (SPAWN_TOKEN, spawn.WithToken, or spawn proxy's -token-file): open it once as /?token=<token>,\nor send \"Authorization: Bearer <token>\".")
	return false
}

// loopbackHost reports whether a request's Host names this machine's
// loopback: localhost, or a loopback address.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.Trim(hostport, "[]")
	}
	return isLoopback(host)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen listens on addr, which must be on loopback: "127.0.0.1:9090",
// "localhost:9090", "[::1]:9090", or ":9090", which means 127.0.0.1.
// Port 0 picks a free one.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard address %q: want host:port on loopback, as 127.0.0.1:9090", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !isLoopback(host) {
		return nil, fmt.Errorf("dashboard address %q: the dashboard shows and restores the actors' state, so it listens on loopback only (127.0.0.1, ::1 or localhost); to reach it from elsewhere, use an SSH tunnel", addr)
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

// Server serves d on l until Shutdown.
func (d *Dashboard) Server() *http.Server {
	return &http.Server{
		Handler:           d,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(d.o.Log),
	}
}

// render writes page name with data.
func (d *Dashboard) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := d.pages[name].ExecuteTemplate(&b, "layout.html", data); err != nil {
		d.o.Log.Error("dashboard: rendering "+name, zap.Error(err))
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// actorURL is the address of an actor's page.
func actorURL(name, parent string) string {
	u := "/actors/" + url.PathEscape(name)
	if parent != "" {
		u += "?parent=" + url.QueryEscape(parent)
	}
	return u
}

// byName orders actors as the engine lists them.
func byName(a, b runtime.ActorRef) int {
	return cmp.Or(strings.Compare(a.System, b.System), strings.Compare(a.Name, b.Name))
}
