/*
 * One policy and one whitelist shared by several threads without locking, as
 * the header allows; each thread makes its own decisions and evaluators.
 * Prints "threads: N decisions, 0 wrong".
 */
#define _POSIX_C_SOURCE 200809L

#include <spfgate.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 200
#define B(s) (const uint8_t *)(s), strlen(s)

static const char *POLICY =
    "{\"authserv_id\": \"mx.gateway.example\", \"accounts\": [\n"
    " {\"id\": \"acme\", \"senders\": [\"alice@acme.example\"], \"security\": {\"mode\": \"spf\"}},\n"
    " {\"id\": \"office\", \"senders\": [\"bob@office.example\"],\n"
    "  \"security\": {\"mode\": \"ip-whitelist\", \"whitelist\": \"192.0.2.0/24\"}}]}";

static spfgate_policy *policy;
static spfgate_whitelist *whitelist;

/* One decision; returns 1 when its action is `want`. */
static int decide(const char *ip, const char *from, spfgate_action want) {
    spfgate_request *req;
    spfgate_decision *d;
    spfgate_answer *answer;
    spfgate_step step;
    size_t count;
    spfgate_action action;
    int ok = 0;
    if (spfgate_request_new(&req) != SPFGATE_OK) {
        return 0;
    }
    spfgate_request_set_ip_text(req, B(ip));
    spfgate_request_set_mail_from(req, B(from));
    spfgate_request_set_helo(req, B("mail.acme.example"));
    if (spfgate_policy_decide(policy, req, NULL, &d) == SPFGATE_OK && spfgate_answer_new(&answer) == SPFGATE_OK) {
        spfgate_answer_add_txt(answer, B("v=spf1 ip4:198.51.100.0/24 -all"));
        while (spfgate_decision_poll(d, &step, &count) == SPFGATE_OK && step == SPFGATE_STEP_LOOKUPS) {
            for (size_t i = 0; i < count; i++) {
                spfgate_lookup l;
                spfgate_decision_lookup(d, i, &l);
                spfgate_decision_answer_records(d, l.id, answer);
            }
        }
        ok = spfgate_decision_action(d, &action) == SPFGATE_OK && action == want;
        spfgate_answer_free(answer);
        spfgate_decision_free(d);
    }
    spfgate_request_free(req);
    return ok;
}

static void *work(void *arg) {
    size_t *wrong = arg;
    for (int i = 0; i < ROUNDS; i++) {
        size_t entry;
        *wrong += !decide("198.51.100.7", "alice@acme.example", SPFGATE_ACTION_ACCEPT);
        *wrong += !decide("203.0.113.1", "alice@acme.example", SPFGATE_ACTION_REJECT);
        *wrong += !decide("192.0.2.9", "bob@office.example", SPFGATE_ACTION_ACCEPT);
        *wrong += spfgate_whitelist_match_text(whitelist, B("10.1.2.3"), &entry) != SPFGATE_OK;
    }
    return NULL;
}

int main(void) {
    if (spfgate_policy_from_json(B(POLICY), &policy, NULL) != SPFGATE_OK ||
        spfgate_whitelist_parse(B("10.0.0.0/8"), &whitelist) != SPFGATE_OK) {
        fprintf(stderr, "setup failed\n");
        return 2;
    }
    pthread_t threads[THREADS];
    size_t wrong[THREADS] = {0};
    for (int t = 0; t < THREADS; t++) {
        if (pthread_create(&threads[t], NULL, work, &wrong[t]) != 0) {
            return 2;
        }
    }
    size_t total = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        total += wrong[t];
    }
    spfgate_whitelist_free(whitelist);
    spfgate_policy_free(policy);
    printf("threads: %d decisions, %zu wrong\n", THREADS * ROUNDS * 3, total);
    return total == 0 ? 0 : 1;
}
