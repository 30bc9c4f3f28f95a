package strictyaml

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	unmarshalerType         = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshalerType = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// walker checks keys against the decode target's type. yaml.v3 applies
// KnownFields only in Decoder.Decode, not in Node.Decode, and the tree must be
// decoded as a node to expand ${NAME} with lines intact, so the same rule is
// applied here; it also rejects duplicate and merge (<<) keys.
type walker struct {
	file   string
	lines  Lines
	values map[position]string // path of each value, for NodeError
	errs   []error
}

// position is a node's line and column.
type position struct{ line, col int }

// record notes the line of path and the path of value v.
func (w *walker) record(path string, line int, v *yaml.Node) {
	w.lines[path] = line
	w.values[position{v.Line, v.Column}] = path
}

func (w *walker) fail(line int, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// walk checks n against t (nil: any value) at path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	t = target(t)
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, t, path)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			w.walk(n.Alias, t, path)
		}
	case yaml.SequenceNode:
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i, c := range n.Content {
			item := path + "[" + strconv.Itoa(i) + "]"
			w.record(item, c.Line, c)
			w.walk(c, elem, item)
		}
	case yaml.MappingNode:
		w.mapping(n, t, path)
	}
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	var fields map[string]reflect.Type
	var rest reflect.Type // type of keys not in fields; nil: any value
	anyKey := true
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields, rest, anyKey = structFields(t)
		case reflect.Map:
			rest = t.Elem()
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			w.walk(v, nil, path)
			continue
		}
		if k.ShortTag() == "!!merge" {
			w.fail(k.Line, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		// 1 and "1" differ in YAML but are one key of a map[string]T.
		if prev, dup := seen[k.Value]; dup {
			w.fail(k.Line, "key %q is already defined at line %d", k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		child := k.Value
		if path != "" {
			child = path + "." + k.Value
		}
		w.record(child, k.Line, v)
		ft, known := fields[k.Value]
		switch {
		case known:
			w.walk(v, ft, child)
		case anyKey:
			w.walk(v, rest, child)
		default:
			w.fail(k.Line, "field %q not valid here; valid fields: %s", k.Value, fieldList(fields))
		}
	}
}

// target strips pointers and returns nil for types that accept any YAML
// (interfaces) or decode themselves (unmarshalers).
func target(t reflect.Type) reflect.Type {
	for t != nil {
		switch {
		case decodesItself(t), t.Kind() == reflect.Interface:
			return nil
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		default:
			return t
		}
	}
	return nil
}

func decodesItself(t reflect.Type) bool {
	for _, u := range []reflect.Type{unmarshalerType, obsoleteUnmarshalerType, textUnmarshalerType} {
		if t.Implements(u) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(u)) {
			return true
		}
	}
	return false
}

// structFields returns the YAML keys of struct t as yaml.v3 names them, the
// type of an ",inline" map if any, and whether any key is accepted.
func structFields(t reflect.Type) (fields map[string]reflect.Type, rest reflect.Type, anyKey bool) {
	fields = map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		if !slices.Contains(strings.Split(flags, ","), "inline") {
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Map:
			rest, anyKey = ft.Elem(), true
		case ft.Kind() == reflect.Struct && !decodesItself(ft):
			inner, innerRest, innerAny := structFields(ft)
			for k, v := range inner {
				fields[k] = v
			}
			if innerAny {
				rest, anyKey = innerRest, true
			}
		default:
			rest, anyKey = nil, true
		}
	}
	return fields, rest, anyKey
}

func fieldList(fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// checkDepth refuses a tree nested deeper than max, walking it without
// recursion (aliases are not followed: checkAliases bounds them).
func checkDepth(name string, doc *yaml.Node, max int) error {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{doc, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > max {
			return &Error{File: name, Line: it.n.Line, Msg: fmt.Sprintf(
				"nested more than %d levels deep; flatten it", max)}
		}
		for _, c := range it.n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return nil
}
