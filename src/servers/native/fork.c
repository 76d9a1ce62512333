/* native-fork: the paper's heaviest toy server, a Unix process per connection.
 * The main process accepts; for each connection it forks a child that reads the request head (blocking reads,
 * each bounded by the idle timeout), writes the one response, closes and exits. Children are reaped by the
 * kernel (SIGCHLD ignored), so none is left a zombie. SIGTERM to the main process ends its children too. */
#define _GNU_SOURCE
#include "common.h"
#include "blocking.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>

static int listener;
static int idle_timeout_ms;

/* A child for the connection: it serves it and exits; the parent keeps only the listening socket. */
static void handoff(int fd, void *ctx) {
    (void)ctx;
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        close(listener);
        serve_blocking(fd, idle_timeout_ms);
        close(fd);
        _exit(0);
    }
    if (pid < 0) perror("fork");
    close(fd);
}

static void stop(int sig) {
    (void)sig;
    signal(SIGTERM, SIG_IGN);
    kill(0, SIGTERM); /* every child is in our process group */
    _exit(0);
}

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    setpgid(0, 0); /* a group of our own, so that stop() reaches our children and nobody else */
    idle_timeout_ms = cfg.idle_timeout_ms;
    listener = listen_socket(&cfg);
    signal(SIGCHLD, SIG_IGN);
    signal(SIGTERM, stop);
    struct acceptor a = { .name = "accept", .handoff = handoff };
    accept_loop(listener, &a);
}
