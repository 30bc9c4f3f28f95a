package config

import (
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// envRef matches ${NAME}, as strictyaml expands it.
var envRef = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// envPaths returns the key paths (as strictyaml.Lines names them:
// "issuers.postgres.dsn", "oidc[0].issuer") of the string values in data
// that hold ${NAME}. data has already been decoded by strictyaml, so it is
// one document within the alias limits.
func envPaths(data []byte) (map[string]bool, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("finding ${NAME} values: %w", err)
	}
	paths := map[string]bool{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.AliasNode:
			if n.Alias != nil {
				walk(n.Alias, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind == yaml.AliasNode && k.Alias != nil {
					k = k.Alias
				}
				if k.Kind != yaml.ScalarNode {
					continue
				}
				child := k.Value
				if path != "" {
					child = path + "." + k.Value
				}
				walk(n.Content[i+1], child)
			}
		case yaml.ScalarNode:
			if n.ShortTag() == "!!str" && envRef.MatchString(n.Value) {
				paths[path] = true
			}
		}
	}
	walk(&doc, "")
	return paths, nil
}
