/* native-uring: completion instead of readiness, a row the paper could not have had (io_uring, Linux 5.1, 2019).
 * native-epoll asks the kernel which sockets are ready, then reads and writes them itself. Here the server hands
 * the kernel the operations themselves (accept, recv, send) on a shared submission ring and later reaps their
 * results from a completion ring: no readiness is ever polled, and one io_uring_enter both submits a turn's
 * operations and waits for the next results. One multishot accept yields a completion per new connection. A
 * connection is a record like native-epoll's (the same 8 KiB head buffer and the same idle list, eventloop.c)
 * with exactly one operation in flight, which says where it is: a recv of its head, a send of the answer, a recv
 * draining what a client still sends after a 431. When a connection has been idle too long, shutdown(2) ends its
 * pending operation (a recv completes with 0) and it closes as if the client had closed. */
#define _GNU_SOURCE
#include "common.h"
#include "eventloop.h"
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Submission slots; operations in flight are not limited by it (one per connection), only a turn's batch. */
#define RING_ENTRIES 4096
/* user_data of the multishot accept; a connection's operations carry its record's address. */
#define ACCEPTING 0

enum state { READING, WRITING, DRAINING };

struct conn {
    struct loop_conn idle; /* first: the idle list hands back this pointer */
    enum state state;
    const struct response *r;
    size_t length, scanned, sent;
    char buf[HEAD_BUF_BYTES];
};

static struct io_uring ring;
static int listener;

/* A free submission slot; when a turn has filled them all, what is queued is submitted first. */
static struct io_uring_sqe *slot(void) {
    struct io_uring_sqe *sqe;
    while (!(sqe = io_uring_get_sqe(&ring))) io_uring_submit(&ring);
    return sqe;
}

static void accept_more(void) {
    struct io_uring_sqe *sqe = slot();
    io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, ACCEPTING);
}

static void receive(struct conn *c, char *into, size_t bytes) {
    struct io_uring_sqe *sqe = slot();
    io_uring_prep_recv(sqe, c->idle.fd, into, bytes, 0);
    io_uring_sqe_set_data(sqe, c);
}

static void send_rest(struct conn *c) {
    struct io_uring_sqe *sqe = slot();
    io_uring_prep_send(sqe, c->idle.fd, c->r->bytes + c->sent, c->r->length - c->sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data(sqe, c);
}

static void finish(struct conn *c) {
    loop_close(&c->idle);
    free(c);
}

/* A new connection: its first recv is submitted with this turn's batch, and usually completes at once. */
static void accepted(int fd) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->idle.fd = fd;
    c->state = READING;
    loop_touch(&c->idle);
    receive(c, c->buf, sizeof c->buf);
}

/* The one operation in flight of `c` completed with `res` (bytes, or -errno): the connection's next step. */
static void completed(struct conn *c, int res) {
    if (res <= 0) return finish(c); /* closed, reset, or shut down as idle too long */
    loop_touch(&c->idle);
    if (c->state == READING) {
        c->length += (size_t)res;
        if (!(c->r = answer(c->buf, c->length, &c->scanned))) return receive(c, c->buf + c->length, sizeof c->buf - c->length);
        c->state = WRITING;
        return send_rest(c);
    }
    if (c->state == WRITING) {
        c->sent += (size_t)res;
        if (c->sent < c->r->length) return send_rest(c);
        if (!c->r->drain) return finish(c);
        shutdown(c->idle.fd, SHUT_WR); /* let the client read the answer before the close resets it */
        c->state = DRAINING;
    }
    receive(c, c->buf, sizeof c->buf); /* DRAINING */
}

static void reap(struct io_uring_cqe *cqe) {
    struct conn *c = io_uring_cqe_get_data(cqe);
    if (c) return completed(c, cqe->res);
    if (cqe->res >= 0) accepted(cqe->res);
    else if (cqe->res != -EINTR && cqe->res != -ECONNABORTED) fprintf(stderr, "accept: %s\n", strerror(-cqe->res));
    /* The multishot accept ends on an error (out of descriptors too): it is submitted again, and retried. */
    if (!(cqe->flags & IORING_CQE_F_MORE)) accept_more();
}

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    /* One thread submits and reaps, so the kernel may defer completion work until we wait (Linux 6.1); else plain. */
    int err = io_uring_queue_init(RING_ENTRIES, &ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (err == -EINVAL) err = io_uring_queue_init(RING_ENTRIES, &ring, 0);
    if (err < 0) {
        fprintf(stderr, "io_uring_queue_init: %s (io_uring disabled? see sysctl kernel.io_uring_disabled)\n", strerror(-err));
        return 1;
    }
    listener = listen_socket(&cfg);
    loop_idle_timeout(cfg.idle_timeout_ms);
    accept_more();
    for (;;) {
        int wait_ms = loop_wait_ms();
        struct __kernel_timespec ts = { .tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000LL };
        struct io_uring_cqe *cqe;
        io_uring_submit_and_wait_timeout(&ring, &cqe, 1, wait_ms >= 0 ? &ts : NULL, NULL);
        loop_clock();
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            reap(cqe);
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
        for (struct loop_conn *c; (c = loop_expired());) { /* idle too long: end its operation, it then closes */
            loop_forget(c);
            shutdown(c->fd, SHUT_RDWR);
        }
    }
}
