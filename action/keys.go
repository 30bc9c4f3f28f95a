package action

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// maxKeyFile bounds a key file read from the workspace.
const maxKeyFile = 64 << 10

// keySource is the key Run certifies and, for the ssh-agent, its private
// half.
type keySource struct {
	public  []byte // authorized_keys line; nil with generate-key
	path    string // the .pub file it came from; "" when given inline
	private []byte // PEM of the private key beside path, when the agent needs it
}

// readKeys resolves the public-key input: an authorized_keys line as it
// is, else the path of a file holding one. With the ssh-agent the private
// key must be the file beside it (path without .pub), unencrypted, and
// match. Errors never echo the input, which could be a misplaced secret.
func readKeys(in Inputs) (keySource, error) {
	if in.PublicKey == "" {
		return keySource{}, nil
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(in.PublicKey)); err == nil {
		if in.SSHAgent {
			return keySource{}, fmt.Errorf("input %s: %s needs the private key: give the path of a .pub file with its private key beside it, or use %s: true", InputSSHAgent, InputSSHAgent, InputGenerateKey)
		}
		return keySource{public: []byte(in.PublicKey)}, nil
	}
	if strings.ContainsAny(in.PublicKey, "\r\n") {
		return keySource{}, fmt.Errorf("input %s: neither an authorized_keys line nor a file path", InputPublicKey)
	}
	data, err := readSmall(in.PublicKey)
	if err != nil {
		return keySource{}, fmt.Errorf("input %s: neither an authorized_keys line nor a readable file: %w", InputPublicKey, err)
	}
	if strings.Contains(string(data), "PRIVATE KEY") {
		return keySource{}, fmt.Errorf("input %s: the file holds a private key; give the .pub file", InputPublicKey)
	}
	ks := keySource{public: data, path: in.PublicKey}
	if !in.SSHAgent {
		return ks, nil
	}
	privPath, ok := strings.CutSuffix(in.PublicKey, ".pub")
	if !ok {
		return keySource{}, fmt.Errorf("input %s: with %s the public key file must be NAME.pub with the private key NAME beside it", InputPublicKey, InputSSHAgent)
	}
	if ks.private, err = readPrivateKey(privPath, data); err != nil {
		return keySource{}, fmt.Errorf("input %s: %w", InputSSHAgent, err)
	}
	return ks, nil
}

// readPrivateKey reads the unencrypted private key at path and checks it
// is the private half of the public key line pub.
func readPrivateKey(path string, pub []byte) ([]byte, error) {
	pem, err := readSmall(path)
	if err != nil {
		return nil, fmt.Errorf("the private key beside the .pub file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if _, ok := errors.AsType[*ssh.PassphraseMissingError](err); ok {
		return nil, errors.New("the private key beside the .pub file is passphrase-protected; use generate-key: true")
	} else if err != nil {
		return nil, errors.New("the file beside the .pub file is not an OpenSSH or PEM private key")
	}
	want, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return nil, fmt.Errorf("the .pub file: %w", err)
	}
	if string(signer.PublicKey().Marshal()) != string(want.Marshal()) {
		return nil, errors.New("the private key beside the .pub file does not match it")
	}
	return pem, nil
}

// readSmall reads a file of at most maxKeyFile bytes. Errors name the
// failure, not the path (see readKeys).
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("larger than %d KiB", maxKeyFile>>10)
	}
	return data, nil
}

// unwrapPath drops the path from an *os.PathError.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

// keyBaseName is the file name (without -cert.pub) of a certificate: the
// .pub file's name without .pub, else by key type (id_ed25519, id_ecdsa,
// id_rsa), as ssh-keygen names keys.
func keyBaseName(ks keySource, keyType string) string {
	if ks.path != "" {
		if b := strings.TrimSuffix(filepath.Base(ks.path), ".pub"); b != "" && b != "." && b != ".." {
			return b
		}
	}
	switch {
	case keyType == ssh.KeyAlgoED25519:
		return "id_ed25519"
	case strings.HasPrefix(keyType, "ecdsa-"):
		return "id_ecdsa"
	case keyType == ssh.KeyAlgoRSA:
		return "id_rsa"
	}
	return "id"
}
