/* native-st: a State Threads user-space thread per connection, the paper's "ST" row.
 * Like Pth, ST threads are cooperative and share one kernel thread, but its scheduler keeps timeouts in a heap
 * and can wait with epoll. The main thread blocks in st_accept; each connection gets a thread that reads the
 * request head with st_read (each read bounded by the idle timeout), writes the one response and closes. */
#include "common.h"
#include <errno.h>
#include <st.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static st_utime_t idle_timeout_us;

static void *serve(void *arg) {
    st_netfd_t client = arg;
    char buf[HEAD_BUF_BYTES];
    size_t length = 0, scanned = 0;
    const struct response *r = NULL;
    while (!r) {
        ssize_t n = st_read(client, buf + length, sizeof buf - length, idle_timeout_us);
        if (n <= 0) break; /* closed, reset or idle too long (ETIME): nothing to answer */
        length += (size_t)n;
        r = answer(buf, length, &scanned);
    }
    if (r && st_write(client, r->bytes, r->length, idle_timeout_us) == (ssize_t)r->length && r->drain) {
        shutdown(st_netfd_fileno(client), SHUT_WR); /* let the client read the answer before the close resets it */
        while (st_read(client, buf, sizeof buf, idle_timeout_us) > 0) continue;
    }
    st_netfd_close(client);
    return NULL;
}

int main(int argc, char **argv) {
    struct config cfg;
    setup(argc, argv, &cfg);
    idle_timeout_us = (st_utime_t)cfg.idle_timeout_ms * 1000;
    int listener = listen_socket(&cfg);
    st_set_eventsys(ST_EVENTSYS_ALT); /* epoll where ST was built with it; select (1024 descriptors) otherwise */
    if (st_init() < 0) {
        perror("st_init");
        return 1;
    }
    st_netfd_t server = st_netfd_open_socket(listener);
    if (!server) {
        perror("st_netfd_open_socket");
        return 1;
    }
    for (;;) {
        st_netfd_t client = st_accept(server, NULL, NULL, ST_UTIME_NO_TIMEOUT);
        if (!client) {
            if (errno != EINTR && errno != ECONNABORTED) perror("st_accept");
            if (errno == EMFILE || errno == ENFILE) st_usleep(10000); /* let connections finish */
            continue;
        }
        if (!st_thread_create(serve, client, 0, 64 * 1024)) { /* the 8 KiB head buffer and a little */
            perror("st_thread_create");
            st_netfd_close(client);
        }
    }
}
