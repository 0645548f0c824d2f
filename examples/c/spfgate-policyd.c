/*
 * spfgate-policyd: a Postfix SMTPD access policy service over libspfgate.
 *
 *   spfgate-policyd --listen HOST:PORT|PATH --policy FILE [--server IP[:PORT]]
 *                   [--timeout SECONDS] [--receiver NAME] [--max-connections N]
 *                   [--syslog]
 *
 * Postfix sends one request per recipient: attribute lines `name=value`
 * ended by an empty line; the reply is `action=...` and an empty line
 * (SMTPD_POLICY_README). Every decision (accept, reject, defer, the SMTP
 * reply, Received-SPF) comes from libspfgate; this program only speaks the
 * protocol, resolves the lookups the library asks for and maps the verdict
 * onto a Postfix action. See README.md in this directory.
 *
 * Structure: one thread per client connection (Postfix keeps one
 * connection per smtpd process), a signal thread (SIGHUP reloads the
 * policy, SIGTERM/SIGINT stop), and the main thread accepting. Every
 * blocking wait also watches a stop pipe, so a stop is never held up by
 * an idle client or a slow DNS server.
 */
#define _DEFAULT_SOURCE 1
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <spfgate.h>

/* ---- Limits (documented in README.md) -------------------------------- */

/* Longest attribute line, without its newline. Postfix's longest
 * attributes (certificate subjects, SASL names) stay far below this. */
#define MAX_LINE 4096
/* Largest request (all its lines) and most attributes in one request. */
#define MAX_REQUEST (64 * 1024)
#define MAX_ATTRS 256
/* Bytes of an unfinished oversized request discarded before the
 * connection is answered and closed. */
#define MAX_DISCARD (1024 * 1024)
/* A connection silent this long (longer than Postfix's default
 * smtpd_policy_service_max_idle of 300 s) is closed. */
#define IDLE_TIMEOUT_MS (600 * 1000)
/* Largest policy file read. */
#define MAX_POLICY_FILE (64 * 1024 * 1024)
/* Lookups of one batch resolved at once (the library's batches are small;
 * a larger batch is resolved in chunks). */
#define MAX_BATCH 64
#define MAX_SERVERS 3
#define DEFAULT_TIMEOUT 5.0
#define DEFAULT_MAX_CONNECTIONS 256
#define EDNS_UDP_SIZE 1232

/* The reply to a request that is malformed, oversized or binary, and to
 * one the service cannot decide (out of memory, a library error). Postfix
 * takes it as "defer if the message would otherwise be accepted". */
#define BROKEN_REPLY "DEFER_IF_PERMIT 4.3.0 policy service: malformed request"
#define FAILED_REPLY "DEFER_IF_PERMIT 4.3.0 policy service: temporary failure"

/* ---- Global state ----------------------------------------------------- */

struct config {
    const char *listen;
    const char *policy_path;
    struct sockaddr_storage servers[MAX_SERVERS];
    socklen_t server_lens[MAX_SERVERS];
    int nservers;
    double timeout;
    char receiver[256];
    int max_connections;
    bool use_syslog;
};

static struct config cfg;

/* The shared policy: immutable, reference-counted so a reload can swap it
 * while decisions still use the old one. `current` holds one reference. */
struct policy_ref {
    spfgate_policy *policy;
    unsigned refs;
};
static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct policy_ref *current_policy;

/* Connection accounting, so accept waits below the limit and a stop waits
 * for every connection thread. */
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cond = PTHREAD_COND_INITIALIZER;
static int active_connections;

/* Written once on stop; its read end stays readable from then on. */
static int stop_pipe[2] = {-1, -1};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Logging ---------------------------------------------------------- */

static void logmsg(int priority, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (cfg.use_syslog) {
        syslog(priority, "%s", line);
        return;
    }
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "spfgate-policyd: %s\n", line);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

/* Copies `s` into `out` for a log line: printable ASCII kept, anything else
 * (control bytes, newlines, non-ASCII) and the backslash as \xNN, so no input
 * can forge a log line. */
static void sanitize(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}

/* Copies a value for a reply line. The library hands out printable ASCII;
 * should anything else appear, it becomes `?`, so the protocol's line
 * structure holds whatever the value is. */
static void protocol_text(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[o] = '\0';
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static bool stopping(void)
{
    struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* ---- Policy loading and sharing -------------------------------------- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_POLICY_FILE) {
                snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_POLICY_FILE);
                free(buf);
                fclose(f);
                return NULL;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* TOML when the file name ends in .toml, JSON otherwise. */
static bool is_toml(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".toml") == 0;
}

static spfgate_policy *load_policy(const char *path, char *err, size_t errlen);

static void policy_release(struct policy_ref *ref)
{
    pthread_mutex_lock(&policy_lock);
    bool last = --ref->refs == 0;
    pthread_mutex_unlock(&policy_lock);
    if (last) {
        spfgate_policy_free(ref->policy);
        free(ref);
    }
}

static struct policy_ref *policy_acquire(void)
{
    pthread_mutex_lock(&policy_lock);
    struct policy_ref *ref = current_policy;
    ref->refs++;
    pthread_mutex_unlock(&policy_lock);
    return ref;
}

/* Loads the policy file and, only if it is valid, makes it current. */
static bool policy_reload(void)
{
    char err[1024];
    spfgate_policy *policy = load_policy(cfg.policy_path, err, sizeof err);
    if (!policy) {
        logmsg(LOG_ERR, "policy %s not loaded%s: %s", cfg.policy_path,
               current_policy ? ", keeping the previous policy" : "", err);
        return false;
    }
    struct policy_ref *ref = malloc(sizeof *ref);
    if (!ref) {
        spfgate_policy_free(policy);
        logmsg(LOG_ERR, "policy %s not loaded, keeping the previous policy: out of memory",
               cfg.policy_path);
        return false;
    }
    ref->policy = policy;
    ref->refs = 1;
    pthread_mutex_lock(&policy_lock);
    struct policy_ref *old = current_policy;
    current_policy = ref;
    pthread_mutex_unlock(&policy_lock);
    if (old) {
        policy_release(old);
    }
    logmsg(LOG_INFO, "policy %s loaded", cfg.policy_path);
    return true;
}

/* ---- DNS: every lookup of a batch in flight at once ------------------- */

enum lookup_state { LK_WAITING, LK_ANSWERED, LK_TCP, LK_FAILED };

struct lookup_io {
    /* From the library. */
    uint32_t id;
    const char *name;
    uint16_t qtype;
    /* Ours. */
    unsigned char query[NS_PACKETSZ + 16];
    int qlen;
    int fd;
    enum lookup_state state;
    unsigned char *answer;
    size_t alen;
};

/* Appends an EDNS0 OPT record (RFC 6891) so answers up to EDNS_UDP_SIZE
 * come over UDP. */
static int add_edns(unsigned char *q, int len, size_t cap)
{
    static const unsigned char opt[11] = {0, 0, 41, EDNS_UDP_SIZE >> 8, EDNS_UDP_SIZE & 0xff,
                                          0, 0, 0, 0, 0, 0};
    if ((size_t)len + sizeof opt > cap) {
        return len;
    }
    memcpy(q + len, opt, sizeof opt);
    unsigned arcount = ((unsigned)q[10] << 8 | q[11]) + 1;
    q[10] = (unsigned char)(arcount >> 8);
    q[11] = (unsigned char)arcount;
    return len + (int)sizeof opt;
}

static int udp_socket_to(int server)
{
    const struct sockaddr_storage *sa = &cfg.servers[server];
    int fd = socket(sa->ss_family, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, (const struct sockaddr *)sa, cfg.server_lens[server]) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether `msg` is the reply to `lk`'s query: same id, QR set, and the
 * same question section bytes (the library checks the question again). */
static bool is_reply(const struct lookup_io *lk, const unsigned char *msg, size_t len)
{
    if (len < NS_HFIXEDSZ || msg[0] != lk->query[0] || msg[1] != lk->query[1] ||
        !(msg[2] & 0x80)) {
        return false;
    }
    size_t qend = NS_HFIXEDSZ;
    while (qend < (size_t)lk->qlen && lk->query[qend] != 0) {
        qend += (size_t)lk->query[qend] + 1;
    }
    qend += 5; /* root label, type, class */
    if (qend > len || qend > (size_t)lk->qlen) {
        return false;
    }
    for (size_t i = NS_HFIXEDSZ; i < qend; i++) {
        unsigned char a = msg[i], b = lk->query[i];
        if (a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + 32);
        if (a != b) {
            return false;
        }
    }
    return true;
}

/* Waits for `fd` to become ready for `events` before `deadline` (ms) or a
 * stop; returns >0 when ready. */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stop_pipe[0], .events = POLLIN}};
        int r = poll(p, 2, (int)left + 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 || p[1].revents) {
            return -1;
        }
        if (r > 0) {
            return 1;
        }
    }
}

/* Retries a truncated lookup over TCP (RFC 7766), against each server in
 * turn until `deadline`. */
static void resolve_tcp(struct lookup_io *lk, double deadline)
{
    for (int s = 0; s < cfg.nservers && lk->state == LK_TCP; s++) {
        const struct sockaddr_storage *sa = &cfg.servers[s];
        int fd = socket(sa->ss_family, SOCK_STREAM, 0);
        if (fd < 0) {
            break;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        unsigned char *buf = NULL;
        int r = connect(fd, (const struct sockaddr *)sa, cfg.server_lens[s]);
        if (r < 0 && errno != EINPROGRESS) {
            goto next;
        }
        if (wait_fd(fd, POLLOUT, deadline) <= 0) {
            goto next;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            goto next;
        }
        unsigned char out[2 + sizeof lk->query];
        out[0] = (unsigned char)(lk->qlen >> 8);
        out[1] = (unsigned char)lk->qlen;
        memcpy(out + 2, lk->query, (size_t)lk->qlen);
        size_t sent = 0, total = (size_t)lk->qlen + 2;
        while (sent < total) {
            ssize_t w = send(fd, out + sent, total - sent, MSG_NOSIGNAL);
            if (w > 0) {
                sent += (size_t)w;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                goto next;
            } else if (wait_fd(fd, POLLOUT, deadline) <= 0) {
                goto next;
            }
        }
        unsigned char lenbuf[2];
        size_t want = 2, got = 0;
        unsigned char *dst = lenbuf;
        for (int phase = 0; phase < 2;) {
            ssize_t n = recv(fd, dst + got, want - got, 0);
            if (n > 0) {
                got += (size_t)n;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                goto next;
            } else if (wait_fd(fd, POLLIN, deadline) <= 0) {
                goto next;
            }
            if (got == want) {
                if (phase == 0) {
                    want = (size_t)lenbuf[0] << 8 | lenbuf[1];
                    buf = malloc(want ? want : 1);
                    if (!buf || want == 0) {
                        goto next;
                    }
                    dst = buf;
                    got = 0;
                }
                phase++;
            }
        }
        if (is_reply(lk, buf, want)) {
            free(lk->answer);
            lk->answer = buf;
            lk->alen = want;
            lk->state = LK_ANSWERED;
            buf = NULL;
        }
    next:
        free(buf);
        close(fd);
    }
    if (lk->state == LK_TCP) {
        lk->state = LK_FAILED;
    }
}

/* Sends every lookup, then waits for all answers until the timeout. A
 * lookup without an answer by then is LK_FAILED (the library is told it
 * timed out: SPF temperror). The query goes again to the next server
 * after a third of the timeout. */
static void resolve_batch(struct __res_state *res, struct lookup_io *lks, size_t n)
{
    double start = now_ms();
    double deadline = start + cfg.timeout * 1000.0;
    double resend_every = cfg.timeout * 1000.0 / 3.0;
    int attempt = 0;
    unsigned char *buf = malloc(65536);
    struct pollfd *pfds = calloc(n + 1, sizeof *pfds);
    size_t *index = calloc(n, sizeof *index);
    if (!buf || !pfds || !index) {
        for (size_t i = 0; i < n; i++) {
            lks[i].state = LK_FAILED;
        }
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct lookup_io *lk = &lks[i];
        lk->fd = -1;
        lk->answer = NULL;
        lk->state = LK_FAILED;
        lk->qlen = res_nmkquery(res, ns_o_query, lk->name, ns_c_in, lk->qtype, NULL, 0, NULL,
                                lk->query, NS_PACKETSZ);
        if (lk->qlen < NS_HFIXEDSZ) {
            continue;
        }
        lk->qlen = add_edns(lk->query, lk->qlen, sizeof lk->query);
        lk->fd = udp_socket_to(0);
        if (lk->fd >= 0 && send(lk->fd, lk->query, (size_t)lk->qlen, MSG_NOSIGNAL) >= 0) {
            lk->state = LK_WAITING;
        }
    }
    for (;;) {
        size_t np = 0;
        for (size_t i = 0; i < n; i++) {
            if (lks[i].state == LK_WAITING) {
                pfds[np].fd = lks[i].fd;
                pfds[np].events = POLLIN;
                pfds[np].revents = 0;
                index[np++] = i;
            }
        }
        if (np == 0) {
            break;
        }
        double now = now_ms();
        if (now >= deadline) {
            break;
        }
        double next_resend = start + resend_every * (attempt + 1);
        if (now >= next_resend) {
            attempt++;
            int server = attempt % cfg.nservers;
            for (size_t k = 0; k < np; k++) {
                struct lookup_io *lk = &lks[index[k]];
                if (cfg.nservers > 1) {
                    connect(lk->fd, (const struct sockaddr *)&cfg.servers[server],
                            cfg.server_lens[server]);
                }
                send(lk->fd, lk->query, (size_t)lk->qlen, MSG_NOSIGNAL);
            }
            continue;
        }
        double wake = next_resend < deadline ? next_resend : deadline;
        pfds[np].fd = stop_pipe[0];
        pfds[np].events = POLLIN;
        pfds[np].revents = 0;
        int r = poll(pfds, np + 1, (int)(wake - now) + 1);
        if (r < 0 && errno != EINTR) {
            break;
        }
        if (r > 0 && pfds[np].revents) {
            break; /* stopping: the remaining lookups fail */
        }
        for (size_t k = 0; r > 0 && k < np; k++) {
            if (!pfds[k].revents) {
                continue;
            }
            struct lookup_io *lk = &lks[index[k]];
            for (;;) {
                ssize_t got = recv(lk->fd, buf, 65536, 0);
                if (got < 0) {
                    break; /* EAGAIN, or an ICMP error: wait for a resend */
                }
                if (!is_reply(lk, buf, (size_t)got)) {
                    continue;
                }
                if (buf[2] & 0x02) { /* TC: truncated, ask again over TCP */
                    lk->state = LK_TCP;
                    break;
                }
                lk->answer = malloc((size_t)got);
                if (lk->answer) {
                    memcpy(lk->answer, buf, (size_t)got);
                    lk->alen = (size_t)got;
                    lk->state = LK_ANSWERED;
                } else {
                    lk->state = LK_FAILED;
                }
                break;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (lks[i].state == LK_WAITING) {
            lks[i].state = LK_FAILED;
        }
        if (lks[i].fd >= 0) {
            close(lks[i].fd);
            lks[i].fd = -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (lks[i].state == LK_TCP) {
            resolve_tcp(&lks[i], deadline);
        }
    }
out:
    free(buf);
    free(pfds);
    free(index);
}

/* ---- The decision, through libspfgate --------------------------------- */

/* What a request says, as far as the decision needs it. */
struct request {
    char protocol_state[32];
    char instance[128];
    char sender[MAX_LINE];
    char client_address[64];
    char helo_name[MAX_LINE];
    bool has_request, has_sender, has_client;
    bool bad_request_type;
};

/* The verdict, mapped onto Postfix. */
struct outcome {
    char action[MAX_LINE + 64]; /* the reply's value after `action=` */
    char account[256];
    char spf[32];
    char what[16]; /* accept, reject, defer */
    bool prepends;
};

struct conn {
    int fd;
    char peer[128];
    struct __res_state res;
    bool res_ok;
    /* The last message's decision, reused for its further recipients. */
    char cached_key[sizeof(((struct request *)0)->instance) + MAX_LINE + 64];
    bool cached;
    struct outcome cached_outcome;
    /* Reading. */
    char in[16384];
    size_t in_len, in_pos;
};

static void status_text(spfgate_status status, char *out, size_t cap)
{
    size_t written;
    if (spfgate_status_message((uint32_t)status, (uint8_t *)out, cap, &written) != SPFGATE_OK) {
        snprintf(out, cap, "status %u", (unsigned)status);
    }
}

static spfgate_policy *load_policy(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) {
        return NULL;
    }
    spfgate_policy *policy = NULL;
    spfgate_error *error = NULL;
    spfgate_status st = is_toml(path)
                            ? spfgate_policy_from_toml((const uint8_t *)text, len, &policy, &error)
                            : spfgate_policy_from_json((const uint8_t *)text, len, &policy, &error);
    free(text);
    if (st == SPFGATE_OK) {
        return policy;
    }
    spfgate_str msg;
    if (error && spfgate_error_message(error, &msg) == SPFGATE_OK) {
        char clean[1024];
        sanitize((const char *)msg.data, msg.len, clean, sizeof clean);
        snprintf(err, errlen, "%.200s: %.800s", path, clean);
    } else {
        char s[256];
        status_text(st, s, sizeof s);
        snprintf(err, errlen, "%s: %s", path, s);
    }
    spfgate_error_free(error);
    return NULL;
}

/* Copies a verdict string (printable ASCII by the library's contract; made
 * safe for the protocol all the same). */
static bool verdict_str(spfgate_status (*get)(const spfgate_decision *, spfgate_str *),
                        const spfgate_decision *d, char *out, size_t cap)
{
    spfgate_str s;
    out[0] = '\0';
    if (get(d, &s) != SPFGATE_OK) {
        return false;
    }
    protocol_text((const char *)s.data, s.len, out, cap);
    return true;
}

/* Decides one request: the library's poll/answer loop, with every batch
 * resolved at once. Returns false when no verdict could be reached (out of
 * memory, a library error, stopping); the caller then defers. */
static bool decide(struct conn *c, const struct request *rq, struct outcome *out)
{
    spfgate_request *req = NULL;
    spfgate_decision *d = NULL;
    struct lookup_io *lks = NULL;
    bool ok = false;
    char why[256];
    spfgate_status st = spfgate_request_new(&req);
#define CALL(expr)                                                                                \
    do {                                                                                          \
        if (st == SPFGATE_OK) st = (expr);                                                        \
    } while (0)
    CALL(spfgate_request_set_ip_text(req, (const uint8_t *)rq->client_address,
                                     strlen(rq->client_address)));
    CALL(spfgate_request_set_mail_from(req, (const uint8_t *)rq->sender, strlen(rq->sender)));
    CALL(spfgate_request_set_helo(req, (const uint8_t *)rq->helo_name, strlen(rq->helo_name)));
    CALL(spfgate_request_set_receiver(req, (const uint8_t *)cfg.receiver, strlen(cfg.receiver)));
    CALL(spfgate_request_set_now(req, (uint64_t)time(NULL)));
    if (st == SPFGATE_OK) {
        struct policy_ref *ref = policy_acquire();
        st = spfgate_policy_decide(ref->policy, req, NULL, &d);
        policy_release(ref); /* a decision holds no reference to its policy */
    }
    if (st != SPFGATE_OK) {
        status_text(st, why, sizeof why);
        logmsg(LOG_ERR, "client %s: cannot start a decision: %s", c->peer, why);
        goto out;
    }
    lks = malloc(MAX_BATCH * sizeof *lks);
    if (!lks) {
        logmsg(LOG_ERR, "client %s: out of memory", c->peer);
        goto out;
    }
    for (;;) {
        spfgate_step step;
        size_t count;
        if ((st = spfgate_decision_poll(d, &step, &count)) != SPFGATE_OK) {
            break;
        }
        if (step == SPFGATE_STEP_DONE) {
            break;
        }
        if (step != SPFGATE_STEP_LOOKUPS || count == 0) {
            /* Every lookup handed out is answered before polling again. */
            st = SPFGATE_INVALID_ARGUMENT;
            break;
        }
        for (size_t first = 0; first < count && st == SPFGATE_OK; first += MAX_BATCH) {
            size_t n = count - first < MAX_BATCH ? count - first : MAX_BATCH;
            for (size_t i = 0; i < n && st == SPFGATE_OK; i++) {
                spfgate_lookup lk;
                st = spfgate_decision_lookup(d, first + i, &lk);
                lks[i].id = lk.id;
                lks[i].name = lk.name;
                lks[i].qtype = lk.qtype;
            }
            if (st != SPFGATE_OK) {
                break;
            }
            resolve_batch(&c->res, lks, n);
            if (stopping()) {
                for (size_t i = 0; i < n; i++) free(lks[i].answer);
                goto out;
            }
            for (size_t i = 0; i < n && st == SPFGATE_OK; i++) {
                spfgate_status a = SPFGATE_INVALID_ARGUMENT;
                if (lks[i].state == LK_ANSWERED) {
                    a = spfgate_decision_answer_wire(d, lks[i].id, lks[i].answer, lks[i].alen);
                }
                if (a != SPFGATE_OK) {
                    static const char timeout[] = "DNS timeout";
                    static const char unusable[] = "unusable DNS answer";
                    const char *r = lks[i].state == LK_ANSWERED ? unusable : timeout;
                    st = spfgate_decision_answer_tempfail(d, lks[i].id, (const uint8_t *)r,
                                                          strlen(r));
                }
                free(lks[i].answer);
                lks[i].answer = NULL;
            }
        }
        if (st != SPFGATE_OK) {
            break;
        }
    }
    if (st != SPFGATE_OK) {
        status_text(st, why, sizeof why);
        logmsg(LOG_ERR, "client %s: decision failed: %s", c->peer, why);
        goto out;
    }
    spfgate_action action;
    uint16_t code;
    char enhanced[32], text[MAX_LINE];
    if (spfgate_decision_action(d, &action) != SPFGATE_OK ||
        spfgate_decision_smtp_code(d, &code) != SPFGATE_OK ||
        !verdict_str(spfgate_decision_smtp_enhanced, d, enhanced, sizeof enhanced) ||
        !verdict_str(spfgate_decision_smtp_text, d, text, sizeof text)) {
        logmsg(LOG_ERR, "client %s: the decision has no verdict", c->peer);
        goto out;
    }
    verdict_str(spfgate_decision_account, d, out->account, sizeof out->account);
    spfgate_result result;
    if (spfgate_decision_spf_result(d, &result) == SPFGATE_OK) {
        const char *name = spfgate_result_name((uint32_t)result);
        snprintf(out->spf, sizeof out->spf, "%s", name ? name : "?");
    }
    const char *what = spfgate_action_name((uint32_t)action);
    snprintf(out->what, sizeof out->what, "%s", what ? what : "?");
    if (action == SPFGATE_ACTION_ACCEPT) {
        char header[MAX_LINE];
        if (verdict_str(spfgate_decision_received_spf, d, header, sizeof header)) {
            snprintf(out->action, sizeof out->action, "PREPEND Received-SPF: %s", header);
            out->prepends = true;
        } else {
            snprintf(out->action, sizeof out->action, "DUNNO");
        }
        ok = true;
    } else if (code >= 400 && code <= 599) {
        snprintf(out->action, sizeof out->action, "%u %s %s", (unsigned)code, enhanced, text);
        ok = true;
    } else {
        logmsg(LOG_ERR, "client %s: a %s verdict with SMTP code %u", c->peer, out->what,
               (unsigned)code);
    }
#undef CALL
out:
    free(lks);
    spfgate_decision_free(d);
    spfgate_request_free(req);
    return ok;
}

/* ---- The policy protocol ---------------------------------------------- */


/* Writes all of `s` unless the peer is gone. */
static bool write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 10000) <= 0) {
                return false;
            }
            continue;
        }
        if (w <= 0) {
            return false;
        }
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool reply(struct conn *c, const char *action)
{
    char out[sizeof(((struct outcome *)0)->action) + 16];
    int n = snprintf(out, sizeof out, "action=%s\n\n", action);
    if (n < 0 || (size_t)n >= sizeof out) {
        n = snprintf(out, sizeof out, "action=%s\n\n", FAILED_REPLY);
    }
    return write_all(c->fd, out, (size_t)n);
}

/* Reads the next line into `line` (without its newline). Returns the line
 * length, -1 at end of input, error or stop, or -2 for a line longer than
 * MAX_LINE (whose rest has been skipped; `skipped` counts its bytes). */
static long read_line(struct conn *c, char *line, size_t *skipped)
{
    size_t n = 0;
    bool too_long = false;
    *skipped = 0;
    for (;;) {
        while (c->in_pos < c->in_len) {
            char ch = c->in[c->in_pos++];
            if (ch == '\n') {
                if (too_long) {
                    return -2;
                }
                if (n > 0 && line[n - 1] == '\r') {
                    n--;
                }
                line[n] = '\0';
                return (long)n;
            }
            if (n < MAX_LINE) {
                line[n++] = ch;
            } else {
                too_long = true;
                if (++*skipped > MAX_DISCARD) {
                    return -2;
                }
            }
        }
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = stop_pipe[0], .events = POLLIN}};
        int r = poll(p, 2, IDLE_TIMEOUT_MS);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || p[1].revents) {
            return -1;
        }
        ssize_t got = recv(c->fd, c->in, sizeof c->in, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (got <= 0) {
            return -1;
        }
        c->in_len = (size_t)got;
        c->in_pos = 0;
    }
}

/* Whether `s` is valid UTF-8 without control characters (tab allowed). */
static bool clean_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return false;
            }
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (ch >= 0xc2 && ch <= 0xdf) {
            len = 2;
            cp = ch & 0x1f;
        } else if (ch >= 0xe0 && ch <= 0xef) {
            len = 3;
            cp = ch & 0x0f;
        } else if (ch >= 0xf0 && ch <= 0xf4) {
            len = 4;
            cp = ch & 0x07;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            unsigned char cc = (unsigned char)s[i + k];
            if ((cc & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (cc & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        i += len;
    }
    return true;
}

static void set_attr(char *dst, size_t cap, const char *value, size_t len, const char **error)
{
    if (len >= cap) {
        *error = "attribute value too long";
        return;
    }
    memcpy(dst, value, len);
    dst[len] = '\0';
}

/* Takes one attribute line into `rq`; sets `*error` for a broken one. */
static void take_attr(struct request *rq, const char *line, size_t len, const char **error)
{
    const char *eq = memchr(line, '=', len);
    if (!eq || eq == line) {
        *error = "a line is not name=value";
        return;
    }
    if (!clean_text(line, len)) {
        *error = "binary data or invalid UTF-8";
        return;
    }
    size_t nlen = (size_t)(eq - line);
    const char *v = eq + 1;
    size_t vlen = len - nlen - 1;
#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(line, lit, nlen) == 0)
    if (IS("request")) {
        rq->has_request = true;
        rq->bad_request_type = !(vlen == 19 && memcmp(v, "smtpd_access_policy", 19) == 0);
    } else if (IS("protocol_state")) {
        set_attr(rq->protocol_state, sizeof rq->protocol_state, v, vlen, error);
    } else if (IS("instance")) {
        set_attr(rq->instance, sizeof rq->instance, v, vlen, error);
    } else if (IS("sender")) {
        rq->has_sender = true;
        set_attr(rq->sender, sizeof rq->sender, v, vlen, error);
    } else if (IS("client_address")) {
        rq->has_client = true;
        set_attr(rq->client_address, sizeof rq->client_address, v, vlen, error);
    } else if (IS("helo_name")) {
        set_attr(rq->helo_name, sizeof rq->helo_name, v, vlen, error);
    }
    /* Every other attribute is ignored, as the protocol requires. */
#undef IS
}

static bool valid_ip(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* Answers one complete, well-formed request. */
static bool answer_request(struct conn *c, struct request *rq)
{
    char esc[512];
    if (!rq->has_request || rq->bad_request_type) {
        logmsg(LOG_WARNING, "client %s: error: not an smtpd_access_policy request; replying %s",
               c->peer, BROKEN_REPLY);
        return reply(c, BROKEN_REPLY);
    }
    /* Sender and client are known from MAIL FROM on; before that, and
     * for DATA and END-OF-MESSAGE (after RCPT decided), nothing to add. */
    const char *state = rq->protocol_state;
    if (state[0] && strcmp(state, "RCPT") != 0 && strcmp(state, "MAIL") != 0) {
        return reply(c, "DUNNO");
    }
    if (!rq->has_sender || !rq->has_client || !valid_ip(rq->client_address)) {
        sanitize(rq->client_address, strlen(rq->client_address), esc, sizeof esc);
        logmsg(LOG_WARNING,
               "client %s: error: request without sender or with client_address \"%s\"; "
               "replying %s",
               c->peer, esc, BROKEN_REPLY);
        return reply(c, BROKEN_REPLY);
    }
    char key[sizeof c->cached_key];
    snprintf(key, sizeof key, "%s\n%s\n%s", rq->instance, rq->client_address, rq->sender);
    if (rq->instance[0] && c->cached && strcmp(key, c->cached_key) == 0) {
        /* The same message, a further recipient: the same verdict; the
         * Received-SPF header was already prepended once. */
        return reply(c, c->cached_outcome.prepends ? "DUNNO" : c->cached_outcome.action);
    }
    struct outcome out;
    memset(&out, 0, sizeof out);
    double t0 = now_ms();
    bool ok = decide(c, rq, &out);
    double ms = now_ms() - t0;
    if (!ok) {
        if (stopping()) {
            return false;
        }
        return reply(c, FAILED_REPLY);
    }
    char sender[512], account[300], action[600];
    sanitize(rq->sender, strlen(rq->sender), sender, sizeof sender);
    sanitize(out.account, strlen(out.account), account, sizeof account);
    sanitize(out.action, strlen(out.action), action, sizeof action);
    logmsg(out.what[0] == 'a' ? LOG_INFO : LOG_NOTICE,
           "decision account=%s client=%s sender=<%s> action=%s spf=%s ms=%.1f reply=\"%s\"",
           account[0] ? account : "-", rq->client_address, sender, out.what,
           out.spf[0] ? out.spf : "-", ms, action);
    if (rq->instance[0]) {
        memcpy(c->cached_key, key, sizeof key);
        c->cached_outcome = out;
        c->cached = true;
    }
    return reply(c, out.action);
}

static void serve(struct conn *c)
{
    static char const *const too_long = "a line longer than the limit";
    char *line = malloc(MAX_LINE + 1);
    struct request *rq = malloc(sizeof *rq);
    if (!line || !rq) {
        logmsg(LOG_ERR, "client %s: out of memory", c->peer);
        goto out;
    }
    for (;;) {
        memset(rq, 0, sizeof *rq);
        const char *error = NULL;
        size_t bytes = 0, attrs = 0, discarded = 0;
        bool started = false;
        for (;;) {
            size_t skipped;
            long n = read_line(c, line, &skipped);
            if (n == -1) {
                if (started) {
                    logmsg(LOG_WARNING, "client %s: disconnected in the middle of a request",
                           c->peer);
                }
                goto out;
            }
            started = true;
            if (n == -2) {
                error = error ? error : too_long;
                discarded += skipped + MAX_LINE;
                if (discarded > MAX_DISCARD) {
                    logmsg(LOG_WARNING, "client %s: error: %s; more than %d bytes without end "
                           "of request, closing", c->peer, error, MAX_DISCARD);
                    reply(c, BROKEN_REPLY);
                    goto out;
                }
                continue;
            }
            if (n == 0) {
                break;
            }
            bytes += (size_t)n + 1;
            if (error) {
                discarded += (size_t)n + 1;
                if (discarded > MAX_DISCARD) {
                    logmsg(LOG_WARNING, "client %s: error: %s; more than %d bytes without end "
                           "of request, closing", c->peer, error, MAX_DISCARD);
                    reply(c, BROKEN_REPLY);
                    goto out;
                }
                continue;
            }
            if (bytes > MAX_REQUEST) {
                error = "request larger than the limit";
                continue;
            }
            if (++attrs > MAX_ATTRS) {
                error = "too many attributes";
                continue;
            }
            take_attr(rq, line, (size_t)n, &error);
        }
        bool ok;
        if (error) {
            logmsg(LOG_WARNING, "client %s: error: malformed request: %s; replying %s", c->peer,
                   error, BROKEN_REPLY);
            ok = reply(c, BROKEN_REPLY);
        } else if (attrs == 0) {
            logmsg(LOG_WARNING, "client %s: error: empty request; replying %s", c->peer,
                   BROKEN_REPLY);
            ok = reply(c, BROKEN_REPLY);
        } else {
            ok = answer_request(c, rq);
        }
        if (!ok) {
            goto out;
        }
    }
out:
    free(line);
    free(rq);
}

static void *conn_thread(void *arg)
{
    struct conn *c = arg;
    memset(&c->res, 0, sizeof c->res);
    c->res_ok = res_ninit(&c->res) == 0;
    if (c->res_ok) {
        serve(c);
        res_nclose(&c->res);
    } else {
        logmsg(LOG_ERR, "client %s: resolver initialization failed", c->peer);
    }
    close(c->fd);
    free(c);
    pthread_mutex_lock(&conn_lock);
    active_connections--;
    pthread_cond_broadcast(&conn_cond);
    pthread_mutex_unlock(&conn_lock);
    return NULL;
}

/* ---- Listening, signals, main ----------------------------------------- */

static int open_listener(const char *spec)
{
    int fd;
    if (strchr(spec, '/')) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(spec) >= sizeof sun.sun_path) {
            fprintf(stderr, "spfgate-policyd: --listen %s: path too long\n", spec);
            return -1;
        }
        strcpy(sun.sun_path, spec);
        struct stat st;
        if (lstat(spec, &st) == 0 && S_ISSOCK(st.st_mode)) {
            unlink(spec); /* a stale socket of an earlier run */
        }
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, 128) < 0) {
            fprintf(stderr, "spfgate-policyd: --listen %s: %s\n", spec, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
    } else {
        char host[256];
        const char *colon = strrchr(spec, ':');
        if (!colon || colon == spec || strlen(spec) >= sizeof host) {
            fprintf(stderr, "spfgate-policyd: --listen %s: expected HOST:PORT or a path\n", spec);
            return -1;
        }
        size_t hl = (size_t)(colon - spec);
        memcpy(host, spec, hl);
        host[hl] = '\0';
        if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
            memmove(host, host + 1, hl - 2);
            host[hl - 2] = '\0';
        }
        struct addrinfo hints, *ai;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        int gai = getaddrinfo(host, colon + 1, &hints, &ai);
        if (gai) {
            fprintf(stderr, "spfgate-policyd: --listen %s: %s\n", spec, gai_strerror(gai));
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        int one = 1;
        if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
            fprintf(stderr, "spfgate-policyd: --listen %s: %s\n", spec, strerror(errno));
            if (fd >= 0) close(fd);
            freeaddrinfo(ai);
            return -1;
        }
        freeaddrinfo(ai);
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static bool parse_server(const char *spec)
{
    if (cfg.nservers == MAX_SERVERS) {
        fprintf(stderr, "spfgate-policyd: at most %d --server options\n", MAX_SERVERS);
        return false;
    }
    char host[128];
    const char *port = "53";
    if (strlen(spec) >= sizeof host) {
        return false;
    }
    strcpy(host, spec);
    if (host[0] == '[') {
        char *end = strchr(host, ']');
        if (!end) return false;
        *end = '\0';
        memmove(host, host + 1, strlen(host + 1) + 1);
        if (end[1] == ':') port = spec + (end - host) + 3;
        else if (end[1]) return false;
    } else {
        char *colon = strchr(host, ':');
        if (colon && !strchr(colon + 1, ':')) { /* IPv4:PORT; more colons: bare IPv6 */
            *colon = '\0';
            port = spec + (colon - host) + 1;
        }
    }
    char *endp;
    long p = strtol(port, &endp, 10);
    if (*endp || p < 1 || p > 65535) {
        return false;
    }
    struct sockaddr_storage *ss = &cfg.servers[cfg.nservers];
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        cfg.server_lens[cfg.nservers] = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        cfg.server_lens[cfg.nservers] = sizeof *v6;
    } else {
        return false;
    }
    cfg.nservers++;
    return true;
}

/* The servers of /etc/resolv.conf, as libresolv reads them. */
static bool servers_from_resolv_conf(void)
{
    struct __res_state res;
    memset(&res, 0, sizeof res);
    if (res_ninit(&res) != 0) {
        return false;
    }
    for (int i = 0; i < res.nscount && cfg.nservers < MAX_SERVERS; i++) {
        struct sockaddr_storage *ss = &cfg.servers[cfg.nservers];
        memset(ss, 0, sizeof *ss);
        if (res.nsaddr_list[i].sin_family == AF_INET) {
            memcpy(ss, &res.nsaddr_list[i], sizeof res.nsaddr_list[i]);
            cfg.server_lens[cfg.nservers++] = sizeof(struct sockaddr_in);
        } else if (res._u._ext.nsaddrs[i] && res._u._ext.nsaddrs[i]->sin6_family == AF_INET6) {
            memcpy(ss, res._u._ext.nsaddrs[i], sizeof(struct sockaddr_in6));
            cfg.server_lens[cfg.nservers++] = sizeof(struct sockaddr_in6);
        }
    }
    res_nclose(&res);
    return cfg.nservers > 0;
}

static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            logmsg(LOG_INFO, "SIGHUP: reloading %s", cfg.policy_path);
            policy_reload();
        } else {
            logmsg(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            char b = 1;
            while (write(stop_pipe[1], &b, 1) < 0 && errno == EINTR) {
            }
            return NULL;
        }
    }
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: spfgate-policyd --listen HOST:PORT|PATH --policy FILE [--server IP[:PORT]]\n"
            "                       [--timeout SECONDS] [--receiver NAME]\n"
            "                       [--max-connections N] [--syslog]\n"
            "\n"
            "A Postfix SMTPD access policy service (check_policy_service) that decides\n"
            "with the spfgate account policy FILE (JSON, or TOML when it ends in .toml).\n"
            "\n"
            "  --listen HOST:PORT|PATH  TCP address ([IPv6]:PORT too) or UNIX socket path\n"
            "  --policy FILE            the account policy; SIGHUP reloads it\n"
            "  --server IP[:PORT]       DNS server to ask (up to 3; default: resolv.conf)\n"
            "  --timeout SECONDS        wait for a batch of DNS answers (default 5)\n"
            "  --receiver NAME          this host's name in Received-SPF (default: hostname)\n"
            "  --max-connections N      concurrent clients served (default 256)\n"
            "  --syslog                 log to syslog (mail facility) instead of stderr\n");
}

int main(int argc, char **argv)
{
    cfg.timeout = DEFAULT_TIMEOUT;
    cfg.max_connections = DEFAULT_MAX_CONNECTIONS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--syslog") == 0) {
            cfg.use_syslog = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "spfgate-policyd: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        char *end;
        if (strcmp(a, "--listen") == 0) {
            cfg.listen = v;
        } else if (strcmp(a, "--policy") == 0) {
            cfg.policy_path = v;
        } else if (strcmp(a, "--server") == 0) {
            if (!parse_server(v)) {
                fprintf(stderr, "spfgate-policyd: --server %s: expected IP[:PORT]\n", v);
                return 2;
            }
        } else if (strcmp(a, "--timeout") == 0) {
            cfg.timeout = strtod(v, &end);
            if (*end || !(cfg.timeout > 0 && cfg.timeout <= 3600)) {
                fprintf(stderr, "spfgate-policyd: --timeout %s: expected seconds in (0, 3600]\n",
                        v);
                return 2;
            }
        } else if (strcmp(a, "--receiver") == 0) {
            if (strlen(v) >= sizeof cfg.receiver) {
                fprintf(stderr, "spfgate-policyd: --receiver: name too long\n");
                return 2;
            }
            strcpy(cfg.receiver, v);
        } else if (strcmp(a, "--max-connections") == 0) {
            long m = strtol(v, &end, 10);
            if (*end || m < 1 || m > 100000) {
                fprintf(stderr, "spfgate-policyd: --max-connections %s: expected 1..100000\n", v);
                return 2;
            }
            cfg.max_connections = (int)m;
        } else {
            fprintf(stderr, "spfgate-policyd: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!cfg.listen || !cfg.policy_path) {
        usage(stderr);
        return 2;
    }
    if (!cfg.receiver[0] && gethostname(cfg.receiver, sizeof cfg.receiver - 1) != 0) {
        strcpy(cfg.receiver, "localhost");
    }
    if (cfg.nservers == 0 && !servers_from_resolv_conf()) {
        fprintf(stderr, "spfgate-policyd: no DNS server: give --server or fix resolv.conf\n");
        return 1;
    }
    if (cfg.use_syslog) {
        openlog("spfgate-policyd", LOG_PID, LOG_MAIL);
    }

    /* Every thread blocks the signals; the signal thread takes them. */
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (pipe(stop_pipe) != 0) {
        perror("spfgate-policyd: pipe");
        return 1;
    }
    fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
    if (!policy_reload()) {
        return 1;
    }
    int lfd = open_listener(cfg.listen);
    if (lfd < 0) {
        policy_release(current_policy);
        return 1;
    }
    pthread_t sig_tid;
    if (pthread_create(&sig_tid, NULL, signal_thread, &set) != 0) {
        perror("spfgate-policyd: signal thread");
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    logmsg(LOG_INFO, "listening on %s, DNS timeout %.1f s, up to %d connections", cfg.listen,
           cfg.timeout, cfg.max_connections);

    for (;;) {
        pthread_mutex_lock(&conn_lock);
        while (active_connections >= cfg.max_connections && !stopping()) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&conn_cond, &conn_lock, &ts);
        }
        pthread_mutex_unlock(&conn_lock);
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_pipe[0], .events = POLLIN}};
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 || p[1].revents) {
            break;
        }
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept(lfd, (struct sockaddr *)&peer, &plen);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                logmsg(LOG_ERR, "accept: %s", strerror(errno));
                usleep(100 * 1000);
            }
            continue;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        memset(c, 0, offsetof(struct conn, in));
        c->in_len = c->in_pos = 0;
        c->fd = fd;
        char host[INET6_ADDRSTRLEN] = "local";
        if (peer.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "%s:%u", host,
                     ntohs(((struct sockaddr_in *)&peer)->sin_port));
        } else if (peer.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "[%s]:%u", host,
                     ntohs(((struct sockaddr_in6 *)&peer)->sin6_port));
        } else {
            snprintf(c->peer, sizeof c->peer, "unix:%d", fd);
        }
        pthread_mutex_lock(&conn_lock);
        active_connections++;
        pthread_mutex_unlock(&conn_lock);
        pthread_t tid;
        if (pthread_create(&tid, &attr, conn_thread, c) != 0) {
            logmsg(LOG_ERR, "client %s: no thread: %s", c->peer, strerror(errno));
            close(fd);
            free(c);
            pthread_mutex_lock(&conn_lock);
            active_connections--;
            pthread_mutex_unlock(&conn_lock);
        }
    }

    /* Stop: no new clients; every connection thread sees the stop pipe. */
    close(lfd);
    if (strchr(cfg.listen, '/')) {
        unlink(cfg.listen);
    }
    pthread_mutex_lock(&conn_lock);
    while (active_connections > 0) {
        pthread_cond_wait(&conn_cond, &conn_lock);
    }
    pthread_mutex_unlock(&conn_lock);
    pthread_join(sig_tid, NULL);
    pthread_attr_destroy(&attr);
    policy_release(current_policy);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    logmsg(LOG_INFO, "stopped");
    if (cfg.use_syslog) {
        closelog();
    }
    return 0;
}
