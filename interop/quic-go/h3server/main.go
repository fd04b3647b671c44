// h3server: a static-file HTTP/3 server on quic-go 0.29's http3 package (http.FileServer), the
// peer of `tquic get` in the interop "http3" case and the comparison in docs/BENCHMARKS.md.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
	"github.com/lucas-clemente/quic-go/tquicinterop/common"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address to listen on (port 0: any)")
	root := flag.String("root", ".", "directory whose files are served")
	portFile := flag.String("port-file", "", "write the bound UDP port here")
	certFile := flag.String("cert", "", "certificate PEM (default: self-signed)")
	keyFile := flag.String("key", "", "private key PEM (with -cert)")
	certOut := flag.String("cert-out", "", "write the self-signed certificate (PEM) here")
	keyLog := flag.String("keylog", os.Getenv("SSLKEYLOGFILE"), "NSS key log file")
	quiet := flag.Bool("quiet", false, "no access log")
	flag.Parse()

	cert, err := common.LoadOrMakeCert(*certFile, *keyFile, *certOut)
	if err != nil {
		log.Fatalf("h3server: %v", err)
	}
	kl, err := common.OpenKeyLog(*keyLog)
	if err != nil {
		log.Fatalf("h3server: %v", err)
	}
	udp, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatalf("h3server: %v", err)
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	if *portFile != "" {
		tmp := *portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", port)), 0o644); err != nil {
			log.Fatalf("h3server: %v", err)
		}
		if err := os.Rename(tmp, *portFile); err != nil {
			log.Fatalf("h3server: %v", err)
		}
	}
	files := http.FileServer(http.Dir(*root))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !*quiet {
			log.Printf("%s %q %s", r.RemoteAddr, r.Method+" "+r.URL.Path, r.Header.Get("Range"))
		}
		files.ServeHTTP(w, r)
	})
	srv := &http3.Server{
		Handler:    handler,
		TLSConfig:  &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: kl},
		QuicConfig: &quic.Config{MaxIdleTimeout: 10 * time.Second},
	}
	fmt.Printf("listening on %s\n", udp.LocalAddr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		srv.Close()
		udp.Close()
		os.Exit(0)
	}()
	if err := srv.Serve(udp); err != nil {
		log.Printf("h3server: %v", err)
	}
}
