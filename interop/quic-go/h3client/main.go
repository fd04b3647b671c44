// h3client: fetches URLs over HTTP/3 with quic-go 0.29's http3.RoundTripper (one QUIC
// connection, requests in parallel), the peer of `tquic serve` in the interop "http3" case.
// With -n it repeats the URL list and reports requests/s and goodput (docs/BENCHMARKS.md).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
	"github.com/lucas-clemente/quic-go/tquicinterop/common"
)

func main() {
	out := flag.String("out", "", "directory the bodies are written to (default: discard)")
	caFile := flag.String("ca", "", "verify the server against this CA (default: no check)")
	sni := flag.String("sni", "localhost", "TLS server name")
	keyLog := flag.String("keylog", os.Getenv("SSLKEYLOGFILE"), "NSS key log file")
	repeat := flag.Int("n", 1, "fetch the URL list this many times")
	parallel := flag.Int("c", 16, "requests in flight at once")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatalf("usage: h3client [flags] URL...")
	}
	tc := &tls.Config{ServerName: *sni, InsecureSkipVerify: *caFile == ""}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			log.Fatalf("h3client: %v", err)
		}
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(pem)
	}
	kl, err := common.OpenKeyLog(*keyLog)
	if err != nil {
		log.Fatalf("h3client: %v", err)
	}
	tc.KeyLogWriter = kl
	rt := &http3.RoundTripper{TLSClientConfig: tc,
		QuicConfig: &quic.Config{MaxIdleTimeout: 10 * time.Second}}
	defer rt.Close()
	client := &http.Client{Transport: rt, Timeout: *timeout}

	jobs := make(chan string)
	var failures, requests, bytes atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				n, err := fetch(client, u, *out)
				if err != nil {
					log.Printf("h3client: %s: %v", u, err)
					failures.Add(1)
					continue
				}
				requests.Add(1)
				bytes.Add(n)
			}
		}()
	}
	for r := 0; r < *repeat; r++ {
		for _, u := range flag.Args() {
			jobs <- u
		}
	}
	close(jobs)
	wg.Wait()
	secs := time.Since(start).Seconds()
	fmt.Printf("h3client: %d requests, %d failed, %d bytes in %.3f s: %.0f req/s, %.1f Mbit/s\n",
		requests.Load(), failures.Load(), bytes.Load(), secs, float64(requests.Load())/secs,
		float64(bytes.Load())*8/secs/1e6)
	if failures.Load() > 0 {
		os.Exit(1)
	}
}

func fetch(client *http.Client, raw, outDir string) (int64, error) {
	resp, err := client.Get(raw)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var w io.Writer = io.Discard
	if outDir != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return 0, err
		}
		f, err := os.Create(path.Join(outDir, path.Base(u.Path)))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		w = f
	}
	return io.Copy(w, resp.Body)
}
