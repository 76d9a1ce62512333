/* The accept loop and the blocking connection of the thread- and process-per-connection servers (blocking.h). */
#include "common.h"
#include "blocking.h"
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void serve_blocking(int fd, int idle_timeout_ms) {
    struct timeval tv = { idle_timeout_ms / 1000, (idle_timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); /* every read and write waits at most this long */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char buf[HEAD_BUF_BYTES];
    size_t length = 0, scanned = 0;
    const struct response *r = NULL;
    while (!r) {
        ssize_t n = read(fd, buf + length, sizeof buf - length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* closed, reset or idle too long: nothing to answer */
        length += (size_t)n;
        r = answer(buf, length, &scanned);
    }
    if (write_all(fd, r->bytes, r->length) == 0 && r->drain) {
        shutdown(fd, SHUT_WR); /* let the client read the answer before the close resets it */
        while (read(fd, buf, sizeof buf) > 0) continue;
    }
}

void accept_loop(int listener, const struct acceptor *a) {
    for (;;) {
        int fd = a->accept_one ? a->accept_one(listener) : accept(listener, NULL, NULL);
        if (fd >= 0) {
            a->handoff(fd, a->ctx);
            continue;
        }
        if (errno != EINTR && errno != ECONNABORTED) perror(a->name);
        if (errno == EMFILE || errno == ENFILE) {
            if (a->nap) a->nap();
            else usleep(10000);
        }
    }
}
