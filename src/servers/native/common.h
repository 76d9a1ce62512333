/* Shared by every native toy server: the command line, the page and its responses (the same bytes as
 * src/servers/page.ts), the request-head rules (the same as src/servers/request.ts) and the listening socket.
 * A server only adds its own way of running one connection at a time, many at once. */
#ifndef EVENTBENCH_COMMON_H
#define EVENTBENCH_COMMON_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

#define MAX_HEAD_BYTES 8192
/* One byte more than the limit: a full buffer without a blank line means 431. */
#define HEAD_BUF_BYTES (MAX_HEAD_BYTES + 1)

struct config {
    const char *host;
    int port;
    int backlog;
    long page_bytes;
    int idle_timeout_ms;
};

struct response {
    const char *bytes;
    size_t length;
    /* 431: the client may still be sending; read what it sends before closing, so it sees the answer. */
    int drain;
};

/* Parses --host --port --backlog --page-bytes --idle-timeout-ms, builds the responses, raises the fd limit,
 * ignores SIGPIPE. Exits with a message on bad input. */
void setup(int argc, char **argv, struct config *cfg);

/* A listening TCP socket (blocking), bound and listening; prints "port N" on stdout once it is. */
int listen_socket(const struct config *cfg);

/* Where the head ends (index just past its blank line), or -1; resumes the scan at `from`. */
long head_end(const char *buf, size_t length, size_t from);

/* The answer to the bytes received so far, or NULL while more are needed. `*scanned` remembers where the
 * blank-line scan got to between calls; start it at 0. */
const struct response *answer(const char *buf, size_t length, size_t *scanned);

#ifdef __cplusplus
}
#endif
#endif
