// qgserver: an HTTP/0.9 ("hq-interop") file server on quic-go 0.29, the peer TQUIC's
// client is tested against. Each request is one bidirectional stream carrying
// "GET /path\r\n"; the answer is the file's bytes, then FIN.
//
// It prints "listening ADDR" once bound, one "server-conn" line per connection as it ends
// and one "server-stats" line per traced connection on exit, which the interop driver
// reads to check that the feature under test (retry, 0-RTT, key update...) really happened.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/tquicinterop/common"
)

// Application error codes this server uses on streams (hq-interop defines none).
const (
	errNotFound   = 0x10
	errBadRequest = 0x11
)

type options struct {
	listen, root, portFile, certFile, keyFile, certOut, keyLog, qlogDir, version string
	chacha20, retry, early, datagram                                             bool
	keyUpdate                                                                    uint64
	maxConns, maxStreams                                                         int
	idle                                                                         time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP address to listen on (port 0: any)")
	flag.StringVar(&o.root, "root", ".", "directory whose files are served")
	flag.StringVar(&o.portFile, "port-file", "", "write the bound UDP port here")
	flag.StringVar(&o.certFile, "cert", "", "certificate PEM (default: self-signed)")
	flag.StringVar(&o.keyFile, "key", "", "private key PEM (with -cert)")
	flag.StringVar(&o.certOut, "cert-out", "", "write the self-signed certificate (PEM) here")
	flag.StringVar(&o.keyLog, "keylog", os.Getenv("SSLKEYLOGFILE"), "NSS key log file")
	flag.StringVar(&o.qlogDir, "qlog", "", "write one qlog file per connection into this dir")
	flag.StringVar(&o.version, "version", "", "only this QUIC version: v1, v2draft, draft29")
	flag.BoolVar(&o.chacha20, "chacha20", false, "accept only TLS_CHACHA20_POLY1305_SHA256")
	flag.BoolVar(&o.retry, "retry", false, "send a Retry to every new client")
	flag.BoolVar(&o.early, "0rtt", false, "accept 0-RTT (ListenEarly)")
	flag.BoolVar(&o.datagram, "datagram", false, "enable DATAGRAM and echo every datagram")
	flag.Uint64Var(&o.keyUpdate, "keyupdate", 0, "start a key update every N packets")
	flag.IntVar(&o.maxStreams, "max-streams", 100,
		"concurrent bidirectional streams a client may open (quic-go's default: 100)")
	flag.IntVar(&o.maxConns, "max-conns", 0, "exit after this many connections ended (0: never)")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "idle timeout")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "qgserver: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	versions, err := common.ParseVersion(o.version)
	if err != nil {
		return err
	}
	common.SetKeyUpdateInterval(o.keyUpdate)
	cert, err := common.LoadOrMakeCert(o.certFile, o.keyFile, o.certOut)
	if err != nil {
		return err
	}
	keyLog, err := common.OpenKeyLog(o.keyLog)
	if err != nil {
		return err
	}
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{common.ALPN},
		KeyLogWriter: keyLog,
	}
	if o.chacha20 {
		common.ChaCha20Only(tlsConf)
	}
	stats, tracer := common.NewTracer(o.qlogDir, "server")
	retry := o.retry
	conf := &quic.Config{
		Versions:                 versions,
		MaxIdleTimeout:           o.idle,
		EnableDatagrams:          o.datagram,
		Tracer:                   tracer,
		RequireAddressValidation: func(net.Addr) bool { return retry },
		MaxIncomingStreams:       int64(o.maxStreams),
	}
	udp, err := net.ListenPacket("udp", o.listen)
	if err != nil {
		return err
	}
	var ln interface {
		Accept(context.Context) (quic.Connection, error)
		Close() error
	}
	if o.early {
		eln, err := quic.ListenEarly(udp, tlsConf, conf)
		if err != nil {
			return err
		}
		ln = earlyAdapter{eln}
	} else {
		if ln, err = quic.Listen(udp, tlsConf, conf); err != nil {
			return err
		}
	}
	addr := udp.LocalAddr().(*net.UDPAddr)
	if o.portFile != "" {
		tmp := o.portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", addr.Port)), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, o.portFile); err != nil {
			return err
		}
	}
	fmt.Printf("listening %s\n", addr)

	done := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	var ended atomic.Int64
	var once sync.Once
	finish := func() { once.Do(func() { close(done) }) }
	go func() {
		for accepted := int64(0); ; accepted++ {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			go func(n int64) {
				serveConn(o, conn, n)
				if o.maxConns > 0 && ended.Add(1) >= int64(o.maxConns) {
					finish()
				}
			}(accepted)
		}
	}()
	select {
	case <-done:
	case <-sigs:
	}
	ln.Close()
	fmt.Printf("server-retries-sent %d\n", stats.RetriesSent.Load())
	for i := 0; i < stats.Count(); i++ {
		s := stats.Conn(i)
		fmt.Printf("server-stats %d: %s close=%q\n", i, s.Summary(), s.CloseError())
	}
	return nil
}

type earlyAdapter struct{ quic.EarlyListener }

func (e earlyAdapter) Accept(ctx context.Context) (quic.Connection, error) {
	return e.EarlyListener.Accept(ctx)
}

// serveConn answers every request stream until the peer closes the connection.
func serveConn(o options, conn quic.Connection, n int64) {
	var wg sync.WaitGroup
	var requests, sent, echoed atomic.Int64
	if o.datagram {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				msg, err := conn.ReceiveMessage()
				if err != nil {
					return
				}
				if conn.SendMessage(msg) == nil {
					echoed.Add(1)
				}
			}
		}()
	}
	var acceptErr error
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			acceptErr = err
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			requests.Add(1)
			sent.Add(serveStream(o.root, str))
		}()
	}
	wg.Wait()
	st := conn.ConnectionState()
	fmt.Printf("server-conn %d: resumed=%t used0rtt=%t cipher=0x%04x alpn=%s requests=%d "+
		"bytes=%d datagrams_echoed=%d end=%q\n", n, st.TLS.DidResume, st.TLS.Used0RTT,
		st.TLS.CipherSuite, st.TLS.NegotiatedProtocol, requests.Load(), sent.Load(),
		echoed.Load(), acceptErr.Error())
}

// serveStream reads one request line and sends the file; it returns the bytes sent.
func serveStream(root string, str quic.Stream) int64 {
	line, err := readRequest(str)
	if err != nil {
		str.CancelRead(errBadRequest)
		str.CancelWrite(errBadRequest)
		fmt.Fprintf(os.Stderr, "stream %d: %v\n", str.StreamID(), err)
		return 0
	}
	// path.Clean of a rooted path never climbs above "/", so the file stays under root.
	name := filepath.Join(root, filepath.FromSlash(path.Clean("/"+line)))
	f, err := os.Open(name)
	if err != nil {
		str.CancelWrite(errNotFound)
		fmt.Fprintf(os.Stderr, "stream %d: %v\n", str.StreamID(), err)
		return 0
	}
	defer f.Close()
	n, err := io.Copy(str, f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stream %d: sending %s: %v\n", str.StreamID(), name, err)
		return n
	}
	str.Close()
	return n
}

// readRequest returns the path of "GET /path\r\n". It stops at the first newline or at
// FIN, whichever comes first, and reads at most common.MaxRequestLine bytes.
func readRequest(r io.Reader) (string, error) {
	buf := make([]byte, 0, 256)
	chunk := make([]byte, 256)
	for bytes.IndexByte(buf, '\n') < 0 {
		if len(buf) >= common.MaxRequestLine {
			return "", fmt.Errorf("request line longer than %d bytes", common.MaxRequestLine)
		}
		k, err := r.Read(chunk)
		buf = append(buf, chunk[:k]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i]
	}
	line := string(bytes.TrimRight(buf, "\r"))
	if len(line) < 5 || line[:4] != "GET " {
		return "", fmt.Errorf("bad request %q", line)
	}
	return line[4:], nil
}
