package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/request"
)

// validateFiles decodes every jit-policy.yaml under paths strictly, without
// the environment (values holding ${NAME} are not checked), and every
// request file: each *.yaml or *.yml file inside a folder named
// requests, outside hidden folders, other than data.yaml (which is policy
// data), and, when requests is set, every *.yaml or *.yml file in that
// folder (the config's pull_requests.requests; missing is fine).
func validateFiles(paths []string, requests string) error {
	var errs []error
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || (requests != "" && filepath.Clean(path) == filepath.Clean(requests))) {
				return filepath.SkipDir // the requests folder is read below
			}
			switch {
			case d.IsDir():
			case d.Name() == configFile:
				if _, err := config.CheckFile(path); err != nil {
					errs = append(errs, err)
				}
			case isRequestFile(root, path):
				if err := validateRequest(path); err != nil {
					errs = append(errs, err)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", root, err))
		}
	}
	if requests != "" {
		errs = append(errs, validateRequestDir(requests))
	}
	return errors.Join(errs...)
}

// validateRequestDir decodes every *.yaml or *.yml file under dir, outside
// hidden folders and other than data.yaml (policy data, as check skips
// it too), as a request file. A missing dir holds none.
func validateRequestDir(dir string) error {
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != dir && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case !d.IsDir() && isYAML(d.Name()) && d.Name() != "data.yaml" && d.Name() != "data.yml":
			if err := validateRequest(path); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reading the request files in %s: %w", dir, err))
	}
	return errors.Join(errs...)
}

// isYAML reports whether a file name ends in .yaml or .yml.
func isYAML(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// isRequestFile reports whether path, found under root, is a request file:
// a *.yaml or *.yml file (not data.yaml or data.yml) in a folder named
// requests, with no hidden folder between root and it.
func isRequestFile(root, path string) bool {
	name := filepath.Base(path)
	if !isYAML(name) || name == "data.yaml" || name == "data.yml" {
		return false
	}
	if rel, err := filepath.Rel(root, path); err == nil {
		for _, dir := range strings.Split(filepath.ToSlash(filepath.Dir(rel)), "/") {
			if strings.HasPrefix(dir, ".") && dir != "." && dir != ".." {
				return false
			}
		}
	}
	return slices.Contains(strings.Split(filepath.ToSlash(filepath.Dir(filepath.Clean(path))), "/"), "requests")
}

// validateRequest decodes the request file at path strictly.
func validateRequest(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = request.Read(path, f)
	return err
}
