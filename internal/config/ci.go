package config

// CI says how `jit-policy sweep` asks the CI providers whether the job (or
// pull request) holding a lease has ended. Without it the sweep revokes
// leases only at expiry.
type CI struct {
	GitHub *CIProvider `yaml:"github"`
	GitLab *CIProvider `yaml:"gitlab"`
}

// CIProvider is one provider's API.
type CIProvider struct {
	// APIURL is the REST API base, e.g. https://api.github.com/ or
	// https://gitlab.com/api/v4/ (http only on loopback).
	APIURL string `yaml:"api_url"`
	// Token reads the API: checks and pull requests (GitHub), jobs
	// (GitLab). Give it as ${ENV_VAR}.
	Token string `yaml:"token"`
	// MaxJobTime: a job the API does not know is counted as ended once its
	// lease is older than this (GitHub-hosted jobs stop at 6h).
	MaxJobTime Duration `yaml:"max_job_time"`
}

func (v *validator) ci(c *CI) {
	for name, p := range map[string]*CIProvider{"ci.github": c.GitHub, "ci.gitlab": c.GitLab} {
		if p == nil {
			continue
		}
		v.endpoint(name+".api_url", p.APIURL)
		if p.Token == "" {
			v.Fail(name+".token", "is required: an API token, given as ${ENV_VAR}")
		}
	}
}
