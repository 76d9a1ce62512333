/* native-coro: C++20 coroutines over native-epoll's own loop, today's answer to the paper's "CPC" row.
 * CPC's translator took a threaded description of a server and produced an event-driven program. A C++20 compiler
 * does the same to a function that uses co_await: each connection here is one straight-line coroutine (read the
 * head, write the answer, drain after a 431), and the compiler splits it at every co_await into a heap-allocated
 * frame and a resume point, the continuation CPC built. Everything but that is native-epoll's: the same event loop
 * (eventloop.c: one epoll set, accept4 until EAGAIN, a first read at once, level-triggered EPOLLIN and EPOLLOUT
 * only while a write would block, the idle list), the same common.c, the same 8 KiB head buffer (in the frame,
 * zeroed by calloc as native-epoll's record is). A connection waits with co_await ready_for{c, EPOLLIN}; the loop
 * resumes it when epoll says so, and destroys its frame when it has been idle too long (the frame's destructor
 * closes the socket), as native-epoll frees its record. */
#include <coroutine>
#include <cerrno>
#include <cstdlib>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common.h"
#include "eventloop.h"

/* What the loop knows of a connection: it lives in the coroutine's frame, and says where to resume it. */
struct conn : loop_conn {
    std::coroutine_handle<> waiting;
    explicit conn(int fd) : loop_conn{} { loop_open(this, fd); }
    ~conn() { loop_close(this); }
};

/* The coroutine of one connection: started at once, freed by itself at its end (or by the loop when idle). */
struct task {
    struct promise_type {
        /* The frame comes from calloc, as native-epoll's record does; a failed allocation drops the connection. */
        static void *operator new(std::size_t bytes) noexcept { return calloc(1, bytes); }
        static void operator delete(void *frame) noexcept { free(frame); }
        static task get_return_object_on_allocation_failure() noexcept { return { false }; }
        task get_return_object() noexcept { return { true }; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { abort(); }
    };
    bool started;
};

/* co_await ready_for{c, events}: suspend until epoll reports the socket ready for `events`. */
struct ready_for {
    conn &c;
    unsigned events;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) noexcept {
        c.waiting = self;
        loop_watch(&c, events);
    }
    void await_resume() const noexcept {}
};

static task serve(int fd) {
    conn c(fd);
    char buf[HEAD_BUF_BYTES];
    size_t length = 0, scanned = 0;
    const struct response *r = nullptr;
    while (!r) { /* reading the request head */
        ssize_t n = read(fd, buf + length, sizeof buf - length);
        if (n < 0 && errno == EAGAIN) {
            co_await ready_for{ c, EPOLLIN };
            continue;
        }
        if (n <= 0) co_return; /* closed or reset before a full head: nothing to answer */
        loop_touch(&c);
        length += (size_t)n;
        r = answer(buf, length, &scanned);
    }
    for (size_t sent = 0; sent < r->length;) { /* writing the answer */
        ssize_t n = write(fd, r->bytes + sent, r->length - sent);
        if (n < 0 && errno == EAGAIN) {
            co_await ready_for{ c, EPOLLOUT };
            continue;
        }
        if (n < 0) co_return;
        loop_touch(&c);
        sent += (size_t)n;
    }
    if (!r->drain) co_return;
    shutdown(fd, SHUT_WR); /* let the client read the answer before the close resets it */
    for (;;) { /* draining what a client still sends after a 431 */
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) {
            co_await ready_for{ c, EPOLLIN };
            continue;
        }
        if (n <= 0) co_return;
        loop_touch(&c);
    }
}

static void accepted(int fd) {
    if (!serve(fd).started) close(fd);
}
static void ready(loop_conn *c) { static_cast<conn *>(c)->waiting.resume(); }
static void expired(loop_conn *c) { static_cast<conn *>(c)->waiting.destroy(); }

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    int listener = listen_socket(&cfg);
    static const loop_server server = { accepted, ready, expired };
    loop_run(listener, cfg.idle_timeout_ms, &server);
}
