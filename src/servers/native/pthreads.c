/* native-pthreads: a kernel thread per connection (NPTL), the paper's "NPTL" row.
 * The main thread accepts; for each connection it starts a detached thread with a small stack that reads the
 * request head (blocking reads, each bounded by the idle timeout), writes the one response and closes. */
#define _GNU_SOURCE
#include "common.h"
#include "blocking.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int idle_timeout_ms;

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    serve_blocking(fd, idle_timeout_ms);
    close(fd);
    return NULL;
}

/* A detached thread for the connection; when none can be made, the connection is closed. */
static void handoff(int fd, void *attr) {
    pthread_t thread;
    int err = pthread_create(&thread, attr, serve, (void *)(intptr_t)fd);
    if (err) {
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        close(fd);
    }
}

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    idle_timeout_ms = cfg.idle_timeout_ms;
    int listener = listen_socket(&cfg);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024); /* the 8 KiB head buffer and a little: 1000 threads stay cheap */
    struct acceptor a = { .name = "accept", .handoff = handoff, .ctx = &attr };
    accept_loop(listener, &a);
}
