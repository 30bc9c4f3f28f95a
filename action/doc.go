// Package action is what `jit-policy action run` and `jit-policy action
// post` do inside a GitHub Actions job (action.yml's JavaScript shim only
// starts the binary).
//
// Run reads the step's inputs from INPUT_<NAME> variables, fetches the
// job's OIDC ID token from the runner, exchanges it for a credential,
// masks every secret with ::add-mask:: before anything else is printed,
// and hands the result to the runner: step outputs (GITHUB_OUTPUT), the
// lease ids for the post step (GITHUB_STATE), optionally environment
// variables, an ssh-agent and, for the aws issuer, a shared credentials
// profile in the lease's folder (GITHUB_ENV), and a job summary table
// (GITHUB_STEP_SUMMARY). Post revokes exactly the leases named in its own
// step's state, so parallel jobs never revoke each other's leases.
//
// Both take a params struct with the environment as a getenv function and
// the standard streams as writers, and return the process exit code.
package action
