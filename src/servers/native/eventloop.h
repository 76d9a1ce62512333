/* The event loop native-epoll and native-coro share, so that the two differ only in how a connection is written:
 * a hand-written state machine (epoll.c) or a coroutine the compiler turns into one (coro.cc).
 * One epoll set watches the listening socket and every connection. Connections sit in a list ordered by when they
 * last made progress; since every connection has the same idle timeout, the list's head is always the next to
 * expire, and epoll_wait sleeps until then. The listener is drained at each turn (accept4 until EAGAIN) and each
 * fresh connection is handed to the server at once: its request has usually arrived before accept returns. */
#ifndef EVENTBENCH_EVENTLOOP_H
#define EVENTBENCH_EVENTLOOP_H
#ifdef __cplusplus
extern "C" {
#endif

/* What the loop keeps of a connection; the first member of a server's own record. */
struct loop_conn {
    int fd;
    unsigned events;               /* what epoll watches for it: EPOLLIN (from loop_open) or EPOLLOUT */
    long long deadline_ms;
    struct loop_conn *prev, *next; /* the idle list, oldest first */
};

struct loop_server {
    /* A new connection (non-blocking): make its record, loop_open it and run it as far as it goes; or close fd. */
    void (*accepted)(int fd);
    /* Its socket is ready for what it watches. */
    void (*ready)(struct loop_conn *c);
    /* Idle past the timeout: loop_close it and free it. */
    void (*expired)(struct loop_conn *c);
};

/* The idle list alone, for a server with a loop of its own (native-uring): */
void loop_idle_timeout(int idle_timeout_ms);
/* Reads the clock: call it after every wait. */
void loop_clock(void);
/* How long until the oldest connection's time is up, ms; -1 with none. */
int loop_wait_ms(void);
/* The oldest connection if its time is up, else NULL; it stays on the list until loop_forget or loop_close. */
struct loop_conn *loop_expired(void);
/* Takes c off the idle list, if it is on it. */
void loop_forget(struct loop_conn *c);

/* Watches fd for EPOLLIN with c as its data, and puts c at the young end of the idle list. */
void loop_open(struct loop_conn *c, int fd);
/* Progress: c moves (or comes back) to the young end of the idle list. */
void loop_touch(struct loop_conn *c);
/* What epoll watches for c: EPOLLIN or EPOLLOUT (a no-op when it already does). */
void loop_watch(struct loop_conn *c, unsigned events);
/* Takes c off the idle list and closes its socket (which also removes it from the epoll set). */
void loop_close(struct loop_conn *c);
/* Serves the (blocking) listener for ever. */
void loop_run(int listener, int idle_timeout_ms, const struct loop_server *server);

#ifdef __cplusplus
}
#endif
#endif
