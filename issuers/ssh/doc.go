// Package ssh issues OpenSSH user certificates signed by a CA key: the
// "ssh" kind of [issuers.Issuer].
//
// The package is named ssh and itself uses golang.org/x/crypto/ssh (as
// html/template uses text/template), so its signatures mention ssh.Signer
// and friends from x/crypto. Callers that import both should name this one
// sshissuer:
//
//	import (
//		"golang.org/x/crypto/ssh"
//		sshissuer "github.com/jit-policy/jit-policy/issuers/ssh"
//	)
//
// # What is issued
//
// [Issuer.Issue] clamps a request to the role, the issuer and the policy's
// grant (DESIGN.md, "Decision") and never issues wider than any of them:
//
//   - principals: requested ∩ grant ∩ role, each checked by
//     [ValidatePrincipal]; no request means all that grant ∩ role allow; a
//     nil grant (or nil grant principals) does not constrain, an empty one
//     allows nothing; an empty result is an error, never "any";
//   - lifetime: min(requested (0 = the maximum), grant max_ttl_seconds, role
//     max_ttl, issuer max_ttl), valid from Now − 30s (clock skew) until
//     Now + TTL, rounded down to whole seconds;
//   - extensions and critical options: see [MergeExtensions] and
//     [MergeCriticalOptions].
//
// The certificate's serial and key id are the lease's, chosen by
// [Issuer.ChooseIdentity] (or [NewIdentity]) and recorded before issuing,
// so the lease store can always name it in a KRL.
//
// # Keys
//
// The user key is an authorized_keys line: Ed25519, ECDSA (P-256, P-384,
// P-521) or RSA of at least 2048 bits. DSA, short RSA, security-key (sk-)
// keys, certificates and key options are refused. With GenerateKey the
// issuer makes a fresh Ed25519 key and returns it as the secret output
// "private-key" (unencrypted OpenSSH PEM).
//
// The CA is any ssh.Signer (ssh.NewSignerFromSigner wraps a crypto.Signer
// such as a KMS key) with an Ed25519, ECDSA or RSA key; RSA CAs always sign
// with rsa-sha2-512, never SHA-1.
//
// # Revocation
//
// [Issuer.Revoke] does nothing: an SSH certificate cannot be recalled from
// its holder. The caller revokes it by republishing the KRL (serial and key
// id) from the lease store, which sshd reads through RevokedKeys.
package ssh
