// The attacker of bench/webhook_load.sh --attack: holds idle keep-alive, slowloris and silent connections open
// against a local HTTPS server. In a cluster such connections come from other machines; here the attacker shares
// the server's cores, so it is written to cost little CPU itself (a goroutine and a timer per connection, Go's
// crypto/tls), and what a benchmark loses under attack is mostly what the server spends, not what the attacker burns.
// Standard library only.
//
//	go_hold_connections PORT IDLE SLOWLORIS SILENT SECONDS READY_FILE
//
// IDLE TLS connections send one GET /healthz with keep-alive and then stay open, silent (what the API server's
// connection pool looks like between bursts); they are not reopened. SLOWLORIS TLS connections send a request line
// and then one header line a second, reopened when the server closes them (its header deadline should close each
// within seconds). SILENT TCP connections never send a ClientHello and are reopened when closed. Connects to
// 127.0.0.1 only and exits after SECONDS (at most 600). READY_FILE is created once the idle pool is open and the
// others have started; "holding: ..." goes to standard error then, the counters to standard output at exit.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

type counters struct {
	idleOpen, idleFailed, idleClosedByServer                  atomic.Int64
	slowlorisOpened, slowlorisClosedByServer, slowlorisErrors atomic.Int64
	silentOpened, silentClosedByServer, silentErrors          atomic.Int64
}

// The benchmark's certificate is self-signed for 127.0.0.1; the server's side of the handshake is the same.
var tlsConfig = &tls.Config{InsecureSkipVerify: true}

// closedBefore reports whether the server closes conn (or sends anything) before `until`.
func closedBefore(conn net.Conn, until time.Time) bool {
	conn.SetReadDeadline(until)
	var one [1]byte
	_, err := conn.Read(one[:])
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

func idle(addr string, stop time.Time, c *counters) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, tlsConfig)
	if err != nil {
		c.idleFailed.Add(1)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err == nil {
		err = readUntil(bufio.NewReaderSize(conn, 512), []byte("ok\n"))
	}
	if err != nil {
		c.idleFailed.Add(1)
		return
	}
	c.idleOpen.Add(1)
	if closedBefore(conn, stop) {
		c.idleClosedByServer.Add(1)
	}
	c.idleOpen.Add(-1)
}

func readUntil(r *bufio.Reader, marker []byte) error {
	var seen []byte
	for !bytes.HasSuffix(seen, marker) {
		b, err := r.ReadByte()
		if err != nil {
			return err
		}
		seen = append(seen, b)
	}
	return nil
}

func slowloris(addr string, stop time.Time, c *counters) {
	for time.Now().Before(stop) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, tlsConfig)
		if err != nil {
			c.slowlorisErrors.Add(1)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		c.slowlorisOpened.Add(1)
		_, err = conn.Write([]byte("POST /validate HTTP/1.1\r\nHost: x\r\n"))
		for i := 0; err == nil && time.Now().Before(stop); i++ {
			next := time.Now().Add(time.Second)
			if next.After(stop) {
				next = stop
			}
			if closedBefore(conn, next) {
				c.slowlorisClosedByServer.Add(1)
				break
			}
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err = fmt.Fprintf(conn, "X-Slow-%d: a\r\n", i)
		}
		if err != nil {
			c.slowlorisErrors.Add(1)
		}
		conn.Close()
	}
}

func silent(addr string, stop time.Time, c *counters) {
	for time.Now().Before(stop) {
		conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			c.silentErrors.Add(1)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		c.silentOpened.Add(1)
		if closedBefore(conn, stop) {
			c.silentClosedByServer.Add(1)
		}
		conn.Close()
	}
}

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: go_hold_connections PORT IDLE SLOWLORIS SILENT SECONDS READY_FILE")
		os.Exit(2)
	}
	var n [5]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[i+1])
		if err != nil || v < 0 {
			fmt.Fprintf(os.Stderr, "go_hold_connections: argument %d must be a count, not %q\n", i+1, os.Args[i+1])
			os.Exit(2)
		}
		n[i] = v
	}
	port, idleN, slowN, silentN, seconds := n[0], n[1], n[2], n[3], min(n[4], 600)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	stop := time.Now().Add(time.Duration(seconds) * time.Second)
	var c counters
	done := make(chan struct{}, idleN+slowN+silentN)
	run := func(f func(string, time.Time, *counters)) {
		go func() { f(addr, stop, &c); done <- struct{}{} }()
	}
	// The idle pool opens in batches so that the handshakes do not all land at once.
	for started := 0; started < idleN; started += 200 {
		for i := started; i < min(idleN, started+200); i++ {
			run(idle)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for wait := time.Now().Add(60 * time.Second); c.idleOpen.Load()+c.idleFailed.Load() < int64(idleN) && time.Now().Before(wait); {
		time.Sleep(100 * time.Millisecond)
	}
	for i := 0; i < slowN; i++ {
		run(slowloris)
	}
	for i := 0; i < silentN; i++ {
		run(silent)
	}
	time.Sleep(1500 * time.Millisecond)
	fmt.Fprintf(os.Stderr, "holding: %d idle keep-alive (%d failed), %d slowloris, %d silent\n",
		c.idleOpen.Load(), c.idleFailed.Load(), slowN, silentN)
	if f, err := os.Create(os.Args[6]); err == nil {
		f.Close()
	}
	for i := 0; i < idleN+slowN+silentN; i++ {
		<-done
	}
	fmt.Printf("idle_closed_by_server=%d idle_failed=%d idle_open=%d silent_closed_by_server=%d silent_errors=%d "+
		"silent_opened=%d slowloris_closed_by_server=%d slowloris_errors=%d slowloris_opened=%d\n",
		c.idleClosedByServer.Load(), c.idleFailed.Load(), c.idleOpen.Load(), c.silentClosedByServer.Load(),
		c.silentErrors.Load(), c.silentOpened.Load(), c.slowlorisClosedByServer.Load(), c.slowlorisErrors.Load(),
		c.slowlorisOpened.Load())
}
