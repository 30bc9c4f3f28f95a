package action

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/brokerclient"
)

// The action's inputs (action.yml); the runner passes each as the
// environment variable InputEnv(name).
const (
	InputIssuer      = "issuer"
	InputRole        = "role"
	InputTTL         = "ttl"
	InputPrincipals  = "principals"
	InputPublicKey   = "public-key"
	InputGenerateKey = "generate-key"
	InputSSHAgent    = "ssh-agent"
	InputConfig      = "config"
	InputAudience    = "audience"
	InputExportEnv   = "export-env"
	InputTokenFile   = "token-file"
	InputBroker      = "broker"
	// aws issuer only.
	InputAWSProfile       = "aws-profile"
	InputMaskAWSAccountID = "mask-aws-account-id"
)

// Input defaults.
const (
	DefaultIssuer = "ssh"
	DefaultConfig = "jit-policy.yaml"
)

// Limits on inputs.
const (
	maxPrincipalsInput = 64 << 10
	maxPrincipals      = 256
)

// InputEnv returns the variable the runner sets for input name: INPUT_
// and the name upper-cased, spaces as underscores, dashes kept
// ("public-key" → INPUT_PUBLIC-KEY).
func InputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// Inputs are the step's inputs, parsed.
type Inputs struct {
	Issuer      string
	Role        string
	TTL         time.Duration // zero: the longest allowed
	Principals  []string      // empty: every principal allowed
	PublicKey   string        // an authorized_keys line or a .pub path, as given
	GenerateKey bool
	SSHAgent    bool
	Config      string
	Audience    string // empty: the config's single OIDC audience (required with Broker)
	ExportEnv   bool
	TokenFile   string // empty: the runner's token endpoint
	// Broker is the URL of `jit-policy serve`: when set, the job's token
	// goes there instead of issuing locally (Config is then not read), and
	// the post step revokes through it with a fresh token for Audience.
	Broker string
	// AWSProfile, when set (aws issuer only), names the profile of the
	// shared credentials and config files Run writes.
	AWSProfile string
	// MaskAWSAccountID masks the account of the aws role's role_arn
	// (default true).
	MaskAWSAccountID bool
}

// ReadInputs reads and checks the inputs. Values are trimmed (as
// actions/core's getInput does). Every problem is reported, joined.
// Errors name inputs, never echo a value that could be a secret.
func ReadInputs(getenv func(string) string) (Inputs, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(InputEnv(name))) }
	var errs []error
	boolean := func(name string) bool {
		b, err := ParseBool(get(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("input %s: %w", name, err))
		}
		return b
	}
	in := Inputs{
		Issuer: get(InputIssuer), Role: get(InputRole), PublicKey: get(InputPublicKey),
		GenerateKey: boolean(InputGenerateKey), SSHAgent: boolean(InputSSHAgent), ExportEnv: boolean(InputExportEnv),
		Config: get(InputConfig), Audience: get(InputAudience), TokenFile: get(InputTokenFile),
		AWSProfile: get(InputAWSProfile), MaskAWSAccountID: true, Broker: get(InputBroker),
	}
	if get(InputMaskAWSAccountID) != "" {
		in.MaskAWSAccountID = boolean(InputMaskAWSAccountID)
	}
	if in.Issuer == "" {
		in.Issuer = DefaultIssuer
	}
	if in.Config == "" {
		in.Config = DefaultConfig
	}
	if in.Role == "" {
		errs = append(errs, fmt.Errorf("input %s is required", InputRole))
	}
	if s := get(InputTTL); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("input %s: %q is not a duration such as 10m or 1h", InputTTL, s))
		case d <= 0:
			errs = append(errs, fmt.Errorf("input %s: must be positive", InputTTL))
		}
		in.TTL = d
	}
	p, err := SplitPrincipals(get(InputPrincipals))
	if err != nil {
		errs = append(errs, fmt.Errorf("input %s: %w", InputPrincipals, err))
	}
	in.Principals = p
	switch {
	case in.GenerateKey && in.PublicKey != "":
		errs = append(errs, fmt.Errorf("inputs %s and %s: give one, not both", InputPublicKey, InputGenerateKey))
	case !in.GenerateKey && in.PublicKey == "" && in.Issuer == "ssh":
		errs = append(errs, fmt.Errorf("give input %s (a key line or a .pub file) or %s: true", InputPublicKey, InputGenerateKey))
	}
	if in.SSHAgent && in.Issuer != "ssh" {
		errs = append(errs, fmt.Errorf("input %s: only with issuer ssh", InputSSHAgent))
	}
	if in.Broker != "" {
		if _, err := brokerclient.ParseURL(in.Broker); err != nil {
			errs = append(errs, fmt.Errorf("input %s: %w", InputBroker, err))
		}
		if in.Audience == "" {
			errs = append(errs, fmt.Errorf("input %s is required with %s: the broker's OIDC audience", InputAudience, InputBroker))
		}
	}
	if in.AWSProfile != "" {
		if in.Issuer != issuerAWS {
			errs = append(errs, fmt.Errorf("input %s: only with issuer %s", InputAWSProfile, issuerAWS))
		} else if err := checkAWSProfile(in.AWSProfile); err != nil {
			errs = append(errs, fmt.Errorf("input %s: %w", InputAWSProfile, err))
		}
	}
	return in, errors.Join(errs...)
}

// ParseBool reads a boolean input as actions/core's getBooleanInput does
// (YAML 1.2 core schema): true, True, TRUE, false, False, FALSE; empty is
// false.
func ParseBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE", "":
		return false, nil
	}
	return false, errors.New("use true or false")
}

// SplitPrincipals splits the principals input at commas and line ends,
// trims white space around each name, and drops empty and repeated names
// (the first occurrence keeps its place). Names with white space inside,
// more than maxPrincipals names or an input over 64 KiB are errors.
func SplitPrincipals(s string) ([]string, error) {
	if len(s) > maxPrincipalsInput {
		return nil, fmt.Errorf("over %d bytes", maxPrincipalsInput)
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		f = strings.TrimSpace(f)
		if f == "" || seen[f] {
			continue
		}
		if strings.ContainsFunc(f, isSpace) {
			return nil, fmt.Errorf("principal %q holds white space; separate names with commas or new lines", f)
		}
		if len(out) == maxPrincipals {
			return nil, fmt.Errorf("more than %d principals", maxPrincipals)
		}
		seen[f] = true
		out = append(out, f)
	}
	return out, nil
}

// isSpace reports the white space TrimSpace removes.
func isSpace(r rune) bool { return strings.TrimSpace(string(r)) == "" }
