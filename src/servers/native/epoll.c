/* native-epoll: a hand-written, single-threaded event loop, the physical floor the other rows are measured against.
 * One epoll set watches the listening socket and every connection. A connection is a small heap record whose
 * state says what it waits for: READING its request head, WRITING the response, or DRAINING what a client
 * still sends after a 431. Connections sit in a list ordered by when they last made progress; since every
 * connection has the same idle timeout, the list's head is always the next to expire, and epoll_wait sleeps
 * until then. A fresh connection is read at once: its request has usually arrived before accept returns. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { READING, WRITING, DRAINING };

struct conn {
    int fd;
    enum state state;
    const struct response *r;
    size_t length, scanned, sent;
    long long deadline_ms;
    struct conn *prev, *next; /* the idle list, oldest first */
    char buf[HEAD_BUF_BYTES];
};

static int epfd, idle_timeout_ms;
static struct conn *oldest, *newest;
static long long now_ms;

static long long clock_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void unlink_conn(struct conn *c) {
    if (c->prev) c->prev->next = c->next; else oldest = c->next;
    if (c->next) c->next->prev = c->prev; else newest = c->prev;
    c->prev = c->next = NULL;
}

/* Progress: the connection moves to the young end of the idle list. */
static void touch(struct conn *c) {
    if (c->prev || oldest == c) unlink_conn(c);
    c->deadline_ms = now_ms + idle_timeout_ms;
    c->prev = newest;
    if (newest) newest->next = c; else oldest = c;
    newest = c;
}

static void finish(struct conn *c) {
    unlink_conn(c);
    close(c->fd); /* also removes it from the epoll set */
    free(c);
}

static void watch(struct conn *c, unsigned events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Runs a connection as far as it can go without blocking. */
static void step(struct conn *c) {
    if (c->state == READING) {
        for (;;) {
            ssize_t n = read(c->fd, c->buf + c->length, sizeof c->buf - c->length);
            if (n < 0 && errno == EAGAIN) return;
            if (n <= 0) return finish(c); /* closed or reset before a full head: nothing to answer */
            touch(c);
            c->length += (size_t)n;
            if ((c->r = answer(c->buf, c->length, &c->scanned))) break;
        }
        c->state = WRITING;
    }
    if (c->state == WRITING) {
        while (c->sent < c->r->length) {
            ssize_t n = write(c->fd, c->r->bytes + c->sent, c->r->length - c->sent);
            if (n < 0 && errno == EAGAIN) return watch(c, EPOLLOUT);
            if (n < 0) return finish(c);
            touch(c);
            c->sent += (size_t)n;
        }
        if (!c->r->drain) return finish(c);
        shutdown(c->fd, SHUT_WR); /* let the client read the answer before the close resets it */
        c->state = DRAINING;
        watch(c, EPOLLIN);
    }
    for (;;) { /* DRAINING */
        ssize_t n = read(c->fd, c->buf, sizeof c->buf);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) return finish(c);
        touch(c);
    }
}

static void accept_all(int listener) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) perror("accept4");
            return; /* out of descriptors too: the listener stays readable, we retry on the next turn */
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = READING;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        touch(c);
        step(c);
    }
}

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    idle_timeout_ms = cfg.idle_timeout_ms;
    int listener = listen_socket(&cfg);
    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, events[256];
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev) < 0) {
        perror("epoll");
        return 1;
    }
    /* a non-blocking listener: accept_all takes every queued connection and must not block on the last */
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    for (;;) {
        now_ms = clock_ms();
        int wait_ms = oldest ? (int)(oldest->deadline_ms > now_ms ? oldest->deadline_ms - now_ms : 0) : -1;
        int n = epoll_wait(epfd, events, 256, wait_ms);
        now_ms = clock_ms();
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr) step(events[i].data.ptr);
            else accept_all(listener);
        }
        while (oldest && oldest->deadline_ms <= now_ms) finish(oldest); /* idle too long */
    }
}
