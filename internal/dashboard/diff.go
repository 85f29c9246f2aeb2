package dashboard

// A line diff of two texts, for comparing two revisions of a state: the
// shortest edit script of Myers' "An O(ND) difference algorithm", computed
// after the common head and tail are set aside, and given up (everything
// removed, then everything added) past maxEdits edits.

// Op says what a line of a diff does.
type Op int

const (
	Same Op = iota // in both texts
	Del            // only in the first
	Add            // only in the second
)

// Line is one line of a diff. A and B are its line numbers, from 1, in
// the first and the second text; 0 where it is not in that text.
type Line struct {
	Op   Op
	Text string
	A, B int
}

// maxEdits bounds the work of a diff: past that many lines removed or
// added, the two texts are shown as one removed and one added.
const maxEdits = 2000

// Diff returns the lines of a and b as a shortest sequence of lines kept,
// removed and added that turns a into b.
func Diff(a, b []string) []Line {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	out := make([]Line, 0, len(a)+len(b)-head-tail)
	for i := range head {
		out = append(out, Line{Op: Same, Text: a[i], A: i + 1, B: i + 1})
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	for _, l := range middle(ma, mb) {
		if l.A > 0 {
			l.A += head
		}
		if l.B > 0 {
			l.B += head
		}
		out = append(out, l)
	}
	for i := range tail {
		ia, ib := len(a)-tail+i, len(b)-tail+i
		out = append(out, Line{Op: Same, Text: a[ia], A: ia + 1, B: ib + 1})
	}
	return out
}

// middle diffs a and b, which share no first and no last line.
func middle(a, b []string) []Line {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaced(a, b)
	}
	// furthest[k] is the furthest x reached on diagonal k = x-y, stored at
	// k+off. Before each round d, the entries of diagonals -d..d are
	// copied into rounds, for the walk back.
	off := n + m
	furthest := make([]int, 2*off+2)
	var rounds [][]int
	for d := 0; d <= n+m; d++ {
		if d > maxEdits {
			return replaced(a, b)
		}
		lo, hi := max(off-d, 0), min(off+d, 2*off)+1
		rounds = append(rounds, append([]int(nil), furthest[lo:hi]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && furthest[off+k-1] < furthest[off+k+1]) {
				x = furthest[off+k+1] // a line of b added: down from k+1
			} else {
				x = furthest[off+k-1] + 1 // a line of a removed: right from k-1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			furthest[off+k] = x
			if x >= n && y >= m {
				return walkBack(a, b, rounds, off)
			}
		}
	}
	return replaced(a, b)
}

// walkBack follows the rounds of middle back from the end of both texts,
// and returns the lines in order.
func walkBack(a, b []string, rounds [][]int, off int) []Line {
	var rev []Line
	x, y := len(a), len(b)
	for d := len(rounds) - 1; d > 0; d-- {
		prev := rounds[d] // the diagonals as round d found them
		lo := max(off-d, 0)
		at := func(k int) int { return prev[off+k-lo] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		// The snake of this round: lines kept, from the move's end.
		sx := px
		if pk == k-1 {
			sx = px + 1
		}
		for x > sx {
			x, y = x-1, y-1
			rev = append(rev, Line{Op: Same, Text: a[x], A: x + 1, B: y + 1})
		}
		if pk == k+1 {
			rev = append(rev, Line{Op: Add, Text: b[py], B: py + 1})
		} else {
			rev = append(rev, Line{Op: Del, Text: a[px], A: px + 1})
		}
		x, y = px, py
	}
	for x > 0 {
		x, y = x-1, y-1
		rev = append(rev, Line{Op: Same, Text: a[x], A: x + 1, B: y + 1})
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// replaced is a removed and b added.
func replaced(a, b []string) []Line {
	out := make([]Line, 0, len(a)+len(b))
	for i, t := range a {
		out = append(out, Line{Op: Del, Text: t, A: i + 1})
	}
	for i, t := range b {
		out = append(out, Line{Op: Add, Text: t, B: i + 1})
	}
	return out
}
