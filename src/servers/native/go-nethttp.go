// go-nethttp: Go's own net/http server, a goroutine per connection, today's industrial answer to the paper's
// user-threads rows ("ST", "Pth"). net/http's Serve loop accepts and starts one goroutine per connection, which
// reads and answers requests with blocking calls; Go parks a goroutine that would block in its netpoller (epoll)
// and runs another, M:N, as ST did with its threads. GOMAXPROCS=1 keeps it to one core, like every other server.
// This is the server as Go programmers deploy it: net/http parses the request and answers malformed ones itself
// (400, and 431 past MaxHeaderBytes, with its own headers); the handler routes as src/servers/request.ts does
// (404, 405) and serves the page. The command line, the listening socket (our backlog) and the page's bytes come
// from common.c through cgo, once at start; no C runs per request. go-raw is the same model without net/http.
package main

// #cgo CFLAGS: -O2
// #include "common.c"
import "C"

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

func main() {
	runtime.GOMAXPROCS(1)
	var cfg C.struct_config
	argv := make([]*C.char, len(os.Args))
	for i, arg := range os.Args {
		argv[i] = C.CString(arg)
	}
	C.setup(C.int(len(argv)), &argv[0], &cfg)
	// The page as every native server sends it: the body of common.c's answer to GET /.
	get := C.CString("GET / HTTP/1.0\r\n\r\n")
	scanned := C.size_t(0)
	r := C.answer(get, 18, &scanned)
	response := unsafe.Slice((*byte)(unsafe.Pointer(r.bytes)), r.length)
	page := response[C.head_end(r.bytes, r.length, 0):]
	length := strconv.Itoa(len(page))

	handler := func(w http.ResponseWriter, req *http.Request) {
		if req.Method != "GET" && req.Method != "HEAD" {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		if req.URL.Path != "/" && req.URL.Path != "/index.html" {
			http.Error(w, "404 Not Found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", length)
		if req.Method == "GET" {
			w.Write(page)
		}
	}
	idle := time.Duration(cfg.idle_timeout_ms) * time.Millisecond
	server := &http.Server{
		Handler:           http.HandlerFunc(handler),
		ReadHeaderTimeout: idle, // a client silent this long, or this slow to send its head, is closed
		WriteTimeout:      idle,
		IdleTimeout:       idle,
		// net/http reads up to MaxHeaderBytes plus 4096 bytes of slack before its 431: 8 KiB in all, as ours.
		MaxHeaderBytes: C.MAX_HEAD_BYTES - 4096,
	}
	fd := C.listen_socket(&cfg) // our backlog, and the "port N" line the launcher waits for
	file := os.NewFile(uintptr(fd), "listener")
	listener, err := net.FileListener(file)
	file.Close()
	if err == nil {
		err = server.Serve(listener)
	}
	fmt.Fprintln(os.Stderr, "go-nethttp:", err)
	os.Exit(1)
}
