package action

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/issuers"
)

// Output names Run adds to the issuer's (DESIGN.md, "Outputs").
const (
	OutputCertificatePath = "certificate-path" // the certificate file
	OutputPrivateKeyPath  = "private-key-path" // with generate-key: the private key file (0600)
)

// The ssh issuer's output names Run reads.
const (
	outputCertificate = "certificate"
	outputPrivateKey  = "private-key"
)

// leaseDir is the folder of a lease's files: $RUNNER_TEMP/jit-policy/ID
// (the system's temporary folder when RUNNER_TEMP is unset). id must have
// passed checkLeaseID.
func leaseDir(getenv func(string) string, id string) string {
	tmp := getenv("RUNNER_TEMP")
	if tmp == "" {
		tmp = os.TempDir()
	}
	return filepath.Join(tmp, "jit-policy", id)
}

// sshCert is the issued SSH certificate, parsed from its output.
type sshCert struct {
	line string
	cert *ssh.Certificate
}

// parseCert reads the certificate output; ok false when there is none.
func parseCert(outs []issuers.Output) (sshCert, bool, error) {
	line := outputValue(outs, outputCertificate)
	if line == "" {
		return sshCert{}, false, nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return sshCert{}, false, fmt.Errorf("the issued certificate: %w", err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return sshCert{}, false, errors.New("the issued certificate is a plain key")
	}
	return sshCert{line: line, cert: cert}, true, nil
}

// writeSSHFiles writes the certificate as NAME-cert.pub into dir (created
// fresh, 0700) and a generated private key as NAME (0600), and returns the
// outputs with certificate-path (and private-key-path) added.
func writeSSHFiles(dir string, ks keySource, c sshCert, outs []issuers.Output) ([]issuers.Output, error) {
	if err := makeLeaseDir(dir); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, keyBaseName(ks, c.cert.Key.Type()))
	if key := outputValue(outs, outputPrivateKey); key != "" {
		if err := writeNew(base, key, 0o600); err != nil {
			return nil, err
		}
		outs = append(outs, issuers.Output{Name: OutputPrivateKeyPath, Value: base})
	}
	certPath := base + "-cert.pub"
	if err := writeNew(certPath, c.line+"\n", 0o644); err != nil {
		return nil, err
	}
	return append(outs, issuers.Output{Name: OutputCertificatePath, Value: certPath}), nil
}

// writeNew creates path (which must not exist) with data.
func writeNew(path, data string, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// outputValue returns the value of the output called name, "" if none.
func outputValue(outs []issuers.Output, name string) string {
	for _, o := range outs {
		if o.Name == name {
			return o.Value
		}
	}
	return ""
}
