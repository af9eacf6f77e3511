package outbox_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
)

// smtpServer is an SMTP relay on 127.0.0.1 speaking the real protocol:
// EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT. It refuses
// mail before TLS and authentication, and RCPT to refuse@… with 550.
type smtpServer struct {
	ln   net.Listener
	cert tls.Certificate
	pool *x509.CertPool
	mu   sync.Mutex
	mail []received
	tls  int // sessions upgraded
}

type received struct {
	from, to string
	data     string
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool: pool}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	say("220 127.0.0.1 ESMTP test")
	secure, authed := false, false
	var from string
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO":
			if secure {
				say("250-127.0.0.1\r\n250 AUTH PLAIN")
			} else {
				say("250-127.0.0.1\r\n250 STARTTLS")
			}
		case verb == "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, r, w = tc, bufio.NewReader(tc), bufio.NewWriter(tc)
			say = func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
			secure = true
			s.mu.Lock()
			s.tls++
			s.mu.Unlock()
		case verb == "AUTH":
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "AUTH PLAIN "))
			if secure && string(raw) == "\x00kehu\x00relay-pass" {
				authed = true
				say("235 ok")
			} else {
				say("535 bad credentials")
			}
		case verb == "MAIL":
			if !secure || !authed {
				say("530 authenticate first")
				continue
			}
			from, to = strings.TrimPrefix(line, "MAIL FROM:"), nil
			say("250 ok")
		case verb == "RCPT":
			addr := strings.TrimPrefix(line, "RCPT TO:")
			if strings.Contains(addr, "refuse@") {
				say("550 no such user")
				continue
			}
			to = append(to, addr)
			say("250 ok")
		case verb == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.mail = append(s.mail, received{from: from, to: strings.Join(to, ","), data: b.String()})
			s.mu.Unlock()
			say("250 queued")
		case verb == "RSET":
			from, to = "", nil
			say("250 ok")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

// TestSMTPGateway sends through a relay on 127.0.0.1 with STARTTLS and
// AUTH; a refused recipient fails only that message; a relay that is down
// is temporary.
func TestSMTPGateway(t *testing.T) {
	s := newSMTPServer(t)
	cfg := outbox.SMTPConfig{Addr: s.ln.Addr().String(), From: "marketing@bank.example", FromName: "客户银行",
		User: "kehu", Password: "relay-pass", TLS: &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1"}}
	gw, err := outbox.NewSMTPGateway(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := []outbox.Envelope{
		{MessageID: 1, IdempotencyKey: "kehu-msg-1", Channel: msgtemplate.Email, To: "zhang.wei@example.cn", Subject: "理财到期提醒", Body: "尊敬的张先生：您的理财将于2026年12月2日到期。"},
		{MessageID: 2, IdempotencyKey: "kehu-msg-2", Channel: msgtemplate.Email, To: "refuse@example.cn", Subject: "s", Body: "b"},
		{MessageID: 3, IdempotencyKey: "kehu-msg-3", Channel: msgtemplate.Email, To: "wang.fang@example.cn", Subject: "s", Body: "第三封"},
	}
	res := gw.Send(context.Background(), batch)
	if res[0].Err != nil || res[0].ProviderID != "<kehu-msg-1@bank.example>" || res[2].Err != nil {
		t.Fatalf("results %+v", res)
	}
	if !outbox.IsPermanent(res[1].Err) || !strings.Contains(res[1].Err.Error(), "r***@example.cn") {
		t.Fatalf("a refused recipient: %v", res[1].Err)
	}
	if len(s.mail) != 2 || s.tls != 1 {
		t.Fatalf("%d mails over %d TLS sessions", len(s.mail), s.tls)
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.mail[0].data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mimeDecoder).dec(msg.Header.Get("Subject"))
	body, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(readAll(msg), "\r\n", ""))
	if subject != "理财到期提醒" || string(body) != batch[0].Body || msg.Header.Get("Message-Id") != "<kehu-msg-1@bank.example>" ||
		s.mail[0].to != "<zhang.wei@example.cn>" {
		t.Fatalf("mail: subject %q body %q headers %v to %s", subject, body, msg.Header, s.mail[0].to)
	}

	// Wrong password: temporary for the whole batch (configuration, not the message).
	bad := cfg
	bad.Password = "nope"
	gw2, _ := outbox.NewSMTPGateway(bad, nil)
	res = gw2.Send(context.Background(), batch[:1])
	if res[0].Err == nil || outbox.IsPermanent(res[0].Err) {
		t.Fatalf("bad credentials: %v", res[0].Err)
	}
	// The relay down.
	s.ln.Close()
	res = gw.Send(context.Background(), batch)
	if res[0].Err == nil || outbox.IsPermanent(res[0].Err) || res[1].Err != outbox.ErrNotAttempted {
		t.Fatalf("relay down: %+v", res)
	}
	// A relay without STARTTLS is refused unless allowed.
	if _, err := outbox.NewSMTPGateway(outbox.SMTPConfig{Addr: "127.0.0.1:25", From: "a@b.c", User: "u", AllowPlain: true}, nil); err == nil {
		t.Fatal("AUTH without TLS was accepted")
	}
}

type mimeDecoder struct{}

func (mimeDecoder) dec(s string) (string, error) { return new(mime.WordDecoder).DecodeHeader(s) }

func readAll(m *mail.Message) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := m.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
