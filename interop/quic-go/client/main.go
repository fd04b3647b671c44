// qgclient: an HTTP/0.9 ("hq-interop") client on quic-go 0.29, the peer TQUIC's server is
// tested against. Every path given as an argument is fetched on its own bidirectional
// stream ("GET /path\r\n", FIN), all in parallel on one connection, into -out.
//
// With -resume the first path is fetched on a first connection, and the rest on a second
// one that must resume the TLS session; with -0rtt the second connection sends its
// requests as 0-RTT, which the server must accept. With -datagrams N it sends N DATAGRAM
// frames and expects each echoed back byte for byte. It prints one "client-conn" line per
// connection (TLS state and quic-go's event counters) and exits non-zero on any failure.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/tquicinterop/common"
)

// maxDatagrams bounds -datagrams (each is remembered until its echo arrives).
const maxDatagrams = 100000

type options struct {
	addr, sni, out, caFile, keyLog, qlogDir, version string
	chacha20, resume, early                          bool
	keyUpdate                                        uint64
	cidLen, datagrams, datagramSize                  int
	timeout                                          time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "", "server UDP address, e.g. 127.0.0.1:4433 (required)")
	flag.StringVar(&o.sni, "sni", "localhost", "TLS server name")
	flag.StringVar(&o.out, "out", ".", "directory the files are written to")
	flag.StringVar(&o.caFile, "ca", "", "verify the server against this CA (default: no check)")
	flag.StringVar(&o.keyLog, "keylog", os.Getenv("SSLKEYLOGFILE"), "NSS key log file")
	flag.StringVar(&o.qlogDir, "qlog", "", "write one qlog file per connection into this dir")
	flag.StringVar(&o.version, "version", "", "only this QUIC version: v1, v2draft, draft29")
	flag.BoolVar(&o.chacha20, "chacha20", false, "offer only TLS_CHACHA20_POLY1305_SHA256")
	flag.BoolVar(&o.resume, "resume", false, "second connection resumes the first one's session")
	flag.BoolVar(&o.early, "0rtt", false, "like -resume, and send the second requests as 0-RTT")
	flag.Uint64Var(&o.keyUpdate, "keyupdate", 0, "start a key update every N packets")
	flag.IntVar(&o.cidLen, "cid-len", 0, "source connection ID length (0: quic-go's client default)")
	flag.IntVar(&o.datagrams, "datagrams", 0, "send N datagrams and expect them echoed")
	flag.IntVar(&o.datagramSize, "datagram-size", 64, "bytes per datagram (8..1000)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	if err := run(o, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "qgclient: %v\n", err)
		os.Exit(1)
	}
}

func run(o options, paths []string) error {
	if o.addr == "" {
		return errors.New("-addr is required")
	}
	if o.early {
		o.resume = true
	}
	if o.resume && len(paths) < 2 {
		return errors.New("-resume/-0rtt need at least two paths (one per connection)")
	}
	if len(paths) == 0 && o.datagrams == 0 {
		return errors.New("nothing to do: give paths or -datagrams")
	}
	if o.datagrams < 0 || o.datagrams > maxDatagrams {
		return fmt.Errorf("-datagrams must be in 0..%d", maxDatagrams)
	}
	if o.datagramSize < 8 || o.datagramSize > 1000 {
		return errors.New("-datagram-size must be in 8..1000")
	}
	versions, err := common.ParseVersion(o.version)
	if err != nil {
		return err
	}
	common.SetKeyUpdateInterval(o.keyUpdate)
	keyLog, err := common.OpenKeyLog(o.keyLog)
	if err != nil {
		return err
	}
	tickets := newTicketCache()
	tlsConf := &tls.Config{
		ServerName:         o.sni,
		NextProtos:         []string{common.ALPN},
		KeyLogWriter:       keyLog,
		InsecureSkipVerify: o.caFile == "",
		ClientSessionCache: tickets,
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return err
		}
		tlsConf.RootCAs = x509.NewCertPool()
		if !tlsConf.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no certificate", o.caFile)
		}
	}
	if o.chacha20 {
		common.ChaCha20Only(tlsConf)
	}
	stats, tracer := common.NewTracer(o.qlogDir, "client")
	conf := &quic.Config{
		Versions:             versions,
		ConnectionIDLength:   o.cidLen,
		HandshakeIdleTimeout: 5 * time.Second,
		MaxIdleTimeout:       10 * time.Second,
		EnableDatagrams:      o.datagrams > 0,
		Tracer:               tracer,
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	if !o.resume {
		return connection(ctx, o, tlsConf, conf, stats, 0, paths, false)
	}
	if err := connection(ctx, o, tlsConf, conf, stats, 0, paths[:1], false); err != nil {
		return err
	}
	if !tickets.seen() {
		return errors.New("the server sent no session ticket on the first connection")
	}
	return connection(ctx, o, tlsConf, conf, stats, 1, paths[1:], o.early)
}

// connection makes one connection, fetches paths (sending them as 0-RTT when early), runs
// the datagram echo check on the first connection, and closes it.
func connection(ctx context.Context, o options, tlsConf *tls.Config, conf *quic.Config,
	stats *common.StatsTracer, n int, paths []string, early bool) error {
	var conn quic.Connection
	var err error
	if early {
		var ec quic.EarlyConnection
		var held *heldConn
		ec, held, err = dialEarlyHeld(ctx, o.addr, tlsConf, conf, stats, n)
		if held != nil {
			defer held.Close()
		}
		conn = ec
	} else {
		conn, err = quic.DialAddrContext(ctx, o.addr, tlsConf, conf)
	}
	if err != nil {
		return fmt.Errorf("connection %d: handshake: %w", n, err)
	}
	start := time.Now()
	var total int64
	fetchErr := fetchAll(ctx, conn, o.out, paths, &total)
	var dgErr error
	dgEchoed := 0
	if fetchErr == nil && n == 0 && o.datagrams > 0 {
		dgEchoed, dgErr = datagramEcho(ctx, conn, o.datagrams, o.datagramSize)
	}
	st := conn.ConnectionState()
	if n == 0 && o.resume {
		// The ticket arrives in 1-RTT after the handshake; give it a moment before closing.
		waitCtx, cancelWait := context.WithTimeout(ctx, 5*time.Second)
		<-ticketsArrived(waitCtx, tlsConf.ClientSessionCache.(*ticketCache))
		cancelWait()
	}
	conn.CloseWithError(0, "done")
	elapsed := time.Since(start)
	summary := "no-stats"
	if s := stats.Conn(n); s != nil {
		summary = s.Summary()
	}
	fmt.Printf("client-conn %d: resumed=%t used0rtt=%t cipher=0x%04x alpn=%s files=%d bytes=%d "+
		"seconds=%.3f datagrams_echoed=%d %s\n", n, st.TLS.DidResume, st.TLS.Used0RTT,
		st.TLS.CipherSuite, st.TLS.NegotiatedProtocol, len(paths), total, elapsed.Seconds(),
		dgEchoed, summary)
	switch {
	case fetchErr != nil:
		return fmt.Errorf("connection %d: %w", n, fetchErr)
	case dgErr != nil:
		return fmt.Errorf("connection %d: %w", n, dgErr)
	case n == 1 && !st.TLS.DidResume:
		return errors.New("connection 1: the TLS session was not resumed")
	case n == 1 && early && !st.TLS.Used0RTT:
		return errors.New("connection 1: the server did not accept 0-RTT")
	}
	return nil
}

// fetchAll requests every path on its own stream, all at once, and writes the bodies.
func fetchAll(ctx context.Context, conn quic.Connection, out string, paths []string,
	total *int64) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, p := range paths {
		wg.Add(1)
		go func(p string) {
			defer wg.Done()
			n, err := fetch(ctx, conn, out, p)
			mu.Lock()
			defer mu.Unlock()
			*total += n
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("GET %s: %w", p, err)
			}
		}(p)
	}
	wg.Wait()
	return firstErr
}

func fetch(ctx context.Context, conn quic.Connection, out, p string) (int64, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := str.Write([]byte("GET " + p + "\r\n")); err != nil {
		return 0, err
	}
	if err := str.Close(); err != nil {
		return 0, err
	}
	name := filepath.Join(out, filepath.FromSlash(path.Clean(p)))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(f, str)
	if err != nil {
		return n, err
	}
	return n, f.Close()
}

// datagramEcho sends count numbered datagrams of size bytes and waits until each has come
// back unchanged. DATAGRAM is unreliable (RFC 9221 §5), so a datagram with no echo after
// a while is sent again, up to 5 times; on loopback nothing should need that.
func datagramEcho(ctx context.Context, conn quic.Connection, count, size int) (int, error) {
	if !conn.ConnectionState().SupportsDatagrams {
		return 0, errors.New("the server did not offer max_datagram_frame_size")
	}
	make1 := func(i int) []byte {
		b := bytes.Repeat([]byte{byte(i)}, size)
		binary.BigEndian.PutUint64(b, uint64(i))
		return b
	}
	got := make([]bool, count)
	echoed := 0
	recvErr := make(chan error, 1)
	var mu sync.Mutex
	go func() {
		for {
			msg, err := conn.ReceiveMessage()
			if err != nil {
				recvErr <- err
				return
			}
			if len(msg) != size {
				recvErr <- fmt.Errorf("echo of %d bytes, sent %d", len(msg), size)
				return
			}
			i := int(binary.BigEndian.Uint64(msg))
			if i < 0 || i >= count || !bytes.Equal(msg, make1(i)) {
				recvErr <- fmt.Errorf("echo does not match any datagram sent")
				return
			}
			mu.Lock()
			if !got[i] {
				got[i] = true
				echoed++
			}
			done := echoed == count
			mu.Unlock()
			if done {
				recvErr <- nil
				return
			}
		}
	}()
	for round := 0; round < 5; round++ {
		for i := 0; i < count; i++ {
			mu.Lock()
			skip := got[i]
			mu.Unlock()
			if skip {
				continue
			}
			if err := conn.SendMessage(make1(i)); err != nil {
				return echoed, fmt.Errorf("SendMessage: %w", err)
			}
		}
		select {
		case err := <-recvErr:
			mu.Lock()
			defer mu.Unlock()
			return echoed, err
		case <-time.After(time.Second):
		case <-ctx.Done():
			return echoed, ctx.Err()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return echoed, fmt.Errorf("%d of %d datagrams echoed", echoed, count)
}

// heldConn is the 0-RTT connection's UDP socket: nothing it receives is read until the
// connection has sent a 0-RTT packet (or maxEarlyHold passed). Over loopback the server's
// handshake reply comes back within a millisecond or so; on a loaded machine the goroutines
// writing the requests can run later than that, the client then already has its 1-RTT keys,
// the requests leave in 1-RTT packets and the zerortt case fails with zero_rtt_sent=0 although
// both sides did everything right. Holding the reply is what a longer round trip would do.
type heldConn struct {
	net.PacketConn
	open chan struct{}
	once sync.Once
}

// maxEarlyHold bounds the hold: without a 0-RTT packet by then the case fails on its check.
const maxEarlyHold = 2 * time.Second

func (c *heldConn) ReadFrom(b []byte) (int, net.Addr, error) {
	<-c.open
	return c.PacketConn.ReadFrom(b)
}

func (c *heldConn) release() { c.once.Do(func() { close(c.open) }) }

func (c *heldConn) Close() error {
	c.release()
	return c.PacketConn.Close()
}

// dialEarlyHeld dials connection n over a heldConn, released once the tracer saw connection
// n send a 0-RTT packet.
func dialEarlyHeld(ctx context.Context, addr string, tlsConf *tls.Config, conf *quic.Config,
	stats *common.StatsTracer, n int) (quic.EarlyConnection, *heldConn, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4zero, Port: 0})
	if err != nil {
		return nil, nil, err
	}
	held := &heldConn{PacketConn: udp, open: make(chan struct{})}
	go func() {
		deadline := time.Now().Add(maxEarlyHold)
		for time.Now().Before(deadline) {
			if s := stats.Conn(n); s != nil && s.ZeroRTTSent.Load() > 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		held.release()
	}()
	ec, err := quic.DialEarlyContext(ctx, held, raddr, tlsConf.ServerName, tlsConf, conf)
	if err != nil {
		held.Close()
		return nil, nil, err
	}
	return ec, held, nil
}

// ticketCache remembers session tickets and tells when one has arrived.
type ticketCache struct {
	tls.ClientSessionCache
	mu  sync.Mutex
	got chan struct{}
	n   int
}

func newTicketCache() *ticketCache {
	return &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(4),
		got: make(chan struct{})}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		close(c.got)
	}
	c.n++
}

func (c *ticketCache) seen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n > 0
}

func ticketsArrived(ctx context.Context, c *ticketCache) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-c.got:
		case <-ctx.Done():
		}
		close(ch)
	}()
	return ch
}
