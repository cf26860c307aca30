package history

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert issues a server certificate for the given IP addresses and DNS names.
func (ca testCA) serverCert(t *testing.T, ips []net.IP, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "postgres"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: ips, DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// fakePostgres answers one connection on loopback the way a PostgreSQL server starts one: the
// SSLRequest answered with 'S' and a TLS handshake with cert (or with 'N' when cert is nil), then
// the startup message answered with "password authentication failed". It reports what happened.
type fakeResult struct {
	tlsDone      bool // the handshake completed
	startupBytes int  // bytes of the startup message received (over TLS, or in the clear after 'N')
}

func fakePostgres(t *testing.T, cert *tls.Certificate) (addr string, result <-chan fakeResult) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan fakeResult, 1)
	go func() {
		var r fakeResult
		defer func() { out <- r }()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		req := make([]byte, 8)
		if _, err := io.ReadFull(conn, req); err != nil || binary.BigEndian.Uint32(req[4:]) != 80877103 {
			return
		}
		var c net.Conn = conn
		if cert == nil {
			if _, err := conn.Write([]byte("N")); err != nil {
				return
			}
		} else {
			if _, err := conn.Write([]byte("S")); err != nil {
				return
			}
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*cert}})
			if tc.Handshake() != nil {
				return
			}
			r.tlsDone, c = true, tc
		}
		head := make([]byte, 4)
		if _, err := io.ReadFull(c, head); err != nil {
			return
		}
		r.startupBytes = int(binary.BigEndian.Uint32(head))
		if _, err := io.ReadFull(c, make([]byte, r.startupBytes-4)); err != nil {
			return
		}
		var e bytes.Buffer
		for _, f := range []string{"SFATAL", "VFATAL", "C28P01", "Mpassword authentication failed"} {
			e.WriteString(f)
			e.WriteByte(0)
		}
		e.WriteByte(0)
		msg := append([]byte{'E'}, binary.BigEndian.AppendUint32(nil, uint32(e.Len()+4))...)
		c.Write(append(msg, e.Bytes()...))
	}()
	return ln.Addr().String(), out
}

func TestBoundPostgresVerifiesTLS(t *testing.T) {
	t.Parallel()
	ca, other := newCA(t, "bound CA"), newCA(t, "another CA")
	loopback := []net.IP{net.IPv4(127, 0, 0, 1)}
	for _, tc := range []struct {
		name       string
		cert       *tls.Certificate // nil: the server refuses TLS
		rootCA     []byte
		wantReason string
		wantTLS    bool
	}{
		{"certificate of the bound CA", new(ca.serverCert(t, loopback)), ca.pem, "refused the credentials", true},
		{"certificate of another CA", new(other.serverCert(t, loopback)), ca.pem, "certificate cannot be verified", false},
		{"certificate for another host", new(ca.serverCert(t, nil, "db.example.com")), ca.pem, "certificate cannot be verified", false},
		{"no CA in the binding: the system's roots", new(ca.serverCert(t, loopback)), nil, "certificate cannot be verified", false},
		{"server without TLS", nil, ca.pem, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, result := fakePostgres(t, tc.cert)
			// sslmode=disable in the URI is overridden: a bound service is always verify-full.
			b := PostgresBinding{Name: "hist", URI: "postgres://u:hunter2@" + addr + "/db?sslmode=disable&connect_timeout=10", RootCA: tc.rootCA}
			_, err := b.Open(t.Context())
			r := <-result
			var u *UnavailableError
			switch {
			case err == nil:
				t.Fatal("opened")
			case strings.Contains(err.Error(), "hunter2"):
				t.Errorf("the error shows the password: %v", err)
			case tc.wantReason != "" && (!errors.As(err, &u) || !strings.Contains(u.Reason, tc.wantReason)):
				t.Errorf("error %v: want an *UnavailableError saying %q", err, tc.wantReason)
			}
			if r.tlsDone != tc.wantTLS {
				t.Errorf("TLS handshake completed: %v, want %v", r.tlsDone, tc.wantTLS)
			}
			if !r.tlsDone && r.startupBytes > 0 {
				t.Errorf("the client sent its startup message (user, database) without TLS")
			}
		})
	}
}

func TestBoundPostgresBadCA(t *testing.T) {
	t.Parallel()
	b := PostgresBinding{Name: "hist", URI: "postgres://u:hunter2@127.0.0.1:1/db", RootCA: []byte("not a certificate")}
	_, err := b.Open(t.Context())
	var u *UnavailableError
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "sslrootcert") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want an *UnavailableError naming sslrootcert", err)
	}
}

func TestPostgresRefusesPlaintext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url   string
		plain bool
	}{
		{"postgres://u:p@db.example.com/db", true}, // pgx's default: prefer, with a plaintext fallback
		{"postgres://u:p@db.example.com/db?sslmode=disable", true},
		{"postgres://u:p@db.example.com/db?sslmode=allow", true},
		{"postgres://u:p@db.example.com/db?sslmode=prefer", true},
		{"postgres://u:p@10.0.0.5/db?sslmode=disable", true},
		{"postgres://u:p@db.example.com/db?sslmode=require", false},
		{"postgres://u:p@127.0.0.1/db?sslmode=disable", false},
		{"postgres://u:p@[::1]:5432/db?sslmode=disable", false},
		{"postgres://u:p@localhost/db", false},
		{"postgres://u:p@/db?host=/var/run/postgresql&sslmode=disable", false},
	} {
		cfg, err := pgx.ParseConfig(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if _, plain := plaintextHost(cfg); plain != tc.plain {
			t.Errorf("%s: plaintext to a remote host %v, want %v", tc.url, plain, tc.plain)
		}
	}
	// Refused before any connection is tried, with what to do.
	_, err := OpenPostgres(t.Context(), "postgres://u:hunter2@db.example.com/db")
	var u *UnavailableError
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "sslmode=verify-full") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want an *UnavailableError saying sslmode=verify-full, without the password", err)
	}
}
