// Package action is jit-policy's GitHub glue: workflow events, pull-request
// access requests, runner OIDC tokens, step outputs and state. It is filled
// in by the pipeline and GitHub Action work; today it holds no code.
package action
