package config

import (
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jit-policy/jit-policy/internal/strictyaml"
)

// Duration is a time.Duration written as a Go duration string ("15m", "2h").
// The zero value means "not set"; a set value is always greater than zero.
type Duration struct {
	time.Duration
}

// UnmarshalYAML decodes a duration string, rejecting garbage and values of
// zero or less. Errors name the line but never echo the value, which may
// have come from the environment.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	fail := func(msg string) error { return strictyaml.NodeError(n, msg) }
	if n.Kind != yaml.ScalarNode {
		return fail("a duration must be a string such as 15m or 2h")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fail("not a duration; write one such as 15m, 1h or 1h30m")
	}
	if v <= 0 {
		return fail("duration must be greater than zero")
	}
	d.Duration = v
	return nil
}
