package action

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/issuers"
)

// issuerAWS is the aws issuer's key under issuers: of the config.
const issuerAWS = "aws"

// OutputAWSCredentialsFile is the output Run adds for the aws issuer with
// aws-profile: the shared credentials file it wrote.
const OutputAWSCredentialsFile = "aws-credentials-file"

// The aws issuer's output names Run reads (issuers/aws).
const (
	outputAWSAccessKeyID     = "aws-access-key-id"
	outputAWSSecretAccessKey = "aws-secret-access-key"
	outputAWSSessionToken    = "aws-session-token"
	outputAWSRegion          = "aws-region"
)

// Files of the aws-profile input, in the lease's folder.
const (
	awsCredentialsFile = "aws-credentials"
	awsConfigFile      = "aws-config"
)

// maxAWSProfile bounds the aws-profile input.
const maxAWSProfile = 64

// checkAWSProfile checks a profile name: 1 to 64 ASCII letters, digits,
// '_', '.' or '-', so that it can never break out of an INI section
// header. The name is not echoed.
func checkAWSProfile(name string) error {
	if name == "" || len(name) > maxAWSProfile {
		return fmt.Errorf("must be 1 to %d characters", maxAWSProfile)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return errors.New("use only letters, digits, '_', '.' and '-'")
		}
	}
	return nil
}

// awsAccountID returns the 12-digit account of the configured aws role's
// role_arn (arn:PARTITION:iam::ACCOUNT:role/NAME), "" when there is none.
func awsAccountID(cfg *config.Config, role string) string {
	if cfg == nil || cfg.Issuers.AWS == nil {
		return ""
	}
	return accountOfARN(cfg.Issuers.AWS.Roles[role].RoleARN)
}

// accountOfARN returns the 12-digit account of an ARN, "" when it has
// none.
func accountOfARN(arn string) string {
	f := strings.Split(arn, ":")
	if len(f) < 6 || f[0] != "arn" || len(f[4]) != 12 || strings.Trim(f[4], "0123456789") != "" {
		return ""
	}
	return f[4]
}

// writeAWSFiles writes the session into dir (created fresh, 0700) as a
// shared credentials file (profile's access key, secret key and session
// token) and a shared config file (profile's region), both 0600, and
// returns the outputs with aws-credentials-file added and the variables
// that point later steps' AWS CLI and SDKs at the files.
func writeAWSFiles(dir, profile string, outs []issuers.Output) ([]issuers.Output, []ghcmd.Pair, error) {
	vals := map[string]string{}
	for _, name := range []string{outputAWSAccessKeyID, outputAWSSecretAccessKey, outputAWSSessionToken, outputAWSRegion} {
		v := outputValue(outs, name)
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return nil, nil, fmt.Errorf("the issuer's %s output is empty or not a single line", name)
		}
		vals[name] = v
	}
	if err := makeLeaseDir(dir); err != nil {
		return nil, nil, err
	}
	creds := fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n",
		profile, vals[outputAWSAccessKeyID], vals[outputAWSSecretAccessKey], vals[outputAWSSessionToken])
	section := "profile " + profile // the config file names profiles "profile NAME", but default
	if profile == "default" {
		section = profile
	}
	conf := fmt.Sprintf("[%s]\nregion = %s\n", section, vals[outputAWSRegion])
	credPath, confPath := filepath.Join(dir, awsCredentialsFile), filepath.Join(dir, awsConfigFile)
	if err := writeNew(credPath, creds, 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeNew(confPath, conf, 0o600); err != nil {
		return nil, nil, err
	}
	env := []ghcmd.Pair{{Name: "AWS_SHARED_CREDENTIALS_FILE", Value: credPath}, {Name: "AWS_CONFIG_FILE", Value: confPath}}
	return append(outs, issuers.Output{Name: OutputAWSCredentialsFile, Value: credPath}), env, nil
}

// awsStandardEnv are the variables the AWS CLI and SDKs read, from the aws
// issuer's outputs; export-env writes them besides the JIT_AWS_* names.
func awsStandardEnv(outs []issuers.Output) []ghcmd.Pair {
	region := outputValue(outs, outputAWSRegion)
	return []ghcmd.Pair{
		{Name: "AWS_ACCESS_KEY_ID", Value: outputValue(outs, outputAWSAccessKeyID)},
		{Name: "AWS_SECRET_ACCESS_KEY", Value: outputValue(outs, outputAWSSecretAccessKey)},
		{Name: "AWS_SESSION_TOKEN", Value: outputValue(outs, outputAWSSessionToken)},
		{Name: "AWS_REGION", Value: region},
		{Name: "AWS_DEFAULT_REGION", Value: region},
	}
}

// makeLeaseDir creates a lease's folder, which must not exist yet (0700),
// and its parent.
func makeLeaseDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	return os.Mkdir(dir, 0o700)
}
