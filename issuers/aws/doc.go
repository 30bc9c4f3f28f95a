// Package aws issues AWS STS sessions scoped to one job and revokes them
// (DESIGN.md, "Outputs" and "Leases").
//
// A role in jit-policy.yaml names the IAM role to assume and how:
//
//   - assume-role (the default): sts:AssumeRole with the issuer's own
//     credentials, from the SDK's default chain (environment, profile, web
//     identity). Whoever runs the issuer holds those rights: run it from a
//     protected workflow or the broker.
//   - web-identity: sts:AssumeRoleWithWebIdentity with the job's own OIDC
//     token. This adds the policy check but no boundary unless the role's
//     trust policy also pins the workflow: the job holds the same token and
//     could call STS itself.
//   - certificate: the x509 issuer's CA is the trust anchor. A short-lived
//     client certificate is issued for the job and exchanged for
//     credentials: IAM Roles Anywhere CreateSession, or STS
//     AssumeRoleWithCertificate on S3-compatible stores (MinIO).
//
// Every session is named, tagged and scoped before STS sees it:
//
//   - RoleSessionName is jit-<run id>-<attempt>-<short lease id> for a
//     pipeline (jit-pr<N>-<short lease id> for a pull request), at most 64
//     characters of [\w+=,.@-]; it is chosen before issuing and recorded
//     with the lease, so revocation can name the session even when the
//     issuing process died.
//   - SourceIdentity is the token subject or PR requester, escaped so that
//     distinct subjects stay distinct (see SourceIdentity).
//   - Session tags carry repository, ref, workflow, environment, run id and
//     lease id. A value outside AWS's character set or length is refused,
//     never cut.
//   - The session policy is the role's JSON template with {{name}}
//     placeholders filled from job facts and from the policy's
//     grant.session_policy object (see RenderSessionPolicy). Only string
//     values are substituted, so a value can never add JSON structure; the
//     result is validated before anything is recorded.
//   - DurationSeconds is the clamped TTL. STS issues at least 900 s: a
//     lifetime below that is an error naming both numbers, never silently
//     extended.
//
// Revocation adds the session's aws:userid (role id:session name) to a
// deny-all statement in the role's inline policy "jit-policy-revoked"
// (see Revoke); the sweep prunes entries whose sessions have expired.
package aws
