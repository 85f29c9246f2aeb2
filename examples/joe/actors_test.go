package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/spawntest"
)

// The tests below run Joe with the test kit: on the real embedded engine,
// with its state in memory and a clock that moves only when the test says.

// knows reads the languages Joe keeps.
func knows(t *testing.T, k *spawntest.Kit) []string {
	t.Helper()
	var st domain.JoeState
	if err := k.State(context.Background(), "joe", &st); err != nil {
		t.Fatal(err)
	}
	return st.Languages
}

func TestJoeLearnsEachLanguageOnce(t *testing.T) {
	k := spawntest.NewKit(t, &Joe{})
	ctx := context.Background()
	for _, step := range []struct {
		language string
		reply    string // Joe's reply; "" when the action fails
		err      string // what the error says when it fails
		knows    []string
	}{
		{language: "go", reply: "I learned go", knows: []string{"go"}},
		{language: "rust", reply: "I learned rust", knows: []string{"go", "rust"}},
		{language: "go", reply: "I already know go", knows: []string{"go", "rust"}},
		// A request that names no language fails, and changes nothing.
		{language: "", err: "which language? the request names none", knows: []string{"go", "rust"}},
	} {
		reply, err := spawn.Call(ctx, k, (*Joe).SetLanguage, &domain.Request{Language: step.language})
		if step.err != "" {
			if spawn.CodeOf(err) != spawn.CodeAction || !strings.Contains(err.Error(), step.err) {
				t.Errorf("SetLanguage(%q) = %v, %v; want the action's error %q", step.language, reply, err, step.err)
			}
		} else if err != nil || reply.Response != step.reply {
			t.Errorf("SetLanguage(%q) = %v, %v; want %q", step.language, reply, err, step.reply)
		}
		if got := knows(t, k); !slices.Equal(got, step.knows) {
			t.Errorf("after SetLanguage(%q), Joe knows %q, want %q", step.language, got, step.knows)
		}
	}
}

func TestJoeRemembersAStoredState(t *testing.T) {
	k := spawntest.NewKit(t, &Joe{})
	// As if an earlier run of the program had taught Joe zig.
	k.SetState("joe", &domain.JoeState{Languages: []string{"zig"}})
	k.SetTags("joe", map[string]string{"team": "compilers"})

	reply, err := spawn.Call(context.Background(), k, (*Joe).SetLanguage, &domain.Request{Language: "zig"})
	if err != nil || reply.Response != "I already know zig" {
		t.Errorf("SetLanguage(zig) = %v, %v; want I already know zig", reply, err)
	}
	// SetLanguage changes the state, never the tags.
	if tags := k.Tags("joe"); tags["team"] != "compilers" || len(tags) != 1 {
		t.Errorf("tags after SetLanguage: %v", tags)
	}
}

func TestJoeSavesHisLanguagesAndDeactivatesWhenIdle(t *testing.T) {
	k := spawntest.NewKit(t, &Joe{})
	ctx := context.Background()
	if _, err := spawn.Call(ctx, k, (*Joe).SetLanguage, &domain.Request{Language: "go"}); err != nil {
		t.Fatal(err)
	}
	// Joe's idle time starts when he has finished with the call, a moment
	// after its reply. Advance does not wait for that before it moves the
	// clock: Settle does, so that it starts now.
	k.Settle()
	revs, err := k.Revisions(ctx, "joe")
	if err != nil || len(revs) != 0 {
		t.Fatalf("revisions before the snapshot: %+v, %v; want none", revs, err)
	}

	// The state is saved by the snapshot, every 2 seconds (the default).
	k.Advance(2 * time.Second)
	if revs, err := k.Revisions(ctx, "joe"); err != nil || len(revs) != 1 || !revs[0].SavedAt.Equal(k.Now()) {
		t.Fatalf("revisions after 2s: %+v, %v; want one, saved now", revs, err)
	}

	// Joe is deactivated once idle for 30 seconds (the default), counted
	// from his last call: neither the snapshot nor reading the revisions
	// keeps him busy.
	k.Advance(28*time.Second - time.Millisecond)
	if !k.Active("joe") {
		t.Fatal("Joe deactivated before 30 idle seconds")
	}
	k.Advance(time.Millisecond)
	if k.Active("joe") {
		t.Fatal("Joe is still active after 30 idle seconds")
	}

	// The next call activates him again, from the state saved.
	reply, err := spawn.Call(ctx, k, (*Joe).SetLanguage, &domain.Request{Language: "go"})
	if err != nil || reply.Response != "I already know go" {
		t.Errorf("SetLanguage(go) after the deactivation = %v, %v; want I already know go", reply, err)
	}
}
