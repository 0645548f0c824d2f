/*
 * The RFC 7208 test suite driven through the C ABI, every answer handed over
 * as a DNS wire message (spfgate_evaluator_answer_wire), as res_query() would
 * return it.
 *
 *   suite DATA                 run every test: a new evaluator per test, then
 *                              once more with one evaluator restarted per test
 *   suite DATA --bench SECONDS evaluations/s with one restarted evaluator
 *
 * DATA is written by `suite-wire data` (tests/c/src/bin/suite-wire.rs) from
 * ../shared/spf-test-suite/rfc7208-tests.yml: per scenario, the response of
 * every zone name to every query type; a name outside the zone gets NXDOMAIN,
 * built here.
 */
#define _POSIX_C_SOURCE 200809L

#include <spfgate.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct answer {
    char *name;
    uint16_t qtype;
    uint8_t *bytes;
    size_t len;
};

struct test {
    char *name;
    char *ip;
    uint8_t *mail_from;
    size_t mail_from_len;
    uint8_t *helo;
    size_t helo_len;
    char *results; /* comma-separated */
    uint8_t *explanation;
    size_t explanation_len;
};

struct scenario {
    struct answer *answers;
    size_t n_answers;
    struct test *tests;
    size_t n_tests;
};

static struct scenario *scenarios;
static size_t n_scenarios;

static void die(const char *what) {
    fprintf(stderr, "suite: %s\n", what);
    exit(2);
}

static void *grow(void *p, size_t n, size_t size) {
    void *q = realloc(p, n * size);
    if (q == NULL) {
        die("out of memory");
    }
    return q;
}

/* Decodes hex ("-" is empty) into a new buffer, NUL-terminated for convenience. */
static uint8_t *unhex(const char *s, size_t *len) {
    size_t n = strcmp(s, "-") == 0 ? 0 : strlen(s) / 2;
    uint8_t *out = malloc(n + 1);
    if (out == NULL) {
        die("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        if (sscanf(s + 2 * i, "%2x", &byte) != 1) {
            die("bad hex in the data file");
        }
        out[i] = (uint8_t)byte;
    }
    out[n] = 0;
    *len = n;
    return out;
}

static char *copy(const char *s) {
    char *out = malloc(strlen(s) + 1);
    if (out == NULL) {
        die("out of memory");
    }
    strcpy(out, s);
    return out;
}

static void load(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        die("cannot open the data file");
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    struct test *pending = NULL;
    while ((got = getline(&line, &cap, f)) > 0) {
        if (line[got - 1] == '\n') {
            line[got - 1] = 0;
        }
        char *kind = strtok(line, " ");
        struct scenario *s = n_scenarios ? &scenarios[n_scenarios - 1] : NULL;
        if (kind == NULL) {
            die("empty line in the data file");
        } else if (strcmp(kind, "scenario") == 0) {
            scenarios = grow(scenarios, n_scenarios + 1, sizeof *scenarios);
            memset(&scenarios[n_scenarios], 0, sizeof *scenarios);
            n_scenarios++;
        } else if (s != NULL && strcmp(kind, "answer") == 0) {
            char *qtype = strtok(NULL, " "), *name = strtok(NULL, " "), *bytes = strtok(NULL, " ");
            if (qtype == NULL || name == NULL || bytes == NULL) {
                die("bad answer line");
            }
            s->answers = grow(s->answers, s->n_answers + 1, sizeof *s->answers);
            struct answer *a = &s->answers[s->n_answers++];
            size_t name_len;
            a->name = (char *)unhex(name, &name_len);
            a->qtype = (uint16_t)atoi(qtype);
            a->bytes = unhex(bytes, &a->len);
        } else if (s != NULL && strcmp(kind, "test") == 0) {
            char *name = strtok(NULL, " ");
            if (name == NULL) {
                die("bad test line");
            }
            s->tests = grow(s->tests, s->n_tests + 1, sizeof *s->tests);
            pending = &s->tests[s->n_tests++];
            memset(pending, 0, sizeof *pending);
            size_t len;
            pending->name = (char *)unhex(name, &len);
        } else if (pending != NULL && strcmp(kind, "request") == 0) {
            char *ip = strtok(NULL, " "), *from = strtok(NULL, " "), *helo = strtok(NULL, " ");
            if (ip == NULL || from == NULL || helo == NULL) {
                die("bad request line");
            }
            pending->ip = copy(ip);
            pending->mail_from = unhex(from, &pending->mail_from_len);
            pending->helo = unhex(helo, &pending->helo_len);
        } else if (pending != NULL && strcmp(kind, "expect") == 0) {
            char *results = strtok(NULL, " "), *exp = strtok(NULL, " ");
            if (results == NULL || exp == NULL) {
                die("bad expect line");
            }
            pending->results = copy(results);
            pending->explanation = unhex(exp, &pending->explanation_len);
        } else {
            die("unexpected line in the data file");
        }
    }
    free(line);
    fclose(f);
}

static void unload(void) {
    for (size_t i = 0; i < n_scenarios; i++) {
        struct scenario *s = &scenarios[i];
        for (size_t j = 0; j < s->n_answers; j++) {
            free(s->answers[j].name);
            free(s->answers[j].bytes);
        }
        for (size_t j = 0; j < s->n_tests; j++) {
            struct test *t = &s->tests[j];
            free(t->name);
            free(t->ip);
            free(t->mail_from);
            free(t->helo);
            free(t->results);
            free(t->explanation);
        }
        free(s->answers);
        free(s->tests);
    }
    free(scenarios);
}

/* The NXDOMAIN response to a question: header (id 0, QR RD RA, rcode 3, one
 * question), the name as labels, the type, class IN. Returns its length. */
static size_t nxdomain(const char *name, size_t name_len, uint16_t qtype, uint8_t *out) {
    static const uint8_t header[12] = {0, 0, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(out, header, sizeof header);
    size_t n = sizeof header;
    size_t start = 0;
    for (size_t i = 0; i <= name_len; i++) {
        if (i == name_len || name[i] == '.') {
            size_t label = i - start;
            if (label > 0) {
                out[n++] = (uint8_t)label;
                memcpy(out + n, name + start, label);
                n += label;
            }
            start = i + 1;
        }
    }
    out[n++] = 0;
    out[n++] = (uint8_t)(qtype >> 8);
    out[n++] = (uint8_t)qtype;
    out[n++] = 0;
    out[n++] = 1;
    return n;
}

static int check(spfgate_status status, const char *what, const char *test) {
    if (status != SPFGATE_OK) {
        char message[128];
        size_t written;
        spfgate_status_message(status, (uint8_t *)message, sizeof message, &written);
        fprintf(stderr, "FAIL %s: %s: %s\n", test, what, message);
        return 0;
    }
    return 1;
}

/* Drives one evaluation to its end with wire answers; 1 when it finished. */
static int drive(spfgate_evaluator *ev, const struct scenario *s, const char *test) {
    uint8_t scratch[600];
    for (;;) {
        spfgate_step step;
        size_t count;
        if (!check(spfgate_evaluator_poll(ev, &step, &count), "poll", test)) {
            return 0;
        }
        if (step == SPFGATE_STEP_DONE) {
            return 1;
        }
        if (step == SPFGATE_STEP_PENDING) {
            fprintf(stderr, "FAIL %s: pending with every lookup answered\n", test);
            return 0;
        }
        for (size_t i = 0; i < count; i++) {
            spfgate_lookup l;
            if (!check(spfgate_evaluator_lookup(ev, i, &l), "lookup", test)) {
                return 0;
            }
            if (l.name[l.name_len] != 0 || strlen(l.name) != l.name_len) {
                fprintf(stderr, "FAIL %s: lookup name is not NUL-terminated\n", test);
                return 0;
            }
            const uint8_t *bytes = NULL;
            size_t len = 0;
            for (size_t j = 0; j < s->n_answers; j++) {
                const struct answer *a = &s->answers[j];
                if (a->qtype == l.qtype && strcmp(a->name, l.name) == 0) {
                    bytes = a->bytes;
                    len = a->len;
                    break;
                }
            }
            if (bytes == NULL) {
                if (l.name_len > 255) {
                    fprintf(stderr, "FAIL %s: overlong lookup name\n", test);
                    return 0;
                }
                len = nxdomain(l.name, l.name_len, l.qtype, scratch);
                bytes = scratch;
            }
            if (!check(spfgate_evaluator_answer_wire(ev, l.id, bytes, len), "answer_wire", test)) {
                return 0;
            }
        }
    }
}

static int set_request(spfgate_request *req, const struct test *t) {
    return check(spfgate_request_set_ip_text(req, (const uint8_t *)t->ip, strlen(t->ip)), "ip", t->name) &&
           check(spfgate_request_set_mail_from(req, t->mail_from, t->mail_from_len), "mail from", t->name) &&
           check(spfgate_request_set_helo(req, t->helo, t->helo_len), "helo", t->name);
}

/* Whether `got` is one of the test's comma-separated results. */
static int accepted(const struct test *t, const char *got) {
    size_t n = strlen(got);
    for (const char *r = t->results; r != NULL; r = strchr(r, ',') ? strchr(r, ',') + 1 : NULL) {
        if (strncmp(r, got, n) == 0 && (r[n] == ',' || r[n] == 0)) {
            return 1;
        }
    }
    return 0;
}

/* Whether the finished evaluation gave what the suite expects. */
static int judge(spfgate_evaluator *ev, const struct test *t, int report) {
    spfgate_result result;
    if (!check(spfgate_evaluator_result(ev, &result), "result", t->name)) {
        return 0;
    }
    const char *got = spfgate_result_name(result);
    if (!accepted(t, got)) {
        if (report) {
            spfgate_str reason;
            spfgate_evaluator_reason(ev, &reason);
            fprintf(stderr, "FAIL %s: result %s, expected %s (%.*s)\n", t->name, got, t->results,
                    (int)reason.len, (const char *)reason.data);
        }
        return 0;
    }
    if (t->explanation_len > 0) {
        spfgate_str exp;
        spfgate_status status = spfgate_evaluator_explanation(ev, &exp);
        if (status != SPFGATE_OK || exp.len != t->explanation_len ||
            memcmp(exp.data, t->explanation, exp.len) != 0) {
            if (report) {
                fprintf(stderr, "FAIL %s: explanation differs (status %u)\n", t->name, (unsigned)status);
            }
            return 0;
        }
    }
    return 1;
}

static spfgate_config *suite_config(int trace) {
    spfgate_config *config;
    if (spfgate_config_new(&config) != SPFGATE_OK ||
        spfgate_config_set_default_explanation(config, (const uint8_t *)"DEFAULT", 7) != SPFGATE_OK ||
        spfgate_config_set_trace(config, trace) != SPFGATE_OK) {
        die("cannot make the configuration");
    }
    return config;
}

/* One pass over the suite; `restarted`: one evaluator for every test. */
static size_t run(int restarted, size_t *failed) {
    spfgate_config *config = suite_config(1);
    spfgate_request *req;
    if (spfgate_request_new(&req) != SPFGATE_OK) {
        die("cannot make a request");
    }
    spfgate_evaluator *kept = NULL;
    size_t passed = 0;
    *failed = 0;
    for (size_t i = 0; i < n_scenarios; i++) {
        for (size_t j = 0; j < scenarios[i].n_tests; j++) {
            const struct test *t = &scenarios[i].tests[j];
            int ok = set_request(req, t);
            spfgate_evaluator *ev = NULL;
            if (ok && restarted && kept != NULL) {
                ok = check(spfgate_evaluator_restart(kept, req), "restart", t->name);
                ev = kept;
            } else if (ok) {
                ok = check(spfgate_evaluator_new(req, config, &ev), "new", t->name);
                if (restarted) {
                    kept = ev;
                }
            }
            ok = ok && drive(ev, &scenarios[i], t->name) && judge(ev, t, 1);
            if (!restarted) {
                spfgate_evaluator_free(ev);
            }
            if (ok) {
                passed++;
            } else {
                (*failed)++;
            }
        }
    }
    spfgate_evaluator_free(kept);
    spfgate_request_free(req);
    spfgate_config_free(config);
    return passed;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Evaluations/s through the C ABI, one restarted evaluator, trace off: the
 * same loop as `suite-wire bench` runs through the Rust API. Best of five. */
static int bench(double seconds) {
    spfgate_config *config = suite_config(0);
    spfgate_request *req;
    spfgate_evaluator *ev;
    if (spfgate_request_new(&req) != SPFGATE_OK ||
        spfgate_request_set_ip_text(req, (const uint8_t *)"192.0.2.1", 9) != SPFGATE_OK ||
        spfgate_evaluator_new(req, config, &ev) != SPFGATE_OK) {
        die("cannot make the evaluator");
    }
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double start = now_seconds(), elapsed = 0;
        size_t evaluations = 0;
        while (elapsed < seconds / 5) {
            for (size_t i = 0; i < n_scenarios; i++) {
                for (size_t j = 0; j < scenarios[i].n_tests; j++) {
                    const struct test *t = &scenarios[i].tests[j];
                    if (!set_request(req, t) || spfgate_evaluator_restart(ev, req) != SPFGATE_OK ||
                        !drive(ev, &scenarios[i], t->name)) {
                        die("evaluation failed");
                    }
                    spfgate_result result;
                    if (spfgate_evaluator_result(ev, &result) != SPFGATE_OK) {
                        die("no result");
                    }
                    evaluations += accepted(t, spfgate_result_name(result));
                }
            }
            elapsed = now_seconds() - start;
        }
        if (evaluations / elapsed > best) {
            best = evaluations / elapsed;
        }
    }
    printf("c: %.0f evaluations/s\n", best);
    spfgate_evaluator_free(ev);
    spfgate_request_free(req);
    spfgate_config_free(config);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--bench") == 0)) {
        fprintf(stderr, "usage: suite DATA [--bench SECONDS]\n");
        return 2;
    }
    load(argv[1]);
    int status = 0;
    if (argc == 4) {
        status = bench(atof(argv[3]));
    } else {
        size_t failed, restarted_failed;
        size_t passed = run(0, &failed);
        size_t restarted_passed = run(1, &restarted_failed);
        printf("restarted evaluator: %zu passed, %zu failed\n", restarted_passed, restarted_failed);
        printf("%zu passed, %zu failed\n", passed, failed);
        if (failed > 0 || restarted_failed > 0 || passed != 203 || restarted_passed != 203) {
            status = 1;
        }
    }
    unload();
    return status;
}
