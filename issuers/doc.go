// Package issuers holds one subpackage per credential kind (ssh, aws,
// x509, postgres) and the registry that maps the config's issuer names to
// their constructors. The subpackages arrive with the pipeline and issuer
// work; today it holds no code.
package issuers
