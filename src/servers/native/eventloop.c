/* The event loop of native-epoll and native-coro; see eventloop.h. */
#define _GNU_SOURCE
#include "eventloop.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int epfd, idle_timeout_ms;
static struct loop_conn *oldest, *newest;
static long long now_ms;

void loop_idle_timeout(int ms) {
    idle_timeout_ms = ms;
    loop_clock();
}

void loop_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ms = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int loop_wait_ms(void) {
    return oldest ? (int)(oldest->deadline_ms > now_ms ? oldest->deadline_ms - now_ms : 0) : -1;
}

struct loop_conn *loop_expired(void) {
    return oldest && oldest->deadline_ms <= now_ms ? oldest : NULL;
}

void loop_forget(struct loop_conn *c) {
    if (!c->prev && oldest != c) return; /* not on the list */
    if (c->prev) c->prev->next = c->next; else oldest = c->next;
    if (c->next) c->next->prev = c->prev; else newest = c->prev;
    c->prev = c->next = NULL;
}

void loop_touch(struct loop_conn *c) {
    loop_forget(c);
    c->deadline_ms = now_ms + idle_timeout_ms;
    c->prev = newest;
    if (newest) newest->next = c; else oldest = c;
    newest = c;
}

void loop_open(struct loop_conn *c, int fd) {
    c->fd = fd;
    c->events = EPOLLIN;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    loop_touch(c);
}

void loop_watch(struct loop_conn *c, unsigned events) {
    if (c->events == events) return;
    c->events = events;
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void loop_close(struct loop_conn *c) {
    loop_forget(c);
    close(c->fd);
}

static void accept_all(int listener, const struct loop_server *server) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) perror("accept4");
            return; /* out of descriptors too: the listener stays readable, we retry on the next turn */
        }
        server->accepted(fd);
    }
}

void loop_run(int listener, int timeout_ms, const struct loop_server *server) {
    loop_idle_timeout(timeout_ms);
    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, events[256];
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev) < 0) {
        perror("epoll");
        exit(1);
    }
    /* a non-blocking listener: accept_all takes every queued connection and must not block on the last */
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    for (;;) {
        loop_clock();
        int n = epoll_wait(epfd, events, 256, loop_wait_ms());
        loop_clock();
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr) server->ready(events[i].data.ptr);
            else accept_all(listener, server);
        }
        for (struct loop_conn *c; (c = loop_expired());) server->expired(c); /* idle too long */
    }
}
