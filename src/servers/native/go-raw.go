// go-raw: a goroutine per connection over Go's own net.Listener, with our request handling: today's answer to the
// paper's user-threads rows ("ST", "Pth"). Go multiplexes goroutines onto kernel threads (M:N) and parks a goroutine
// that would block on a socket in its netpoller (epoll), as ST does with its threads; GOMAXPROCS=1 keeps it to
// one core, like every other server. The connection's code is blocking and straight-line, as the paper's toy
// servers are: read the head (each read waits at most the idle timeout), write the answer, drain after a 431,
// close. The command line, the page and the request rules are common.c's own, called through cgo, so the bytes
// are those of every native server; only answer() is called per request, about 100 ns of cgo each time.
package main

// #cgo CFLAGS: -O2
// #include "common.c"
import "C"

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"
	"unsafe"
)

func serve(conn *net.TCPConn, idle time.Duration) {
	defer conn.Close()
	buf := make([]byte, C.HEAD_BUF_BYTES)
	length, scanned := 0, C.size_t(0)
	var r *C.struct_response
	for r == nil {
		conn.SetReadDeadline(time.Now().Add(idle))
		n, _ := conn.Read(buf[length:])
		if n == 0 {
			return // closed, reset or idle too long (no bytes come with an error): nothing to answer
		}
		length += n
		r = C.answer((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(length), &scanned)
	}
	conn.SetWriteDeadline(time.Now().Add(idle))
	if _, err := conn.Write(unsafe.Slice((*byte)(unsafe.Pointer(r.bytes)), r.length)); err != nil || r.drain == 0 {
		return
	}
	conn.CloseWrite() // let the client read the answer before the close resets it
	for {
		conn.SetReadDeadline(time.Now().Add(idle))
		if n, _ := conn.Read(buf); n == 0 {
			return
		}
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	var cfg C.struct_config
	argv := make([]*C.char, len(os.Args))
	for i, arg := range os.Args {
		argv[i] = C.CString(arg)
	}
	C.setup(C.int(len(argv)), &argv[0], &cfg)
	fd := C.listen_socket(&cfg) // our backlog, and the "port N" line the launcher waits for
	file := os.NewFile(uintptr(fd), "listener")
	listener, err := net.FileListener(file)
	file.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "listener:", err)
		os.Exit(1)
	}
	idle := time.Duration(cfg.idle_timeout_ms) * time.Millisecond
	for {
		conn, err := listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				os.Exit(1)
			}
			fmt.Fprintln(os.Stderr, "accept:", err)
			time.Sleep(10 * time.Millisecond) // out of descriptors: let connections finish
			continue
		}
		go serve(conn.(*net.TCPConn), idle)
	}
}
