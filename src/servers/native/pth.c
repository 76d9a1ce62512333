/* native-pth: a GNU Pth user-space thread per connection, the paper's "Pth" row.
 * Pth threads are cooperative and all run in one kernel thread: the main thread blocks in pth_accept, which
 * hands the CPU to the scheduler; each connection gets a thread that reads the request head with pth_read_ev
 * (each read bounded by a timeout event, the idle timeout), writes the one response and closes.
 * Pth's scheduler waits with select(), so it cannot watch descriptors above FD_SETSIZE (1024). */
#include "common.h"
#include "blocking.h"
#include <errno.h>
#include <pth.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int idle_timeout_ms;

/* pth_read_ev or pth_write_ev bounded by the idle timeout; -1 with errno ETIMEDOUT when it fired. */
static ssize_t io(int writing, int fd, void *buf, size_t n) {
    pth_event_t timeout = pth_event(PTH_EVENT_TIME, pth_timeout(idle_timeout_ms / 1000, (idle_timeout_ms % 1000) * 1000));
    ssize_t done = writing ? pth_write_ev(fd, buf, n, timeout) : pth_read_ev(fd, buf, n, timeout);
    if (pth_event_status(timeout) == PTH_STATUS_OCCURRED) {
        done = -1;
        errno = ETIMEDOUT;
    }
    pth_event_free(timeout, PTH_FREE_THIS);
    return done;
}

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[HEAD_BUF_BYTES];
    size_t length = 0, scanned = 0;
    const struct response *r = NULL;
    while (!r) {
        ssize_t n = io(0, fd, buf + length, sizeof buf - length);
        if (n <= 0) break; /* closed, reset or idle too long: nothing to answer */
        length += (size_t)n;
        r = answer(buf, length, &scanned);
    }
    if (r && io(1, fd, (void *)r->bytes, r->length) == (ssize_t)r->length && r->drain) {
        shutdown(fd, SHUT_WR); /* let the client read the answer before the close resets it */
        while (io(0, fd, buf, sizeof buf) > 0) continue;
    }
    close(fd);
    return NULL;
}

static int accept_one(int listener) {
    return pth_accept(listener, NULL, NULL);
}

static void nap(void) {
    pth_nap(pth_time(0, 10000));
}

/* A Pth thread for the connection; one past FD_SETSIZE (select's limit), or none made, is closed instead. */
static void handoff(int fd, void *attr) {
    if (fd >= FD_SETSIZE || !pth_spawn(attr, serve, (void *)(intptr_t)fd)) {
        if (fd >= FD_SETSIZE) fprintf(stderr, "pth: descriptor %d is past FD_SETSIZE, closing it\n", fd);
        else perror("pth_spawn");
        close(fd);
    }
}

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    idle_timeout_ms = cfg.idle_timeout_ms;
    int listener = listen_socket(&cfg);
    if (!pth_init()) {
        perror("pth_init");
        return 1;
    }
    pth_attr_t attr = pth_attr_new();
    pth_attr_set(attr, PTH_ATTR_JOINABLE, FALSE);
    pth_attr_set(attr, PTH_ATTR_STACK_SIZE, 64 * 1024); /* the 8 KiB head buffer and a little */
    struct acceptor a = { .name = "pth_accept", .accept_one = accept_one, .nap = nap, .handoff = handoff, .ctx = attr };
    accept_loop(listener, &a);
}
