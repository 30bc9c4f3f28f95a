package strictyaml

import (
	"reflect"
	"regexp"

	"gopkg.in/yaml.v3"
)

// varRe matches ${NAME}.
var varRe = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// expand replaces ${NAME} in every string scalar that is not a mapping key,
// in place, visiting each node once (aliases are not followed: their anchors
// are visited where they are written). It returns the lines it changed, so
// error messages can leave the expanded values out, and one error per unset
// variable.
func expand(name string, n *yaml.Node, lookup func(string) (string, bool)) (map[int]bool, []error) {
	e := expander{file: name, lookup: lookup, lines: map[int]bool{}}
	e.node(n)
	return e.lines, e.errs
}

type expander struct {
	file   string
	lookup func(string) (string, bool)
	lines  map[int]bool
	errs   []error
}

func (e *expander) node(n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode:
		e.scalar(n)
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			e.node(n.Content[i])
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			e.node(c)
		}
	}
}

func (e *expander) scalar(n *yaml.Node) {
	if n.ShortTag() != "!!str" || !varRe.MatchString(n.Value) {
		return
	}
	e.lines[n.Line] = true
	n.Value = varRe.ReplaceAllStringFunc(n.Value, func(ref string) string {
		key := ref[2 : len(ref)-1]
		val, ok := e.lookup(key)
		if !ok {
			e.errs = append(e.errs, &Error{File: e.file, Line: n.Line,
				Msg: "environment variable " + key + " is not set"})
		}
		return val
	})
}

// typeOf returns the type v points to, or nil.
func typeOf(v any) reflect.Type {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}
