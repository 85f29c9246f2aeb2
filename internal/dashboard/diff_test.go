package dashboard

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// sides returns the texts a diff turns one into the other: its kept and
// removed lines, and its kept and added lines, checking the line numbers
// on the way.
func sides(t *testing.T, d []Line) (a, b []string) {
	t.Helper()
	for _, l := range d {
		if l.Op != Add {
			a = append(a, l.Text)
			if l.A != len(a) {
				t.Fatalf("line %q numbered %d in the first text, want %d", l.Text, l.A, len(a))
			}
		}
		if l.Op != Del {
			b = append(b, l.Text)
			if l.B != len(b) {
				t.Fatalf("line %q numbered %d in the second text, want %d", l.Text, l.B, len(b))
			}
		}
	}
	return a, b
}

// lcs is the length of the longest common subsequence, the slow way.
func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func edits(d []Line) int {
	n := 0
	for _, l := range d {
		if l.Op != Same {
			n++
		}
	}
	return n
}

func TestDiffShows(t *testing.T) {
	a := strings.Split("{\n  \"balance\": \"90\",\n  \"movements\": [\n    \"+100 salary\"\n  ]\n}", "\n")
	b := strings.Split("{\n  \"balance\": \"-410\",\n  \"movements\": [\n    \"+100 salary\",\n    \"-500 rent\"\n  ]\n}", "\n")
	var got []string
	for _, l := range Diff(a, b) {
		got = append(got, [...]string{" ", "-", "+"}[l.Op]+l.Text)
	}
	want := []string{
		" {",
		`-  "balance": "90",`,
		`+  "balance": "-410",`,
		`   "movements": [`,
		`-    "+100 salary"`,
		`+    "+100 salary",`,
		`+    "-500 rent"`,
		"   ]",
		" }",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDiffIsShortest compares random texts of a few distinct lines, where
// many alignments are possible: each diff must turn one into the other
// with the fewest lines removed and added.
func TestDiffIsShortest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	text := func() []string {
		out := make([]string, r.IntN(12))
		for i := range out {
			out[i] = string(rune('a' + r.IntN(4)))
		}
		return out
	}
	for range 5000 {
		a, b := text(), text()
		d := Diff(a, b)
		ga, gb := sides(t, d)
		if strings.Join(ga, "") != strings.Join(a, "") || strings.Join(gb, "") != strings.Join(b, "") {
			t.Fatalf("Diff(%q, %q) = %+v: it does not turn one into the other", a, b, d)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits(d) != want {
			t.Fatalf("Diff(%q, %q) makes %d edits, want %d", a, b, edits(d), want)
		}
	}
}

// TestDiffGivesUp checks that texts too different to align cheaply are
// shown as one removed and the other added.
func TestDiffGivesUp(t *testing.T) {
	var a, b []string
	for i := range maxEdits + 10 {
		a = append(a, "a"+string(rune(i)))
		b = append(b, "b"+string(rune(i)))
	}
	d := Diff(a, b)
	if edits(d) != len(a)+len(b) {
		t.Fatalf("%d edits, want %d", edits(d), len(a)+len(b))
	}
	sides(t, d)
}
