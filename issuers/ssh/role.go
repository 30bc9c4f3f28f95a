package ssh

import (
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
)

// role is a checked copy of one configured role, with what a request that
// the grant does not narrow gets precomputed.
type role struct {
	principals      []string
	maxTTL          time.Duration     // 0: none beyond the issuer's
	extensions      map[string]string // as configured; nil: not set
	criticalOptions map[string]string // as configured
	// What MergeExtensions and MergeCriticalOptions return for this role
	// and a grant that sets none. Read-only: Plan hands out clones.
	baseExtensions map[string]string
	baseOptions    map[string]string
}

// compileRole checks r and copies it, so a later change to the config
// cannot reach a running issuer.
func compileRole(r config.SSHRole) (*role, error) {
	if len(r.Principals) == 0 {
		return nil, errors.New(`no principals; an empty list never means "any"`)
	}
	for _, p := range r.Principals {
		if err := ValidatePrincipal(p); err != nil {
			return nil, err
		}
	}
	if r.MaxTTL.Duration < 0 {
		return nil, errors.New("negative max_ttl")
	}
	ext, err := MergeExtensions(r.Extensions, nil)
	if err != nil {
		return nil, err
	}
	opts, err := MergeCriticalOptions(r.CriticalOptions, nil)
	if err != nil {
		return nil, err
	}
	return &role{
		principals:      slices.Clone(r.Principals),
		maxTTL:          r.MaxTTL.Duration,
		extensions:      maps.Clone(r.Extensions),
		criticalOptions: maps.Clone(r.CriticalOptions),
		baseExtensions:  ext,
		baseOptions:     opts,
	}, nil
}

// mergeExtensions is MergeExtensions for this role, which is already
// checked: only the grant's extensions are.
func (r *role) mergeExtensions(grant map[string]string) (map[string]string, error) {
	if grant == nil {
		return maps.Clone(r.baseExtensions), nil
	}
	if err := ValidateExtensions(grant); err != nil {
		return nil, err
	}
	return mergeExtensions(r.extensions, grant), nil
}

// mergeCriticalOptions is MergeCriticalOptions for this role.
func (r *role) mergeCriticalOptions(grant map[string]string) (map[string]string, error) {
	if len(grant) == 0 {
		return maps.Clone(r.baseOptions), nil
	}
	return MergeCriticalOptions(r.criticalOptions, grant)
}
