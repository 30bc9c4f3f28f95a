package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jit-policy/jit-policy/internal/strictyaml"
)

// Load reads, validates and resolves the config file at path, expanding
// ${NAME} from the process environment.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, os.LookupEnv)
}

// CheckedPaths are the folders a config file names, as CheckFile returns
// them: Policy, resolved as Config.PolicyDir, and Requests, the folder of
// pull-request request files (pull_requests.requests, default requests),
// relative to the repository root.
type CheckedPaths struct {
	Policy   string
	Requests string
}

// CheckFile validates the config file at path without reading the
// environment, and returns the folders it names. It is for commands that must run without the
// deployment's secrets, such as `jit-policy test` in a pull request's CI:
// the file is decoded as strictly as Load does, and every value written in
// it is checked, but a value holding ${NAME} is unknown here and is not
// checked (the command that reads it checks it). The policy key must be
// written out: a folder named by ${NAME} cannot be found.
func CheckFile(path string) (CheckedPaths, error) {
	data, err := readFile(path)
	if err != nil {
		return CheckedPaths{}, err
	}
	return checkData(path, data)
}

// checkData is CheckFile on data, the contents of the file at path name.
func checkData(name string, data []byte) (CheckedPaths, error) {
	c, err := parse(name, data, func(string) (string, bool) { return unknownValue, true }, true)
	if err != nil {
		return CheckedPaths{}, err
	}
	return CheckedPaths{Policy: c.PolicyDir(), Requests: c.PullRequests.Requests}, nil
}

// unknownValue stands for every ${NAME} in CheckFile. It decodes as any key
// a ${NAME} may fill (a string or a duration), is never a secret, and is
// never checked.
const unknownValue = "1h"

// readFile reads the config file at path, up to one byte over the size
// limit (enough for Parse to report the file as too large).
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w; pass the path of jit-policy.yaml", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, strictyaml.DefaultMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return data, nil
}

// Parse decodes, validates and resolves data, the contents of the config
// file at path name. name appears in errors and its directory becomes
// Config.Dir. lookupEnv supplies ${NAME} values; nil means none is set.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	return parse(name, data, lookupEnv, false)
}

// parse is Parse; with unknownEnv, the values lookupEnv supplies are
// placeholders, and problems with the values that held ${NAME} are dropped.
func parse(name string, data []byte, lookupEnv func(string) (string, bool), unknownEnv bool) (*Config, error) {
	var c Config
	lines, err := strictyaml.DecodeWith(name, data, &c, strictyaml.Options{Expand: lookupEnv})
	if err != nil {
		return nil, err
	}
	c.Dir = filepath.Dir(name)
	c.setDefaults()
	v := validator{Problems: strictyaml.Problems{File: name, Lines: lines}}
	if unknownEnv {
		if v.unknown, err = envPaths(data); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if v.unknown["policy"] {
			v.Problems.Fail("policy", "names its folder with ${NAME}, which is not read without the environment; write the folder out")
		}
	}
	v.config(&c)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.resolve()
	prs := PullRequests{}
	if c.PullRequests != nil {
		prs = *c.PullRequests
	}
	prs = prs.withDefaults()
	c.PullRequests = &prs
	return &c, nil
}
