// The brand-new clients of bench/webhook_load.sh: Go's own HTTP client (crypto/tls, net/http), the stack the
// kube-apiserver calls webhooks with, opening a fresh TCP connection and doing a full TLS handshake for every request
// (no keep-alive, no session resumption), one after another. The TLS configuration is built once, as the API server
// builds it once per webhook, so what is measured is the connection and the request, not a client loading its
// certificate store (curl, one process per request, spends ~3 ms of its ~4 ms there on this machine). Standard
// library only.
//
//	go_new_clients URL BODY_FILE N INTERVAL_MS
//
// POSTs BODY_FILE (GET when it is empty) to URL N times, INTERVAL_MS apart, each with a 10 s timeout, and prints one
// line per request: the HTTP status (0 for a transport error) and the latency from dial to the last byte of the
// reply, in seconds (the format of curl's `-w '%{http_code} %{time_total}'`).
package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: go_new_clients URL BODY_FILE N INTERVAL_MS")
		os.Exit(2)
	}
	url := os.Args[1]
	body, err := os.ReadFile(os.Args[2])
	n, errN := strconv.Atoi(os.Args[3])
	interval, errI := strconv.Atoi(os.Args[4])
	if err != nil || errN != nil || errI != nil || n < 1 || interval < 0 {
		fmt.Fprintln(os.Stderr, "go_new_clients: bad arguments:", err, errN, errI)
		os.Exit(2)
	}
	client := &http.Client{
		// The benchmark's certificate is self-signed for 127.0.0.1; the handshake is the same as with verification.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
	for i := 0; i < n; i++ {
		start := time.Now()
		var resp *http.Response
		if len(body) > 0 {
			resp, err = client.Post(url, "application/json", bytes.NewReader(body))
		} else {
			resp, err = client.Get(url)
		}
		status := 0
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil {
				status = resp.StatusCode
			}
		}
		fmt.Printf("%d %.6f\n", status, time.Since(start).Seconds())
		time.Sleep(time.Duration(interval) * time.Millisecond)
	}
}
