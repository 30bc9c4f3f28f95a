package cakey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Algorithm is the key algorithm of a CA created by Init.
type Algorithm string

// The algorithms Init accepts. The empty Algorithm means Ed25519.
const (
	Ed25519   Algorithm = "ed25519"
	ECDSAP256 Algorithm = "ecdsa-p256"
	RSA3072   Algorithm = "rsa-3072"
	RSA4096   Algorithm = "rsa-4096"
)

// Algorithms returns the accepted algorithms, the default first.
func Algorithms() []Algorithm { return []Algorithm{Ed25519, ECDSAP256, RSA3072, RSA4096} }

// File names Init writes in its directory.
const (
	SSHKeyFile    = "ssh-ca"
	SSHPubFile    = "ssh-ca.pub"
	X509KeyFile   = "x509-ca.key"
	X509CertFile  = "x509-ca.pem"
	X509CACN      = "jit-policy CA"
	x509CAYears   = 10
	sshKeyComment = "jit-policy-ssh-ca"
)

// Init creates a new CA key in dir (created 0700 if missing) for
// `jit-policy ca init`. kind "ssh" writes dir/ssh-ca (OpenSSH private key,
// 0600) and dir/ssh-ca.pub (authorized_keys line, 0644); kind "x509" writes
// dir/x509-ca.key (PKCS#8 PEM, 0600) and dir/x509-ca.pem (a self-signed CA
// certificate, CN "jit-policy CA", valid 10 years, may sign certificates and
// CRLs, path length 0). It never overwrites a file: if either file exists
// nothing is written. It returns the paths written, private key first.
func Init(dir string, kind string, alg Algorithm) ([]string, error) {
	if alg == "" {
		alg = Ed25519
	}
	var keyName, pubName string
	switch kind {
	case "ssh":
		keyName, pubName = SSHKeyFile, SSHPubFile
	case "x509":
		keyName, pubName = X509KeyFile, X509CertFile
	default:
		return nil, fmt.Errorf("cakey: unknown CA kind %q; use ssh or x509", kind)
	}
	if !slices.Contains(Algorithms(), alg) {
		return nil, unknownAlgorithm(alg)
	}
	if dir == "" {
		return nil, errors.New("cakey: no directory given for the CA key")
	}
	keyPath, pubPath := filepath.Join(dir, keyName), filepath.Join(dir, pubName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cakey: creating %s: %w", dir, err)
	}
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("cakey: %s already exists; refusing to overwrite it (move it away to create a new CA)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cakey: %w", err)
		}
	}
	key, err := generate(alg)
	if err != nil {
		return nil, err
	}
	var keyPEM, pubData []byte
	if kind == "ssh" {
		keyPEM, pubData, err = sshFiles(key)
	} else {
		keyPEM, pubData, err = x509Files(key)
	}
	if err != nil {
		return nil, err
	}
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(pubPath, pubData, 0o644); err != nil {
		os.Remove(keyPath) // ours: created with O_EXCL just above
		return nil, err
	}
	return []string{keyPath, pubPath}, nil
}

// generate creates a private key of the given algorithm.
func generate(alg Algorithm) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case Ed25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA3072:
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		key, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		return nil, unknownAlgorithm(alg)
	}
	if err != nil {
		return nil, fmt.Errorf("cakey: generating %s key: %w", alg, err)
	}
	return key, nil
}

func unknownAlgorithm(alg Algorithm) error {
	algs := Algorithms()
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return fmt.Errorf("cakey: unknown algorithm %q; use one of %s", alg, strings.Join(names, ", "))
}

// sshFiles encodes an OpenSSH private key and its authorized_keys line.
func sshFiles(key crypto.Signer) (keyPEM, pubLine []byte, err error) {
	block, err := ssh.MarshalPrivateKey(key, sshKeyComment)
	if err != nil {
		return nil, nil, fmt.Errorf("cakey: encoding SSH key: %w", err)
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("cakey: encoding SSH public key: %w", err)
	}
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
	return pem.EncodeToMemory(block), []byte(line + " " + sshKeyComment + "\n"), nil
}

// x509Files encodes a PKCS#8 private key and a self-signed CA certificate.
func x509Files(key crypto.Signer) (keyPEM, certPEM []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("cakey: encoding X.509 key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("cakey: serial number: %w", err)
	}
	now := time.Now().Add(-5 * time.Minute).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: X509CACN},
		NotBefore:             now,
		NotAfter:              now.AddDate(x509CAYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("cakey: creating the CA certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), nil
}

// writeNew creates path with exactly perm, failing if it exists.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cakey: %s already exists; refusing to overwrite it", path)
		}
		return fmt.Errorf("cakey: %w", err)
	}
	err = f.Chmod(perm) // exact mode, whatever the umask
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // ours: created with O_EXCL above
		return fmt.Errorf("cakey: writing %s: %w", path, err)
	}
	return nil
}
