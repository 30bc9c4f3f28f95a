package x509issuer

import (
	"encoding/asn1"
	"encoding/pem"
	"testing"
)

// FuzzParseCSR checks that ParseCSR never panics and never accepts a
// request for a CA, for certificate or CRL signing, for an extended key
// usage other than clientAuth, or without a valid signature. Seeds are in
// testdata/fuzz/FuzzParseCSR (made with openssl req) and below.
func FuzzParseCSR(f *testing.F) {
	f.Add(csrPEM(f, p256(f)))
	f.Add(csrPEM(f, p256(f), mustExt(f, oidBasicConstraints, struct{ IsCA bool }{true})))
	f.Add(csrPEM(f, p256(f), mustExt(f, oidExtKeyUsage, []asn1.ObjectIdentifier{oidEKUClientAuth})))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			if csr != nil {
				t.Errorf("error %v with a non-nil request", err)
			}
			return
		}
		if err := csr.CheckSignature(); err != nil {
			t.Errorf("accepted a CSR with a bad signature: %v", err)
		}
		if err := checkKey(csr.PublicKey); err != nil {
			t.Errorf("accepted a weak key: %v", err)
		}
		for _, e := range csr.Extensions {
			switch {
			case e.Id.Equal(oidBasicConstraints):
				var bc struct {
					IsCA bool `asn1:"optional"`
				}
				if _, err := asn1.Unmarshal(e.Value, &bc); err != nil || bc.IsCA {
					t.Errorf("accepted a CA request (%v, %v)", bc.IsCA, err)
				}
			case e.Id.Equal(oidExtKeyUsage):
				var ekus []asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(e.Value, &ekus); err != nil {
					t.Errorf("accepted a malformed EKU: %v", err)
				}
				for _, u := range ekus {
					if !u.Equal(oidEKUClientAuth) {
						t.Errorf("accepted EKU %v", u)
					}
				}
			}
		}
		if b, _ := pem.Decode(data); b == nil || b.Type != "CERTIFICATE REQUEST" {
			t.Errorf("accepted input without a CERTIFICATE REQUEST block")
		}
	})
}

// TestFuzzSeedsVerdicts pins what the openssl-made seeds must yield.
func TestFuzzSeedsVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ok", true}, {"client", true},
		{"ca", false}, {"rsa1024", false}, {"server", false}, {"keycertsign", false},
		{"truncated", false}, {"wrong-type", false},
	} {
		data := readSeed(t, tc.name)
		_, err := ParseCSR(data)
		if (err == nil) != tc.ok {
			t.Errorf("seed %s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
