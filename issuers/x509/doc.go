// Package x509issuer issues short-lived X.509 client certificates bound to a
// CI job, and builds the CRL that revokes them.
//
// A certificate is issued either for the key of a PEM certificate signing
// request (whose signature is the proof of possession) or for a fresh ECDSA
// P-256 key returned as a secret output. Nothing in the subject or the
// extensions is taken from the CSR: only its public key is used, and a CSR
// that asks for a CA, for certificate or CRL signing, or for any extended
// key usage other than clientAuth is refused, as are weak keys (RSA below
// 2048 bits, curves other than P-256 and P-384, DSA).
//
// Every certificate has a random positive 128-bit serial, NotBefore 30 s
// before the issue time, NotAfter at the clamped TTL (never past the CA's
// NotAfter), the clientAuth extended key usage only, the digitalSignature
// key usage, and basicConstraints CA:FALSE. The subject's common name comes
// from the role's common_name, with {{subject}} replaced by the lease's
// subject; its organizations are the role's.
//
// # Job binding
//
// A lease for a CI job gets the URI SAN
// https://github.com/<repository>/actions/runs/<run id>/attempts/<attempt>;
// a pull-request lease gets https://github.com/<repository>/pull/<number>.
// The job's claims are also carried in a non-critical extension with OID
// [ClaimsOID] (1.3.6.1.4.1.57264.99.1), whose value is an ASN.1
// UTF8String holding a JSON object of [Claims]: repository, repository_id,
// ref, workflow, run_id, attempt, pr (empty fields are omitted).
//
// # Serials and revocation
//
// A 128-bit serial does not fit lease.Credential.Serial (uint64), so the
// issued serial is recorded as lease.Credential.KeyID = "x509:" followed by
// the serial in lower-case hexadecimal; [SerialFromKeyID] parses it back.
// A caller that records the lease before issuing picks the serial with
// [Issuer.ChooseIdentity] (or [NewIdentity], [NewKeyID]) and puts it in
// the pending lease's KeyID; Issue then uses it.
// [Issuer.Revoke] does nothing: the caller publishes the CRL, built by [CRL]
// from the revoked leases in the store.
package x509issuer
