// Package browser tests the dashboard as a person sees it: it runs the
// demo program with the dashboard on, drives the page in headless
// Chromium through the Chrome DevTools Protocol, and saves screenshots
// that docs/guide/12-dashboard.md shows.
//
//	cd internal/dashboard/browser && go test -screenshots ../../../docs/images
//
// It is a module of its own, so that its CDP client stays out of the
// SDK's dependencies. It needs Chromium (Debian's package chromium); it
// skips without one, except under CI, which installs it.
package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	chrome      = flag.String("chrome", os.Getenv("CHROME"), "the Chromium to drive (default: $CHROME, or chromium on the PATH)")
	screenshots = flag.String("screenshots", "", "the folder to save the screenshots in (default: none saved)")
)

// findChrome returns the browser to drive, or "" when there is none.
func findChrome() string {
	if *chrome != "" {
		return *chrome
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// demo runs the demo program with the dashboard and the activator on free
// ports, and returns their addresses.
func demo(t *testing.T) (dashboard, activator string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, "./demo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the demo: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-dashboard", "127.0.0.1:0", "-activator", "127.0.0.1:0", "-data", filepath.Join(t.TempDir(), "state"))
	cmd.Env = append(os.Environ(), "SPAWN_LOG=warn")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the demo ended with %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("the demo did not stop")
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for dashboard == "" || activator == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the demo stopped before it said where it listens")
			}
			if u, ok := strings.CutPrefix(l, "dashboard: "); ok {
				dashboard = strings.TrimSuffix(u, "/")
			}
			if u, ok := strings.CutPrefix(l, "activator: "); ok {
				activator = strings.TrimSuffix(u, "/")
			}
		case <-timeout:
			t.Fatal("the demo did not say where it listens within 30s")
		}
	}
	go func() {
		for range lines {
		}
	}()
	return dashboard, activator
}

// call calls an action of the demo through its JSON activator, as a
// program in another language would, and returns the reply.
func call(t *testing.T, activator, path, body string) map[string]any {
	t.Helper()
	res, err := http.Post(activator+"/"+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
	}
	var reply map[string]any
	if err := json.Unmarshal(b, &reply); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, b)
	}
	return reply
}

// TestDashboardInChromium: the actors are listed, the account's state is
// shown as JSON, a diff of two revisions is shown, and a restore made with
// the page's button changes what a later call sees; the page refreshes
// itself when the state changes.
func TestDashboardInChromium(t *testing.T) {
	path := findChrome()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium: CI installs Debian's package chromium (see .ci/run)")
		}
		t.Skip("no Chromium to drive: install Debian's package chromium, or set CHROME")
	}
	dash, act := demo(t)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)...)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// Starting the browser with no time limit, and the same window for
	// every run, so that the screenshots change only when the page does.
	if err := chromedp.Do(browser, chromedp.EmulateViewport(1280, 960)); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if *screenshots != "" {
			if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	balance := func() string {
		t.Helper()
		var st struct{ Balance string }
		raw := text("#state-text")
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			t.Fatalf("the state shown is not JSON: %v\n%s", err, raw)
		}
		return st.Balance
	}

	// The actors are listed, and the refused movement stands out.
	do("opening the dashboard", chromedp.Navigate(dash+"/"), chromedp.WaitVisible(chromedp.CSS(`tr[data-actor="account"]`)))
	actors := text("#actors")
	for _, want := range []string{"account", "auditor", "cart", "UNNAMED", "Check every 3s", "movements → Heard"} {
		if !strings.Contains(actors, want) {
			t.Errorf("the actors' table does not show %q:\n%s", want, actors)
		}
	}
	if failed := text("#calls tr.failed"); !strings.Contains(failed, "a movement needs an amount") {
		t.Errorf("the failed call reads %q", failed)
	}
	shot("dashboard-overview.png")

	// The account's state, as JSON.
	do("opening the account", chromedp.Click(chromedp.CSS(`tr[data-actor="account"] a`)), chromedp.WaitVisible(chromedp.CSS("#state-text")))
	if b := balance(); b != "-410" {
		t.Errorf("the account's balance shows %q, want -410", b)
	}
	if what := text("#state .what"); !strings.Contains(what, "revision 4") {
		t.Errorf("the state is described as %q", what)
	}

	// The mistake, as a diff of revisions 3 and 4.
	do("comparing revisions 3 and 4", chromedp.Click(chromedp.CSS(`a[href*="from=3&to=4"]`)), chromedp.WaitVisible(chromedp.CSS("#diff-lines")))
	diff := text("#diff-lines")
	for _, want := range []string{`-  "balance": "90",`, `+  "balance": "-410",`, `+    "-500 rent, typed with a zero too many"`} {
		if !strings.Contains(diff, want) {
			t.Errorf("the diff does not show %q:\n%s", want, diff)
		}
	}
	do("scrolling to the revisions", chromedp.ScrollIntoView(chromedp.CSS("#revisions")))
	shot("dashboard-diff.png")

	// Restore revision 3 with its button.
	do("restoring revision 3", chromedp.Click(chromedp.CSS(`button.restore[data-revision="3"]`)), chromedp.WaitVisible(chromedp.CSS("#restored")))
	if got := text("#restored"); got != "Revision 3 is the state again, saved as revision 5." {
		t.Errorf("after the restore, the page says %q", got)
	}
	if b := balance(); b != "90" {
		t.Errorf("after the restore, the balance shows %q, want 90", b)
	}
	// The whole story on one picture: what the restore did, the state,
	// and the history that keeps the mistake.
	do("making the window taller", chromedp.EmulateViewport(1280, 1440))
	shot("dashboard-restored.png")
	do("making the window as it was", chromedp.EmulateViewport(1280, 960))
	// A later call sees the restored state: from another program, through
	// the activator, and from the page's own form.
	if st := call(t, act, "account/Statement", ""); st["balance"] != "90" || st["revision"] != "5" {
		t.Errorf("a call after the restore reads %v, want balance 90 of revision 5", st)
	}
	do("calling Statement from the page",
		chromedp.SetValue(chromedp.CSS(`#call select[name="action"]`), "Statement"),
		chromedp.Click(chromedp.CSS(`#call button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#call-result")))
	if reply := text("#call-result"); !strings.Contains(reply, `"balance": "90"`) {
		t.Errorf("the page's call reads %q", reply)
	}

	// The page follows the state: a movement made elsewhere shows within
	// a few seconds, with no reload.
	do("going back to the account", chromedp.Navigate(dash+"/actors/account"), chromedp.WaitVisible(chromedp.CSS("#state-text")))
	call(t, act, "account/Move", `{"amount": "-50", "memo": "rent"}`)
	deadline := time.Now().Add(10 * time.Second)
	for balance() != "40" {
		if time.Now().After(deadline) {
			t.Fatalf("the page still shows a balance of %s, 10s after a movement to 40", balance())
		}
		time.Sleep(200 * time.Millisecond)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#revisions tr[data-revision]").length`))
	if err != nil || rows != 6 {
		t.Errorf("the revisions listed: %d (%v), want 6", rows, err)
	}
}
