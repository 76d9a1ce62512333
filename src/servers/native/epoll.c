/* native-epoll: a hand-written, single-threaded event loop, the physical floor the other rows are measured against.
 * The loop (eventloop.c, shared with native-coro) watches the listening socket and every connection with one epoll
 * set and closes connections idle past the timeout. A connection is a small heap record whose state says what it
 * waits for: READING its request head, WRITING the response, or DRAINING what a client still sends after a 431.
 * Each time its socket is ready, step() runs it as far as it can go without blocking, then returns to the loop. */
#define _GNU_SOURCE
#include "common.h"
#include "eventloop.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum state { READING, WRITING, DRAINING };

struct conn {
    struct loop_conn loop; /* first: the loop hands back this pointer */
    enum state state;
    const struct response *r;
    size_t length, scanned, sent;
    char buf[HEAD_BUF_BYTES];
};

static void finish(struct conn *c) {
    loop_close(&c->loop);
    free(c);
}

/* Runs a connection as far as it can go without blocking. */
static void step(struct conn *c) {
    int fd = c->loop.fd;
    if (c->state == READING) {
        for (;;) {
            ssize_t n = read(fd, c->buf + c->length, sizeof c->buf - c->length);
            if (n < 0 && errno == EAGAIN) return;
            if (n <= 0) return finish(c); /* closed or reset before a full head: nothing to answer */
            loop_touch(&c->loop);
            c->length += (size_t)n;
            if ((c->r = answer(c->buf, c->length, &c->scanned))) break;
        }
        c->state = WRITING;
    }
    if (c->state == WRITING) {
        while (c->sent < c->r->length) {
            ssize_t n = write(fd, c->r->bytes + c->sent, c->r->length - c->sent);
            if (n < 0 && errno == EAGAIN) return loop_watch(&c->loop, EPOLLOUT);
            if (n < 0) return finish(c);
            loop_touch(&c->loop);
            c->sent += (size_t)n;
        }
        if (!c->r->drain) return finish(c);
        shutdown(fd, SHUT_WR); /* let the client read the answer before the close resets it */
        c->state = DRAINING;
        loop_watch(&c->loop, EPOLLIN);
    }
    for (;;) { /* DRAINING */
        ssize_t n = read(fd, c->buf, sizeof c->buf);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) return finish(c);
        loop_touch(&c->loop);
    }
}

/* A fresh connection is read at once: its request has usually arrived before accept returned. */
static void accepted(int fd) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->state = READING;
    loop_open(&c->loop, fd);
    step(c);
}

static void ready(struct loop_conn *c) { step((struct conn *)c); }
static void expired(struct loop_conn *c) { finish((struct conn *)c); }

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    int listener = listen_socket(&cfg);
    static const struct loop_server server = { accepted, ready, expired };
    loop_run(listener, cfg.idle_timeout_ms, &server);
}
