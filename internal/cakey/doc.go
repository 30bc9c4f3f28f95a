// Package cakey loads CA signing keys by URI and creates new ones.
//
// A CA key is a [crypto.Signer]. [Load] accepts:
//
//   - file://PATH[?passphrase-env=NAME]: an OpenSSH private key, or a PEM
//     PKCS#8, SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY") key. An
//     encrypted key (OpenSSH, or legacy encrypted PEM) is decrypted with the
//     passphrase in the environment variable NAME (default JIT_CA_PASSPHRASE).
//     The file must not be readable by group or others. PATH is taken as is:
//     a relative path is relative to the working directory.
//   - awskms://, gcpkms://, azurekms://, hashivault://: a key held by a KMS,
//     through sigstore's providers (all four are blank-imported here). The
//     providers take their credentials from the process environment in
//     their usual ways (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*,
//     VAULT_ADDR/VAULT_TOKEN), not from Load's getenv.
//
// Any other scheme is an error. In particular sigstore's fallback of running a
// "sigstore-kms-<scheme>" plugin program found on PATH is never used: the
// scheme is checked before sigstore is called, so a URI cannot make this
// process execute a program.
//
// Allowed keys are Ed25519, ECDSA P-256 and P-384, and RSA of at least 3072
// bits. [NewSSHSigner] wraps a CA key for golang.org/x/crypto/ssh; RSA keys
// sign with rsa-sha2-512 only. [Init] creates a new SSH or X.509 CA key on
// disk (jit-policy ca init).
//
// Every signature made through a KMS key is verified against the key's public
// key before it is returned, so a KMS key whose signing algorithm does not
// match what the caller asked for (for example an AWS RSA key whose first
// signing algorithm is RSASSA-PSS while SSH needs PKCS#1 v1.5 with SHA-512)
// fails loudly instead of producing certificates nobody accepts.
//
// # Testing of KMS providers
//
// awskms is tested here against a real AWS KMS emulator, local-kms, run
// inside a private network namespace (see package kmstest): an
// ECC_NIST_P256 SIGN_VERIFY key is created, loaded through an
// awskms:///alias/NAME URI, and signs an SSH certificate that is then
// verified. gcpkms, azurekms and hashivault are NOT tested against a
// service: only that their URIs reach sigstore's provider (a malformed
// reference is rejected with an error naming the scheme). They share the
// code path (kms.Get, then CryptoSigner) with awskms.
package cakey
