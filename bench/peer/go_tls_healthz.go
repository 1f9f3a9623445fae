// The peer of bench/webhook_rate.sh: Go's own net/http TLS server (the HTTP stack the API server and most webhooks
// are built on) answering GET /healthz, so a run shows what any TLS server gets from the same sender on the same
// cores. Standard library only.
//
//	go_tls_healthz CERT KEY PORT_FILE   listens on 127.0.0.1:0 and writes the port it got to PORT_FILE
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go_tls_healthz CERT KEY PORT_FILE")
		os.Exit(2)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_tls_healthz:", err)
		os.Exit(1)
	}
	port := strconv.Itoa(listener.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(os.Args[3], []byte(port), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "go_tls_healthz:", err)
		os.Exit(1)
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	// net/http logs every handshake the sender abandons to stderr (the bench keeps it in a file).
	fmt.Fprintln(os.Stderr, (&http.Server{}).ServeTLS(listener, os.Args[1], os.Args[2]))
	os.Exit(1)
}
