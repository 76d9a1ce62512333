/* What the thread- and process-per-connection servers (fork, pthreads, pth) share besides common.h: the accept loop
 * that hands each connection off, and one connection served on a blocking socket. */
#ifndef EVENTBENCH_BLOCKING_H
#define EVENTBENCH_BLOCKING_H

/* How a thread- or process-per-connection server accepts: `handoff` gets each accepted connection (and `ctx`);
 * `accept_one` and `nap` are its thread library's blocking calls (NULL: accept(2), and usleep of 10 ms). */
struct acceptor {
    const char *name;
    int (*accept_one)(int listener);
    void (*nap)(void);
    void (*handoff)(int fd, void *ctx);
    void *ctx;
};

/* The accept loop they share: hand each connection off; retry a failed accept, after a nap when descriptors ran
 * out, so that connections can finish and free some. Never returns. */
void accept_loop(int listener, const struct acceptor *a);

/* One connection on a blocking socket, start to end but for the close: reads the head (each read waits at most
 * the idle timeout), writes the answer. What the fork child and the pthreads thread run. */
void serve_blocking(int fd, int idle_timeout_ms);

#endif
