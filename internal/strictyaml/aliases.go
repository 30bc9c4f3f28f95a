package strictyaml

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// checkAliases bounds the number of alias nodes and the nodes their
// expansion adds (billion laughs), and rejects an anchor that contains an
// alias to itself.
func checkAliases(name string, doc *yaml.Node, opts Options) error {
	a := aliasCounter{sizes: map[*yaml.Node]int{}, active: map[*yaml.Node]bool{}, limit: opts.MaxAliasNodes}
	raw := a.count(doc)
	if a.err != nil {
		return &Error{File: name, Line: a.errLine, Msg: a.err.Error()}
	}
	if a.aliases > opts.MaxAliases {
		return &Error{File: name, Line: a.firstOver(doc, opts.MaxAliases), Msg: fmt.Sprintf(
			"more than %d aliases (*name); write the values out instead", opts.MaxAliases)}
	}
	total := a.expanded(doc)
	if a.err != nil {
		return &Error{File: name, Line: a.errLine, Msg: a.err.Error()}
	}
	if total-raw > opts.MaxAliasNodes {
		return &Error{File: name, Msg: fmt.Sprintf(
			"aliases expand to more than %d nodes; write the values out instead", opts.MaxAliasNodes)}
	}
	return nil
}

type aliasCounter struct {
	aliases int
	seen    int // alias nodes met so far by firstOver
	sizes   map[*yaml.Node]int
	active  map[*yaml.Node]bool
	limit   int
	err     error
	errLine int
}

// count returns the nodes in the tree as written and counts alias nodes.
func (a *aliasCounter) count(n *yaml.Node) int {
	if n.Kind == yaml.AliasNode {
		a.aliases++
		if n.Alias == nil {
			a.err, a.errLine = fmt.Errorf("alias refers to no anchor"), n.Line
		}
		return 1
	}
	total := 1
	for _, c := range n.Content {
		total += a.count(c)
	}
	return total
}

// firstOver returns the line of the alias that goes over max.
func (a *aliasCounter) firstOver(n *yaml.Node, max int) int {
	if n.Kind == yaml.AliasNode {
		a.seen++
		if a.seen > max {
			return n.Line
		}
		return 0
	}
	for _, c := range n.Content {
		if line := a.firstOver(c, max); line > 0 {
			return line
		}
	}
	return 0
}

// saturate caps node counts so sums cannot overflow; far above any limit.
const saturate = 1 << 40

// expanded returns the node count with every alias replaced by its anchor.
func (a *aliasCounter) expanded(n *yaml.Node) int {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if size, ok := a.sizes[n]; ok {
		return size
	}
	if a.active[n] {
		a.err, a.errLine = fmt.Errorf("anchor &%s contains an alias to itself", n.Anchor), n.Line
		return 0
	}
	a.active[n] = true
	size := 1
	for _, c := range n.Content {
		size = min(size+a.expanded(c), saturate)
	}
	delete(a.active, n)
	a.sizes[n] = size
	return size
}
