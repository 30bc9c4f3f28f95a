package strictyaml

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Problems collects the validation problems of a decoded file, each naming
// its key path and, where the key is in the file, its line (from the Lines
// DecodeWith returned). The zero value with File and Lines set is ready.
type Problems struct {
	File  string
	Lines Lines
	errs  []*Error
}

// Fail records a problem at path ("issuers.ssh.max_ttl", "access[0].role").
func (p *Problems) Fail(path, format string, args ...any) {
	p.errs = append(p.errs, &Error{
		File: p.File, Line: p.Lines.Line(path), Msg: path + ": " + fmt.Sprintf(format, args...),
	})
}

// Err returns the problems in file order, joined, or nil.
func (p *Problems) Err() error {
	slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Line returns the line of path or, when the key is absent, of its nearest
// parent that is in the file; 0 when none is.
func (l Lines) Line(path string) int {
	for path != "" {
		if n, ok := l[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
