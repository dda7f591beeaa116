package flow

import (
	"fmt"
	"strings"
)

// String describes the graph's topology, one level a line: its kind, name, width, ring
// capacity and what it reads, with routing and the phases it waits for.
func (g *Graph) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	for _, lv := range g.levels {
		b.WriteString(lv.describe())
		for i, e := range lv.in {
			if i == 0 {
				fmt.Fprintf(&b, " <- %s", lv.edgeLabel())
			}
			fmt.Fprintf(&b, " %q", e.from.name)
			if len(e.after) > 0 {
				b.WriteString(" after")
				for _, ph := range e.after {
					fmt.Fprintf(&b, " %q", ph.name)
				}
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// edgeLabel names how the level reads its inputs: its routing, or "phase" for a phase, which
// sees every entry of its rings in place whatever the stream's routing was.
func (lv *level) edgeLabel() string {
	if lv.kind == kindPhase {
		return "phase"
	}
	return lv.route.String()
}

// DOT renders the topology in Graphviz's DOT language: a node per level (its width in the
// label), a solid edge per ring attachment labelled with its routing, and a dashed edge
// from each phase an attachment waits for.
func (g *Graph) DOT() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	b.WriteString("digraph loopyring {\n\trankdir=LR;\n\tnode [shape=box];\n")
	for _, lv := range g.levels {
		shape := "box"
		switch lv.kind {
		case kindInput, kindSource:
			shape = "invhouse"
		case kindPhase:
			shape = "ellipse"
		case kindSink:
			shape = "house"
		}
		label := fmt.Sprintf("%s ×%d", lv.name, lv.n)
		if m := lv.shownMode(); m != "" {
			label += " " + m
		}
		fmt.Fprintf(&b, "\tn%d [label=%q shape=%s];\n", lv.id, label, shape)
	}
	for _, lv := range g.levels {
		for _, e := range lv.in {
			fmt.Fprintf(&b, "\tn%d -> n%d [label=%q];\n", e.from.id, lv.id, lv.edgeLabel())
			for _, ph := range e.after {
				fmt.Fprintf(&b, "\tn%d -> n%d [style=dashed];\n", ph.id, lv.id)
			}
		}
	}
	b.WriteString("}\n")
	return b.String()
}
