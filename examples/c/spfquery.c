/*
 * spfquery: an SPF check from C over libspfgate, resolving through libresolv.
 *
 *   spfquery --ip IP --mail-from ADDR --helo NAME [--server IP[:PORT]]
 *            [--timeout SECONDS] [--format text|json]
 *
 * Every lookup of a batch is sent before any answer is awaited: each query is
 * built by res_nmkquery() and sent from its own nonblocking UDP socket, and
 * poll() waits for all of them (resending unanswered ones every second). A
 * truncated answer is asked again over TCP. Answers go to the library as the
 * raw response messages (spfgate_evaluator_answer_wire); a lookup without an
 * answer in time is a temporary failure.
 *
 * The server is --server, or the first IPv4 nameserver of /etc/resolv.conf.
 * The output is `spfgate check`'s: the text lines, or with --format json the
 * library's outcome JSON.
 */
#define _DEFAULT_SOURCE

#include <spfgate.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Largest UDP and TCP responses read. */
#define UDP_MAX 4096
#define TCP_MAX 65535

struct pending {
    uint32_t id;
    uint16_t qtype;
    char name[256];
    uint8_t query[512];
    int query_len;
    int fd;
    int done;
};

static struct sockaddr_storage server;
static socklen_t server_len;

static void usage(void) {
    fprintf(stderr, "usage: spfquery --ip IP --mail-from ADDR --helo NAME [--server IP[:PORT]]\n"
                    "                [--timeout SECONDS] [--format text|json]\n");
    exit(2);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Parses IP[:PORT], [IPv6]:PORT or a bare IPv6 address. */
static int parse_server(const char *arg) {
    char host[64];
    unsigned port = 53;
    const char *colon = strrchr(arg, ':');
    memset(&server, 0, sizeof server);
    if (arg[0] == '[') {
        const char *end = strchr(arg, ']');
        if (end == NULL || (size_t)(end - arg - 1) >= sizeof host) {
            return 0;
        }
        memcpy(host, arg + 1, (size_t)(end - arg - 1));
        host[end - arg - 1] = 0;
        if (end[1] == ':') {
            port = (unsigned)atoi(end + 2);
        } else if (end[1] != 0) {
            return 0;
        }
    } else if (colon != NULL && strchr(arg, ':') == colon) {
        if ((size_t)(colon - arg) >= sizeof host) {
            return 0;
        }
        memcpy(host, arg, (size_t)(colon - arg));
        host[colon - arg] = 0;
        port = (unsigned)atoi(colon + 1);
    } else {
        if (strlen(arg) >= sizeof host) {
            return 0;
        }
        strcpy(host, arg);
    }
    if (port == 0 || port > 65535) {
        return 0;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&server;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&server;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        server_len = sizeof *v4;
        return 1;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        server_len = sizeof *v6;
        return 1;
    }
    return 0;
}

/* Sends the query over TCP and reads the response; its length, or -1. */
static int ask_tcp(const struct pending *p, uint8_t *out, int timeout_ms) {
    int fd = socket(server.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    uint8_t framed[2 + sizeof p->query];
    framed[0] = (uint8_t)(p->query_len >> 8);
    framed[1] = (uint8_t)p->query_len;
    memcpy(framed + 2, p->query, (size_t)p->query_len);
    int len = -1;
    if (connect(fd, (struct sockaddr *)&server, server_len) == 0 &&
        send(fd, framed, (size_t)p->query_len + 2, 0) == p->query_len + 2) {
        uint8_t head[2];
        size_t got = 0;
        while (got < 2) {
            ssize_t n = recv(fd, head + got, 2 - got, 0);
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
        }
        if (got == 2) {
            size_t want = ((size_t)head[0] << 8) | head[1];
            got = 0;
            while (got < want) {
                ssize_t n = recv(fd, out + got, want - got, 0);
                if (n <= 0) {
                    break;
                }
                got += (size_t)n;
            }
            if (got == want) {
                len = (int)want;
            }
        }
    }
    close(fd);
    return len;
}

/* Hands a response to the evaluator; over TCP again when it is truncated. */
static void deliver(spfgate_evaluator *ev, struct pending *p, const uint8_t *msg, size_t len,
                    int timeout_ms) {
    spfgate_status st = spfgate_evaluator_answer_wire(ev, p->id, msg, len);
    if (st == SPFGATE_TRUNCATED) {
        static uint8_t tcp[TCP_MAX];
        int n = ask_tcp(p, tcp, timeout_ms);
        st = n > 0 ? spfgate_evaluator_answer_wire(ev, p->id, tcp, (size_t)n)
                   : spfgate_evaluator_answer_tempfail(ev, p->id, (const uint8_t *)"TCP retry failed", 16);
    }
    if (st != SPFGATE_OK) {
        char m[128];
        size_t w;
        spfgate_status_message(st, (uint8_t *)m, sizeof m, &w);
        fprintf(stderr, "spfquery: answering %s: %s\n", p->name, m);
        spfgate_evaluator_answer_tempfail(ev, p->id, (const uint8_t *)"unusable response", 17);
    }
    p->done = 1;
}

/* Resolves one batch: every query sent first, then the answers awaited. */
static void resolve_batch(res_state res, spfgate_evaluator *ev, struct pending *batch, size_t n,
                          int timeout_ms) {
    for (size_t i = 0; i < n; i++) {
        struct pending *p = &batch[i];
        p->done = 0;
        p->fd = -1;
        p->query_len = res_nmkquery(res, ns_o_query, p->name, ns_c_in, p->qtype, NULL, 0, NULL,
                                    p->query, sizeof p->query);
        if (p->query_len < 0) {
            spfgate_evaluator_answer_tempfail(ev, p->id, (const uint8_t *)"cannot encode query", 19);
            p->done = 1;
            continue;
        }
        p->fd = socket(server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&server, server_len) != 0 ||
            send(p->fd, p->query, (size_t)p->query_len, 0) != p->query_len) {
            spfgate_evaluator_answer_tempfail(ev, p->id, (const uint8_t *)"cannot send query", 17);
            p->done = 1;
        }
    }
    double deadline = now_ms() + timeout_ms, resend = now_ms() + 1000;
    struct pollfd fds[64];
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; i < n; i++) {
            if (!batch[i].done) {
                fds[open].fd = batch[i].fd;
                fds[open].events = POLLIN;
                fds[open].revents = 0;
                open++;
            }
        }
        double now = now_ms();
        if (open == 0 || now >= deadline) {
            break;
        }
        if (now >= resend) {
            for (size_t i = 0; i < n; i++) {
                if (!batch[i].done) {
                    (void)send(batch[i].fd, batch[i].query, (size_t)batch[i].query_len, 0);
                }
            }
            resend = now + 1000;
        }
        double wait = (deadline < resend ? deadline : resend) - now;
        int r = poll(fds, open, (int)wait + 1);
        if (r < 0 && errno != EINTR) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            struct pending *p = &batch[i];
            if (p->done) {
                continue;
            }
            uint8_t msg[UDP_MAX];
            ssize_t got = recv(p->fd, msg, sizeof msg, 0);
            /* Only the reply to this query: same id (the socket is connected, so
             * it comes from the server). */
            if (got >= 12 && msg[0] == p->query[0] && msg[1] == p->query[1]) {
                deliver(ev, p, msg, (size_t)got, timeout_ms);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!batch[i].done) {
            spfgate_evaluator_answer_tempfail(ev, batch[i].id, (const uint8_t *)"timeout", 7);
        }
        if (batch[i].fd >= 0) {
            close(batch[i].fd);
        }
    }
}

static void print_str(const char *label, spfgate_status st, spfgate_str s) {
    if (st == SPFGATE_OK) {
        printf("%s%.*s\n", label, (int)s.len, (const char *)s.data);
    }
}

static int fail(const char *what, spfgate_status st) {
    char m[128];
    size_t w;
    spfgate_status_message(st, (uint8_t *)m, sizeof m, &w);
    fprintf(stderr, "spfquery: %s: %s\n", what, m);
    return 2;
}

int main(int argc, char **argv) {
    const char *ip = NULL, *mail_from = NULL, *helo = NULL, *server_arg = NULL;
    int json = 0;
    int timeout_ms = 5000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        size_t key = strcspn(a, "=");
        if (strncmp(a, "--", 2) != 0) {
            usage();
        }
        if (a[key] == '=') {
            v = a + key + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            usage();
        }
        if (strncmp(a, "--ip", key) == 0 && key == 4) {
            ip = v;
        } else if (strncmp(a, "--mail-from", key) == 0 && key == 11) {
            mail_from = v;
        } else if (strncmp(a, "--helo", key) == 0 && key == 6) {
            helo = v;
        } else if (strncmp(a, "--server", key) == 0 && key == 8) {
            server_arg = v;
        } else if (strncmp(a, "--timeout", key) == 0 && key == 9) {
            timeout_ms = (int)(atof(v) * 1000);
        } else if (strncmp(a, "--format", key) == 0 && key == 8) {
            if (strcmp(v, "json") == 0) {
                json = 1;
            } else if (strcmp(v, "text") != 0) {
                usage();
            }
        } else {
            usage();
        }
    }
    if (ip == NULL || mail_from == NULL || helo == NULL || timeout_ms <= 0) {
        usage();
    }

    struct __res_state res;
    memset(&res, 0, sizeof res);
    if (res_ninit(&res) != 0) {
        fprintf(stderr, "spfquery: res_ninit failed\n");
        return 2;
    }
    if (server_arg != NULL) {
        if (!parse_server(server_arg)) {
            fprintf(stderr, "spfquery: --server: not IP[:PORT]: %s\n", server_arg);
            res_nclose(&res);
            return 2;
        }
    } else if (res.nscount > 0 && res.nsaddr_list[0].sin_family == AF_INET) {
        memcpy(&server, &res.nsaddr_list[0], sizeof res.nsaddr_list[0]);
        server_len = sizeof res.nsaddr_list[0];
    } else {
        parse_server("127.0.0.1:53");
    }

    spfgate_request *req = NULL;
    spfgate_evaluator *ev = NULL;
    spfgate_status st;
    int code = 0;
    if ((st = spfgate_request_new(&req)) != SPFGATE_OK ||
        (st = spfgate_request_set_ip_text(req, (const uint8_t *)ip, strlen(ip))) != SPFGATE_OK ||
        (st = spfgate_request_set_mail_from(req, (const uint8_t *)mail_from, strlen(mail_from))) != SPFGATE_OK ||
        (st = spfgate_request_set_helo(req, (const uint8_t *)helo, strlen(helo))) != SPFGATE_OK ||
        (st = spfgate_request_set_now(req, (uint64_t)time(NULL))) != SPFGATE_OK ||
        (st = spfgate_evaluator_new(req, NULL, &ev)) != SPFGATE_OK) {
        code = fail("bad request", st);
        goto out;
    }
    for (;;) {
        spfgate_step step;
        size_t count;
        if ((st = spfgate_evaluator_poll(ev, &step, &count)) != SPFGATE_OK) {
            code = fail("poll", st);
            goto out;
        }
        if (step == SPFGATE_STEP_DONE) {
            break;
        }
        /* Every lookup is answered (or timed out) before the next poll, so
         * SPFGATE_STEP_PENDING cannot come up here. */
        struct pending batch[64];
        size_t n = 0;
        for (size_t i = 0; i < count && n < 64; i++) {
            spfgate_lookup l;
            if (spfgate_evaluator_lookup(ev, i, &l) != SPFGATE_OK || l.name_len >= sizeof batch[n].name) {
                continue;
            }
            batch[n].id = l.id;
            batch[n].qtype = l.qtype;
            memcpy(batch[n].name, l.name, l.name_len + 1);
            n++;
        }
        resolve_batch(&res, ev, batch, n, timeout_ms);
    }

    if (json) {
        spfgate_str s;
        if ((st = spfgate_evaluator_outcome_json(ev, &s)) != SPFGATE_OK) {
            code = fail("outcome JSON", st);
            goto out;
        }
        printf("%.*s\n", (int)s.len, (const char *)s.data);
    } else {
        spfgate_result result;
        spfgate_counts counts;
        spfgate_str s;
        spfgate_evaluator_result(ev, &result);
        spfgate_evaluator_counts(ev, &counts);
        printf("result: %s\n", spfgate_result_name(result));
        print_str("reason: ", spfgate_evaluator_reason(ev, &s), s);
        print_str("explanation: ", spfgate_evaluator_explanation(ev, &s), s);
        printf("lookups: %u DNS-querying terms, %u void, %u queries in %u round trips\n",
               counts.dns_terms, counts.void_lookups, counts.queries, counts.round_trips);
        size_t events = 0;
        if (spfgate_evaluator_trace_len(ev, &events) == SPFGATE_OK && events > 0) {
            printf("trace:\n");
            for (size_t i = 0; i < events; i++) {
                print_str("  ", spfgate_evaluator_trace_event(ev, i, &s), s);
            }
        }
    }
out:
    spfgate_evaluator_free(ev);
    spfgate_request_free(req);
    res_nclose(&res);
    return code;
}
