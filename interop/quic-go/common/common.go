// Package common holds what the hq-interop server and client built on quic-go 0.29 share:
// TLS setup (self-signed certificate, key log, cipher suite choice), QUIC config, version
// names, and a connection tracer that records the events the interop cases check for.
//
// It lives in a GOPATH overlay under github.com/lucas-clemente/quic-go/ (see
// interop/build-quic-go.sh) so that it may set quic-go's internal key-update interval,
// the only way quic-go 0.29 offers to start a key update before 100,000 packets.
package common

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/internal/handshake"
)

// ALPN of HTTP/0.9 over QUIC as the QUIC interop runner defines it.
const ALPN = "hq-interop"

// MaxRequestLine bounds the bytes a server reads for "GET /path\r\n" (the peer controls it).
const MaxRequestLine = 4096

// Versions maps the names the programs accept to quic-go's version numbers. quic-go 0.29's
// "v2" is draft-ietf-quic-v2-01 (0x709a50c4), not RFC 9369's 0x6b3343cf.
var Versions = map[string]quic.VersionNumber{
	"v1":      quic.Version1,
	"v2draft": quic.Version2,
	"draft29": quic.VersionDraft29,
}

// ParseVersion returns the quic-go version list for a name ("" means quic-go's defaults).
func ParseVersion(name string) ([]quic.VersionNumber, error) {
	if name == "" {
		return nil, nil
	}
	v, ok := Versions[name]
	if !ok {
		return nil, fmt.Errorf("unknown version %q (v1, v2draft, draft29)", name)
	}
	return []quic.VersionNumber{v}, nil
}

// SetKeyUpdateInterval makes quic-go start a key update every n packets (0 keeps its default
// of 100,000). Must be called before the connection is created.
func SetKeyUpdateInterval(n uint64) {
	if n > 0 {
		handshake.KeyUpdateInterval = n
	}
}

// OpenKeyLog opens an NSS key log file for appending ("" means none).
func OpenKeyLog(path string) (io.Writer, error) {
	if path == "" {
		return nil, nil
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}

// ChaCha20Only restricts TLS 1.3 to TLS_CHACHA20_POLY1305_SHA256. Go's crypto/tls ignores
// CipherSuites for TLS 1.3, but quic-go 0.29 runs TLS through qtls, which honours it
// (client: the ClientHello offers only this suite; server: it picks only this suite).
func ChaCha20Only(c *tls.Config) {
	c.CipherSuites = []uint16{tls.TLS_CHACHA20_POLY1305_SHA256}
}

// SelfSignedCert makes an ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1, valid
// for one day. If pemOut is not empty the certificate is written there (PEM) so a peer
// can verify it.
func SelfSignedCert(pemOut string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if pemOut != "" {
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(pemOut, data, 0o644); err != nil {
			return tls.Certificate{}, err
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// LoadOrMakeCert loads certFile/keyFile when both are given, else makes a self-signed one.
func LoadOrMakeCert(certFile, keyFile, pemOut string) (tls.Certificate, error) {
	if certFile != "" && keyFile != "" {
		return tls.LoadX509KeyPair(certFile, keyFile)
	}
	return SelfSignedCert(pemOut)
}
