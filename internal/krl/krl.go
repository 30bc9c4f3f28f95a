// Package krl writes OpenSSH key revocation lists (KRLs): the binary
// format described in OpenSSH's PROTOCOL.krl that sshd reads through its
// RevokedKeys option and `ssh-keygen -Q` checks keys against.
//
// Only what jit-policy needs is written: one certificates section for a
// single CA, revoking certificates by serial number and by key ID. KRL
// signatures are not written: OpenSSH does not support them, and 9.4 and
// later refuse a KRL that contains one.
//
// sshd re-reads the RevokedKeys file for every authentication attempt and
// refuses every key when the file is missing or does not parse, so a KRL
// must be replaced atomically: use WriteFile.
package krl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Wire constants from PROTOCOL.krl.
const (
	magic         = "SSHKRL\n\x00"
	formatVersion = 1

	sectionCertificates = 1 // KRL_SECTION_CERTIFICATES

	certSectionSerialList = 0x20 // KRL_SECTION_CERT_SERIAL_LIST
	certSectionKeyID      = 0x23 // KRL_SECTION_CERT_KEY_ID
)

// Spec describes the contents of a KRL revoking certificates issued by one
// CA.
type Spec struct {
	// CAKey is the public key of the CA whose certificates are revoked.
	// Required; it must be a plain key, not a certificate. Revocations only
	// apply to certificates signed by exactly this key.
	CAKey ssh.PublicKey

	// Serials are the certificate serial numbers to revoke. Order and
	// duplicates do not matter: they are written sorted and deduplicated.
	// Serial 0 is invalid (OpenSSH rejects a KRL containing it, and never
	// revokes a serial-0 certificate by serial): revoke those by key ID.
	Serials []uint64

	// KeyIDs are the certificate key IDs (ssh-keygen -I) to revoke; they
	// match a certificate's key ID exactly (byte for byte, no patterns).
	// Written sorted and deduplicated. An ID must be non-empty and must
	// not contain a NUL byte.
	KeyIDs []string

	// Version is the krl_version field: a number that should increase each
	// time the KRL is regenerated. OpenSSH only logs it.
	Version uint64

	// GeneratedAt is written as generated_date (seconds since the Unix
	// epoch). The zero Time is written as 0; other times before 1970 are
	// an error. OpenSSH only logs it.
	GeneratedAt time.Time

	// Comment is a free-form comment stored in the KRL header. It must not
	// contain a NUL byte.
	Comment string
}

// Marshal encodes s as a binary OpenSSH KRL. The output depends only on s,
// so the same Spec always yields the same bytes.
//
// When s has no serials and no key IDs the result is a header-only KRL,
// which OpenSSH accepts and which revokes nothing (this is also what
// `ssh-keygen -k` writes for an empty spec).
func Marshal(s Spec) ([]byte, error) {
	if s.CAKey == nil {
		return nil, errors.New("krl: marshal: CA key is required")
	}
	if _, ok := s.CAKey.(*ssh.Certificate); ok {
		return nil, errors.New("krl: marshal: CA key is a certificate, want a plain public key")
	}
	if strings.IndexByte(s.Comment, 0) >= 0 {
		return nil, errors.New("krl: marshal: comment contains a NUL byte")
	}
	if len(s.Comment) > math.MaxUint32 {
		return nil, errors.New("krl: marshal: comment is too long")
	}
	var date uint64
	if !s.GeneratedAt.IsZero() {
		unix := s.GeneratedAt.Unix()
		if unix < 0 {
			return nil, fmt.Errorf("krl: marshal: generated-at time %s is before 1970", s.GeneratedAt.UTC().Format(time.RFC3339))
		}
		date = uint64(unix)
	}

	serials := slices.Clone(s.Serials)
	slices.Sort(serials)
	serials = slices.Compact(serials)
	if len(serials) > 0 && serials[0] == 0 {
		return nil, errors.New("krl: marshal: serial 0 cannot be revoked by serial (OpenSSH rejects the whole KRL); revoke it by key ID")
	}

	keyIDs := slices.Clone(s.KeyIDs)
	slices.Sort(keyIDs) // byte-wise, the order OpenSSH's strcmp gives
	keyIDs = slices.Compact(keyIDs)
	for _, id := range keyIDs {
		if id == "" {
			return nil, errors.New("krl: marshal: empty key ID")
		}
		if strings.IndexByte(id, 0) >= 0 {
			return nil, fmt.Errorf("krl: marshal: key ID %q contains a NUL byte", id)
		}
	}

	// Header.
	out := []byte(magic)
	out = binary.BigEndian.AppendUint32(out, formatVersion)
	out = binary.BigEndian.AppendUint64(out, s.Version)
	out = binary.BigEndian.AppendUint64(out, date)
	out = binary.BigEndian.AppendUint64(out, 0) // flags: none defined
	out = appendString(out, nil)                // reserved
	out = appendString(out, []byte(s.Comment))

	if len(serials) == 0 && len(keyIDs) == 0 {
		// PROTOCOL.krl wants at least one subsection in a certificates
		// section, so leave the section out; this is what ssh-keygen does.
		return out, nil
	}

	// Certificates section: CA key, reserved, then subsections.
	var certs []byte
	certs = appendString(certs, s.CAKey.Marshal())
	certs = appendString(certs, nil) // reserved

	if len(serials) > 0 {
		list := make([]byte, 0, 8*len(serials))
		for _, serial := range serials {
			list = binary.BigEndian.AppendUint64(list, serial)
		}
		if len(list) > math.MaxUint32 {
			return nil, fmt.Errorf("krl: marshal: %d serials do not fit in one section", len(serials))
		}
		certs = append(certs, certSectionSerialList)
		certs = appendString(certs, list)
	}

	if len(keyIDs) > 0 {
		var ids []byte
		for _, id := range keyIDs {
			if len(id) > math.MaxUint32 {
				return nil, fmt.Errorf("krl: marshal: key ID of %d bytes is too long", len(id))
			}
			ids = appendString(ids, []byte(id))
		}
		if len(ids) > math.MaxUint32 {
			return nil, fmt.Errorf("krl: marshal: %d key IDs do not fit in one section", len(keyIDs))
		}
		certs = append(certs, certSectionKeyID)
		certs = appendString(certs, ids)
	}

	if len(certs) > math.MaxUint32 {
		return nil, errors.New("krl: marshal: certificates section is too large")
	}
	out = append(out, sectionCertificates)
	out = appendString(out, certs)
	return out, nil
}

// appendString appends b as an SSH "string": a uint32 big-endian length
// followed by the bytes. Callers check that len(b) fits in a uint32.
func appendString(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}
