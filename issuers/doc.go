// Package issuers declares what a credential backend implements — an
// [Issuer] that issues a credential for a recorded lease and revokes it —
// and the request and credential types passed across. Each kind lives in
// its own subpackage (ssh, and later aws, x509, postgres); the registry
// subpackage maps the config's issuer names to their constructors.
package issuers
