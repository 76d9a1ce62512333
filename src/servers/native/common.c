/* The code every native toy server shares; see common.h. Mirrors src/servers/page.ts and src/servers/request.ts
 * byte for byte: test/native.test.ts compares the answers with buildResponses(). */
#define _GNU_SOURCE
#include "common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PAGE_HEAD "<!DOCTYPE html>\n<html><head><title>Are events fast?</title></head>\n<body><p>"
#define PAGE_TAIL "</p></body></html>\n"
#define FILLER "This page is served by eventbench, after Kerneis and Chroboczek (2009). "
#define MIN_PAGE_BYTES ((long)(sizeof PAGE_HEAD - 1 + sizeof PAGE_TAIL - 1))
#define MAX_PAGE_BYTES (16L * 1024 * 1024)

static struct response page_get, page_head, r400, r404, r405, r431;

static void die(const char *what, const char *value, const char *limit) {
    fprintf(stderr, "%s: got \"%s\", %s\n", what, value, limit);
    exit(2);
}

static long number(const char *flag, const char *raw, long min, long max) {
    char *end;
    errno = 0;
    long v = raw ? strtol(raw, &end, 10) : 0;
    if (!raw || errno || *raw == '\0' || *end != '\0' || v < min || v > max) {
        char limit[96];
        snprintf(limit, sizeof limit, "expected a whole number from %ld to %ld", min, max);
        die(flag, raw ? raw : "(nothing)", limit);
    }
    return v;
}

/* "HTTP/1.0 ..." head as page.ts's head(); returns a malloc'ed string of `*length` bytes. */
static char *head(int status, const char *reason, const char *type, long body_bytes, const char *extra,
                  size_t *length) {
    char *s;
    int n = asprintf(&s, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %ld\r\n%sConnection: close\r\n\r\n",
                     status, reason, type, body_bytes, extra);
    if (n < 0) exit(1);
    *length = (size_t)n;
    return s;
}

static struct response error_response(int status, const char *reason, const char *extra) {
    char body[64];
    size_t head_length;
    int body_length = snprintf(body, sizeof body, "%d %s\n", status, reason);
    char *h = head(status, reason, "text/plain", body_length, extra, &head_length);
    char *all = malloc(head_length + (size_t)body_length);
    memcpy(all, h, head_length);
    memcpy(all + head_length, body, (size_t)body_length);
    free(h);
    return (struct response){ all, head_length + (size_t)body_length, 0 };
}

static void build_responses(long page_bytes) {
    size_t head_length, room = (size_t)(page_bytes - MIN_PAGE_BYTES), filler = sizeof FILLER - 1;
    char *h = head(200, "OK", "text/html", page_bytes, "", &head_length);
    char *all = malloc(head_length + (size_t)page_bytes), *p = all + head_length;
    memcpy(all, h, head_length);
    memcpy(p, PAGE_HEAD, sizeof PAGE_HEAD - 1);
    p += sizeof PAGE_HEAD - 1;
    for (size_t i = 0; i < room; i++) *p++ = FILLER[i % filler];
    memcpy(p, PAGE_TAIL, sizeof PAGE_TAIL - 1);
    free(h);
    page_get = (struct response){ all, head_length + (size_t)page_bytes, 0 };
    page_head = (struct response){ all, head_length, 0 };
    r400 = error_response(400, "Bad Request", "");
    r404 = error_response(404, "Not Found", "");
    r405 = error_response(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
    r431 = error_response(431, "Request Header Fields Too Large", "");
    r431.drain = 1;
}

void setup(int argc, char **argv, struct config *cfg) {
    cfg->host = "127.0.0.1";
    cfg->port = 0;
    cfg->backlog = 511;
    cfg->page_bytes = 305;
    cfg->idle_timeout_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) die(flag, "(nothing)", "every flag needs a value");
        i++;
        if (!strcmp(flag, "--host")) cfg->host = value;
        else if (!strcmp(flag, "--port")) cfg->port = (int)number(flag, value, 0, 65535);
        else if (!strcmp(flag, "--backlog")) cfg->backlog = (int)number(flag, value, 1, 1 << 20);
        else if (!strcmp(flag, "--page-bytes")) cfg->page_bytes = number(flag, value, MIN_PAGE_BYTES, MAX_PAGE_BYTES);
        else if (!strcmp(flag, "--idle-timeout-ms")) cfg->idle_timeout_ms = (int)number(flag, value, 1, 86400000);
        else die("flag", flag, "expected --host, --port, --backlog, --page-bytes or --idle-timeout-ms");
    }
    build_responses(cfg->page_bytes);
    /* 1000 clients need more than the usual 1024 descriptors. */
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    signal(SIGPIPE, SIG_IGN);        /* a client that resets must not kill the server */
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* and neither may the server outlive its launcher */
}

int listen_socket(const struct config *cfg) {
    struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    if (getaddrinfo(cfg->host, port, &hints, &ai)) die("--host", cfg->host, "expected an address such as 127.0.0.1, ::1 or localhost");
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, cfg->backlog) < 0) {
        fprintf(stderr, "cannot listen on %s port %d: %s\n", cfg->host, cfg->port, strerror(errno));
        exit(1);
    }
    freeaddrinfo(ai);
    struct sockaddr_storage bound;
    socklen_t size = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &size);
    int bound_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                       : ((struct sockaddr_in *)&bound)->sin_port);
    printf("port %d\n", bound_port); /* the launcher waits for this line: port 0 means the kernel chose */
    fflush(stdout);
    return fd;
}

long head_end(const char *buf, size_t length, size_t from) {
    for (size_t i = from > 1 ? from : 1; i < length; i++) {
        if (buf[i] != '\n') continue;
        if (buf[i - 1] == '\n') return (long)i + 1;
        if (buf[i - 1] == '\r' && i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') return (long)i + 1;
    }
    return -1;
}

static int is_token(const char *s, size_t n) {
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c && strchr(extra, c))))
            return 0;
    }
    return 1;
}

/* request.ts's respond(): only the request line matters. */
static const struct response *respond(const char *line, size_t n) {
    const char *lf = memchr(line, '\n', n);
    if (lf) n = (size_t)(lf - line);
    if (n > 0 && line[n - 1] == '\r') n--;
    const char *sp1 = memchr(line, ' ', n);
    if (!sp1) return &r400;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(line + n - sp1 - 1));
    if (!sp2 || memchr(sp2 + 1, ' ', (size_t)(line + n - sp2 - 1))) return &r400;
    const char *method = line, *target = sp1 + 1, *version = sp2 + 1;
    size_t method_n = (size_t)(sp1 - line), target_n = (size_t)(sp2 - target), version_n = (size_t)(line + n - version);
    if (!is_token(method, method_n) || target_n == 0 || target[0] != '/') return &r400;
    if (version_n != 8 || memcmp(version, "HTTP/", 5) || version[5] < '0' || version[5] > '9' || version[6] != '.' ||
        version[7] < '0' || version[7] > '9')
        return &r400;
    int get = method_n == 3 && !memcmp(method, "GET", 3), head_only = method_n == 4 && !memcmp(method, "HEAD", 4);
    if (!get && !head_only) return &r405;
    const char *q = memchr(target, '?', target_n);
    size_t path_n = q ? (size_t)(q - target) : target_n;
    if (!(path_n == 1 || (path_n == 11 && !memcmp(target, "/index.html", 11)))) return &r404;
    return head_only ? &page_head : &page_get;
}

const struct response *answer(const char *buf, size_t length, size_t *scanned) {
    long end = head_end(buf, length, *scanned);
    *scanned = length;
    if (end >= 0) return end > MAX_HEAD_BYTES ? &r431 : respond(buf, (size_t)end);
    return length > MAX_HEAD_BYTES ? &r431 : NULL;
}
