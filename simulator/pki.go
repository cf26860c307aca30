package simulator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// pki is the simulator's certificate authority: it signs the server certificate and the X.509
// client certificates handed out in bindings.
type pki struct {
	caCert *x509.Certificate
	caKey  crypto.Signer
	caPEM  []byte
	server tls.Certificate
}

// clientCert is one issued X.509 client credential, as the binding carries it.
type clientCert struct {
	leaf    *x509.Certificate
	certPEM string // leaf then CA, like XSUAA's chain
	keyPEM  string // PKCS #1 "RSA PRIVATE KEY", like XSUAA's
}

// sign completes tmpl (serial number, validity from an hour ago for validFor) and signs it for
// pub with parent's key; a nil parent means self-signed with key.
func sign(tmpl *x509.Certificate, validFor time.Duration, pub crypto.PublicKey, parent *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, time.Now().Add(-time.Hour), time.Now().Add(validFor)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("simulator: certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

func newPKI() (*pki, error) {
	const year = 365 * 24 * time.Hour
	caKey, err1 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvKey, err2 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("simulator: keys: %w", err)
	}
	ca, err := sign(&x509.Certificate{
		Subject:  pkix.Name{CommonName: "btp-connectivity-mcp simulator CA", Organization: []string{"btp-connectivity-mcp simulator"}},
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}, year, &caKey.PublicKey, nil, caKey)
	if err != nil {
		return nil, err
	}
	srv, err := sign(&x509.Certificate{
		Subject: pkix.Name{CommonName: "127.0.0.1"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, year, &srvKey.PublicKey, ca, caKey)
	if err != nil {
		return nil, err
	}
	return &pki{caCert: ca, caKey: caKey, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		server: tls.Certificate{Certificate: [][]byte{srv.Raw, ca.Raw}, PrivateKey: srvKey, Leaf: srv}}, nil
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return pool
}

// issueClient issues an X.509 client certificate shaped like an XSUAA-managed one: an RSA key in
// PKCS #1 PEM, a subject naming the subaccount, valid for seven days.
func (p *pki) issueClient(subaccountID string) (*clientCert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("simulator: client key: %w", err)
	}
	leaf, err := sign(&x509.Certificate{
		Subject: pkix.Name{CommonName: rand.Text()[:16], OrganizationalUnit: []string{"SAP Cloud Platform Clients", subaccountID},
			Organization: []string{"btp-connectivity-mcp simulator"}, Country: []string{"DE"}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, 7*24*time.Hour, &key.PublicKey, p.caCert, p.caKey)
	if err != nil {
		return nil, err
	}
	return &clientCert{leaf: leaf, certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})) + string(p.caPEM),
		keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}, nil
}
