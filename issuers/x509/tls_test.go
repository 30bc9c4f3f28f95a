package x509issuer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// crlServer is a TLS server requiring client certificates from ca, refusing
// those whose serial is in its current CRL.
type crlServer struct {
	ca  testCA
	crl atomic.Pointer[x509.RevocationList]
	ln  net.Listener
}

func newCRLServer(t *testing.T, ca testCA) *crlServer {
	t.Helper()
	s := &crlServer{ca: ca}
	serverKey := p256(t)
	der, err := x509.CreateCertificate(nil, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.cert, serverKey.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cfg := &tls.Config{
		Certificates:          []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: serverKey}},
		ClientAuth:            tls.RequireAndVerifyClientCert,
		ClientCAs:             pool,
		VerifyPeerCertificate: s.checkCRL,
	}
	s.ln, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ln.Close() })
	return s
}

// checkCRL refuses a verified client certificate listed in the CRL, or any
// when the CRL is missing, badly signed or stale.
func (s *crlServer) checkCRL(_ [][]byte, chains [][]*x509.Certificate) error {
	crl := s.crl.Load()
	if crl == nil {
		return errors.New("no CRL")
	}
	if err := crl.CheckSignatureFrom(s.ca.cert); err != nil {
		return fmt.Errorf("CRL: %w", err)
	}
	if time.Now().After(crl.NextUpdate) {
		return errors.New("CRL is stale")
	}
	for _, chain := range chains {
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(chain[0].SerialNumber) == 0 {
				return fmt.Errorf("certificate %x is revoked", chain[0].SerialNumber)
			}
		}
	}
	return nil
}

func (s *crlServer) publish(t *testing.T, revoked []lease.Lease, n int64) {
	t.Helper()
	der, err := CRL(s.ca.cert, s.ca.key, revoked, big.NewInt(n), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	s.crl.Store(crl)
}

// handshake connects with cert and returns the server's handshake error.
func (s *crlServer) handshake(t *testing.T, cert tls.Certificate) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := s.ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		done <- c.(*tls.Conn).HandshakeContext(context.Background())
	}()
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	c, err := tls.Dial("tcp", s.ln.Addr().String(), &tls.Config{
		RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert},
	})
	if err == nil {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Read(make([]byte, 1)) // TLS 1.3: the server's verdict arrives after the client's handshake
		c.Close()
	}
	return <-done
}

func tlsCert(cert *x509.Certificate, key any) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

func TestTLSServerHonoursCRL(t *testing.T) {
	ca := newCA(t, time.Now().Add(24*time.Hour))
	i := newIssuer(t, ca)
	srv := newCRLServer(t, ca)
	srv.publish(t, nil, 1)

	cert, key, cred := issue(t, i, testLease(), time.Now(), 0)
	if err := srv.handshake(t, tlsCert(cert, key)); err != nil {
		t.Errorf("issued certificate refused: %v", err)
	}

	l := testLease()
	l.Credential = cred.Identity
	l.State, l.RevokedAt = lease.Revoked, time.Now()
	srv.publish(t, []lease.Lease{l}, 2)
	if err := srv.handshake(t, tlsCert(cert, key)); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked certificate: err = %v, want revoked", err)
	}

	other, otherKey, _ := issue(t, i, testLease(), time.Now(), 0)
	if err := srv.handshake(t, tlsCert(other, otherKey)); err != nil {
		t.Errorf("unrevoked certificate refused after another's revocation: %v", err)
	}

	old, oldKey, _ := issue(t, i, testLease(), time.Now().Add(-2*time.Hour), 10*time.Minute)
	if err := srv.handshake(t, tlsCert(old, oldKey)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: err = %v, want expired", err)
	}
}

func TestCRLContents(t *testing.T) {
	ca := newCA(t, time.Now().Add(time.Hour))
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	revoked := []lease.Lease{
		{ID: "a", Credential: lease.Credential{KeyID: "x509:ff"}, RevokedAt: at},
		{ID: "never-issued"},
	}
	der, err := CRL(ca.cert, ca.key, revoked, big.NewInt(7), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() != 7 || len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("number %v, %d entries", crl.Number, len(crl.RevokedCertificateEntries))
	}
	if e := crl.RevokedCertificateEntries[0]; e.SerialNumber.Int64() != 255 || !e.RevocationTime.Equal(at) {
		t.Errorf("entry = %v at %v", e.SerialNumber, e.RevocationTime)
	}
	bad := []lease.Lease{{ID: "b", Credential: lease.Credential{KeyID: "ssh-key-id"}}}
	if _, err := CRL(ca.cert, ca.key, bad, big.NewInt(8), time.Now(), time.Hour); err == nil {
		t.Errorf("malformed key id: no error")
	}
}
