/*
 * Every status path of the C ABI, the version macros, and a use of each part
 * of the API (records, evaluator with typed and wire answers, policy
 * decisions, whitelists). Prints "status tests: N passed, M failed" and exits
 * non-zero on any failure.
 */
#include <spfgate.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
        }                                                                                          \
    } while (0)

#define IS(call, status) CHECK((call) == (status))
#define OK(call) IS(call, SPFGATE_OK)
#define B(s) (const uint8_t *)(s), strlen(s)

static int str_is(spfgate_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

static void version(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", SPFGATE_VERSION_MAJOR, SPFGATE_VERSION_MINOR,
             SPFGATE_VERSION_PATCH);
    CHECK(strcmp(spfgate_version(), want) == 0);
}

static void status_message(void) {
    char buf[128];
    size_t written = 12345;
    for (uint32_t s = 0; s <= SPFGATE_INVALID_POLICY; s++) {
        OK(spfgate_status_message(s, (uint8_t *)buf, sizeof buf, &written));
        CHECK(written > 0 && written == strlen(buf));
    }
    OK(spfgate_status_message(9999, (uint8_t *)buf, sizeof buf, &written));
    CHECK(strstr(buf, "unknown status 9999") != NULL);
    /* Too small: nothing written to buf, the size needed (NUL included) in written. */
    memset(buf, 'x', sizeof buf);
    IS(spfgate_status_message(SPFGATE_OK, (uint8_t *)buf, 3, &written), SPFGATE_BUFFER_TOO_SMALL);
    CHECK(written == strlen("success") + 1 && buf[0] == 'x');
    IS(spfgate_status_message(SPFGATE_OK, (uint8_t *)buf, 7, &written), SPFGATE_BUFFER_TOO_SMALL);
    OK(spfgate_status_message(SPFGATE_OK, (uint8_t *)buf, 8, &written));
    CHECK(strcmp(buf, "success") == 0 && written == 7);
    IS(spfgate_status_message(SPFGATE_OK, NULL, 8, &written), SPFGATE_NULL_PARAMETER);
    IS(spfgate_status_message(SPFGATE_OK, (uint8_t *)buf, sizeof buf, NULL), SPFGATE_NULL_PARAMETER);
    CHECK(spfgate_result_name(SPFGATE_RESULT_SOFTFAIL) != NULL &&
          strcmp(spfgate_result_name(SPFGATE_RESULT_SOFTFAIL), "softfail") == 0);
    CHECK(spfgate_result_name(77) == NULL);
    CHECK(strcmp(spfgate_action_name(SPFGATE_ACTION_DEFER), "defer") == 0);
    CHECK(spfgate_action_name(3) == NULL);
}

static void free_null(void) {
    spfgate_request_free(NULL);
    spfgate_config_free(NULL);
    spfgate_answer_free(NULL);
    spfgate_evaluator_free(NULL);
    spfgate_error_free(NULL);
    spfgate_record_free(NULL);
    spfgate_policy_free(NULL);
    spfgate_decision_free(NULL);
    spfgate_whitelist_free(NULL);
    CHECK(1);
}

static void request(void) {
    spfgate_request *req = NULL;
    IS(spfgate_request_new(NULL), SPFGATE_NULL_PARAMETER);
    OK(spfgate_request_new(&req));
    IS(spfgate_request_set_ip_text(NULL, B("192.0.2.1")), SPFGATE_NULL_PARAMETER);
    IS(spfgate_request_set_ip_text(req, NULL, 4), SPFGATE_NULL_PARAMETER);
    IS(spfgate_request_set_ip_text(req, B("192.0.2.256")), SPFGATE_INVALID_IP);
    IS(spfgate_request_set_ip_text(req, B("")), SPFGATE_INVALID_IP);
    IS(spfgate_request_set_ip_text(req, (const uint8_t *)"192.0.2.1\0x", 11), SPFGATE_INVALID_IP);
    IS(spfgate_request_set_ip_text(req, B("\xff\xfe")), SPFGATE_INVALID_UTF8);
    IS(spfgate_request_set_ip_bytes(req, (const uint8_t *)"\xc0\x00\x02\x01\x00", 5), SPFGATE_INVALID_IP);
    IS(spfgate_request_set_ip_bytes(req, NULL, 4), SPFGATE_NULL_PARAMETER);
    IS(spfgate_request_set_mail_from(req, (const uint8_t *)"a@b\0.example", 12), SPFGATE_EMBEDDED_NUL);
    IS(spfgate_request_set_mail_from(req, B("a@\xc3\x28.example")), SPFGATE_INVALID_UTF8);
    IS(spfgate_request_set_helo(req, (const uint8_t *)"mx\0", 3), SPFGATE_EMBEDDED_NUL);
    IS(spfgate_request_set_receiver(req, B("\x80")), SPFGATE_INVALID_UTF8);
    OK(spfgate_request_set_mail_from(req, NULL, 0)); /* the null sender */
    IS(spfgate_request_set_identity(req, 7), SPFGATE_INVALID_ARGUMENT);
    OK(spfgate_request_set_identity(req, SPFGATE_IDENTITY_HELO));
    IS(spfgate_request_set_now(NULL, 1), SPFGATE_NULL_PARAMETER);

    /* No IP yet: no evaluator. */
    spfgate_evaluator *ev = (spfgate_evaluator *)&ev;
    IS(spfgate_evaluator_new(req, NULL, &ev), SPFGATE_INVALID_ARGUMENT);
    CHECK(ev == (spfgate_evaluator *)&ev); /* outputs untouched on failure */
    IS(spfgate_evaluator_new(NULL, NULL, &ev), SPFGATE_NULL_PARAMETER);
    OK(spfgate_request_set_ip_bytes(req, (const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16));
    IS(spfgate_evaluator_new(req, NULL, NULL), SPFGATE_NULL_PARAMETER);
    spfgate_request_free(req);

    spfgate_config *config = NULL;
    spfgate_limits limits;
    OK(spfgate_config_new(&config));
    OK(spfgate_config_limits(config, &limits));
    CHECK(limits.dns_terms == 10 && limits.void_lookups == 2 && limits.mx_names == 10 &&
          limits.ptr_names == 10 && limits.max_queries == 160);
    limits.dns_terms = 3;
    OK(spfgate_config_set_limits(config, &limits));
    IS(spfgate_config_set_limits(config, NULL), SPFGATE_NULL_PARAMETER);
    OK(spfgate_config_limits(config, &limits));
    CHECK(limits.dns_terms == 3);
    IS(spfgate_config_set_default_explanation(config, B("\xff")), SPFGATE_INVALID_UTF8);
    OK(spfgate_config_set_default_explanation(config, B("see %{d}")));
    OK(spfgate_config_set_default_explanation(config, NULL, 0));
    IS(spfgate_config_set_void_counting(config, 2), SPFGATE_INVALID_ARGUMENT);
    OK(spfgate_config_set_void_counting(config, SPFGATE_VOID_COUNTING_PER_LOOKUP));
    OK(spfgate_config_set_void_counting(config, SPFGATE_VOID_COUNTING_PER_TERM));
    OK(spfgate_config_set_prefetch(config, false));
    OK(spfgate_config_set_trace(config, false));
    IS(spfgate_config_set_trace(NULL, false), SPFGATE_NULL_PARAMETER);
    spfgate_config_free(config);
}

/* A response with just the question, the given flags and no records: the
 * truncated reply of a server whose answer did not fit. */
static size_t question_only(const char *name, uint16_t qtype, uint8_t flags1, uint8_t flags2, uint8_t *out) {
    uint8_t header[12] = {0x12, 0x34, flags1, flags2, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(out, header, sizeof header);
    size_t n = sizeof header, start = 0, len = strlen(name);
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            out[n++] = (uint8_t)(i - start);
            memcpy(out + n, name + start, i - start);
            n += i - start;
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

static spfgate_evaluator *start(const char *ip, const char *from, spfgate_request **req_out) {
    spfgate_request *req;
    spfgate_evaluator *ev = NULL;
    OK(spfgate_request_new(&req));
    OK(spfgate_request_set_ip_text(req, B(ip)));
    OK(spfgate_request_set_mail_from(req, B(from)));
    OK(spfgate_request_set_helo(req, B("mx.example.org")));
    OK(spfgate_evaluator_new(req, NULL, &ev));
    if (req_out != NULL) {
        *req_out = req;
    } else {
        spfgate_request_free(req);
    }
    return ev;
}

static void evaluator(void) {
    spfgate_request *req;
    spfgate_evaluator *ev = start("192.0.2.10", "alice@example.com", &req);
    spfgate_step step;
    size_t count = 99;
    spfgate_result result;
    spfgate_str s;
    spfgate_lookup l;
    spfgate_answer *answer;
    OK(spfgate_answer_new(&answer));

    IS(spfgate_evaluator_result(ev, &result), SPFGATE_NOT_DONE);
    IS(spfgate_evaluator_reason(ev, &s), SPFGATE_NOT_DONE);
    IS(spfgate_evaluator_outcome_json(ev, &s), SPFGATE_NOT_DONE);
    IS(spfgate_evaluator_poll(ev, NULL, &count), SPFGATE_NULL_PARAMETER);
    IS(spfgate_evaluator_poll(ev, &step, NULL), SPFGATE_NULL_PARAMETER);
    IS(spfgate_evaluator_poll(NULL, &step, &count), SPFGATE_NULL_PARAMETER);
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_LOOKUPS && count == 1);
    IS(spfgate_evaluator_lookup(ev, 1, &l), SPFGATE_INVALID_ARGUMENT);
    IS(spfgate_evaluator_lookup(ev, 0, NULL), SPFGATE_NULL_PARAMETER);
    OK(spfgate_evaluator_lookup(ev, 0, &l));
    CHECK(l.qtype == 16 && l.name_len == 11 && strcmp(l.name, "example.com") == 0);

    /* Nothing answered: pending. */
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_PENDING && count == 0);
    IS(spfgate_evaluator_answer_nxdomain(ev, l.id + 100), SPFGATE_UNKNOWN_ID);
    IS(spfgate_evaluator_answer_records(ev, l.id, NULL), SPFGATE_NULL_PARAMETER);
    IS(spfgate_evaluator_answer_wire(ev, l.id, NULL, 10), SPFGATE_NULL_PARAMETER);

    /* A truncated response is refused and the lookup stays open. */
    uint8_t msg[300];
    size_t len = question_only("example.com", 16, 0x83, 0x80, msg);
    IS(spfgate_evaluator_answer_wire(ev, l.id, msg, len), SPFGATE_TRUNCATED);

    OK(spfgate_answer_add_txt(answer, B("v=spf1 mx a:%{d}.a.example -all")));
    IS(spfgate_answer_add_txt(NULL, B("x")), SPFGATE_NULL_PARAMETER);
    OK(spfgate_evaluator_answer_records(ev, l.id, answer));
    IS(spfgate_evaluator_answer_records(ev, l.id, answer), SPFGATE_ALREADY_ANSWERED);
    len = question_only("example.com", 16, 0x81, 0x83, msg); /* NXDOMAIN */
    IS(spfgate_evaluator_answer_wire(ev, l.id, msg, len), SPFGATE_ALREADY_ANSWERED);

    /* mx: the MX lookup, then the exchange's address. */
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_LOOKUPS && count >= 1);
    for (size_t i = 0; i < count; i++) {
        OK(spfgate_evaluator_lookup(ev, i, &l));
        OK(spfgate_answer_clear(answer));
        if (l.qtype == 15) {
            OK(spfgate_answer_add_mx(answer, 10, B("mail.example.com.")));
            IS(spfgate_answer_add_mx(answer, 10, (const uint8_t *)"a\0b", 3), SPFGATE_EMBEDDED_NUL);
            OK(spfgate_evaluator_answer_records(ev, l.id, answer));
        } else {
            /* A garbage message is a temporary failure for SPF, not a status. */
            OK(spfgate_evaluator_answer_wire(ev, l.id, (const uint8_t *)"\x01\x02garbage", 9));
        }
    }
    for (;;) {
        OK(spfgate_evaluator_poll(ev, &step, &count));
        if (step != SPFGATE_STEP_LOOKUPS) {
            break;
        }
        for (size_t i = 0; i < count; i++) {
            OK(spfgate_evaluator_lookup(ev, i, &l));
            OK(spfgate_answer_clear(answer));
            if (l.qtype == 1 && strcmp(l.name, "mail.example.com") == 0) {
                OK(spfgate_answer_add_a(answer, (const uint8_t *)"\xc0\x00\x02\x0a"));
                OK(spfgate_evaluator_answer_records(ev, l.id, answer));
            } else if (l.qtype == 28) {
                OK(spfgate_answer_add_aaaa(answer, (const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1"));
                OK(spfgate_evaluator_answer_records(ev, l.id, answer));
            } else {
                OK(spfgate_evaluator_answer_tempfail(ev, l.id, B("timeout")));
            }
        }
    }
    CHECK(step == SPFGATE_STEP_DONE);
    OK(spfgate_evaluator_result(ev, &result));
    CHECK(result == SPFGATE_RESULT_PASS);
    OK(spfgate_evaluator_mechanism(ev, &s));
    CHECK(str_is(s, "mx"));
    OK(spfgate_evaluator_domain(ev, &s));
    CHECK(str_is(s, "example.com"));
    IS(spfgate_evaluator_explanation(ev, &s), SPFGATE_ABSENT);
    IS(spfgate_evaluator_problem(ev, &s), SPFGATE_ABSENT);
    OK(spfgate_evaluator_reason(ev, &s));
    CHECK(str_is(s, "matched mx in the record of example.com"));
    spfgate_counts counts;
    OK(spfgate_evaluator_counts(ev, &counts));
    CHECK(counts.dns_terms == 1 && counts.queries >= 3 && counts.round_trips >= 2);
    size_t events;
    OK(spfgate_evaluator_trace_len(ev, &events));
    CHECK(events > 0);
    OK(spfgate_evaluator_trace_event(ev, 0, &s));
    CHECK(s.len > 0 && memcmp(s.data, "query ", 6) == 0);
    IS(spfgate_evaluator_trace_event(ev, events, &s), SPFGATE_INVALID_ARGUMENT);
    OK(spfgate_evaluator_outcome_json(ev, &s));
    CHECK(s.len > 20 && memcmp(s.data, "{\"result\":\"pass\"", 16) == 0);

    /* Polling after done: done again, same result. */
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_DONE && count == 0);
    OK(spfgate_evaluator_result(ev, &result));
    CHECK(result == SPFGATE_RESULT_PASS);

    /* Restart: the old ids are unknown; a fail with a record's problem-free -all. */
    uint32_t old = l.id;
    OK(spfgate_request_set_ip_text(req, B("198.51.100.1")));
    OK(spfgate_evaluator_restart(ev, req));
    IS(spfgate_evaluator_restart(ev, NULL), SPFGATE_NULL_PARAMETER);
    IS(spfgate_evaluator_answer_nxdomain(ev, old), SPFGATE_UNKNOWN_ID);
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_LOOKUPS && count == 1);
    OK(spfgate_evaluator_lookup(ev, 0, &l));
    OK(spfgate_answer_clear(answer));
    OK(spfgate_answer_add_txt(answer, B("v=spf1 -all")));
    OK(spfgate_evaluator_answer_records(ev, l.id, answer));
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_DONE);
    OK(spfgate_evaluator_result(ev, &result));
    CHECK(result == SPFGATE_RESULT_FAIL);
    OK(spfgate_evaluator_mechanism(ev, &s));
    CHECK(str_is(s, "-all"));

    /* Restart into a malformed domain: done at once, none, with a problem. */
    OK(spfgate_request_set_mail_from(req, B("alice@example..com")));
    OK(spfgate_evaluator_restart(ev, req));
    OK(spfgate_evaluator_poll(ev, &step, &count));
    CHECK(step == SPFGATE_STEP_DONE);
    OK(spfgate_evaluator_result(ev, &result));
    CHECK(result == SPFGATE_RESULT_NONE);
    OK(spfgate_evaluator_problem(ev, &s));
    CHECK(s.len > 0);
    IS(spfgate_evaluator_mechanism(ev, &s), SPFGATE_ABSENT);

    spfgate_answer_free(answer);
    spfgate_evaluator_free(ev);
    spfgate_request_free(req);

    /* A PTR answer through the builder: v=spf1 ptr -all. */
    ev = start("192.0.2.3", "bob@example.net", NULL);
    OK(spfgate_answer_new(&answer));
    for (;;) {
        OK(spfgate_evaluator_poll(ev, &step, &count));
        if (step != SPFGATE_STEP_LOOKUPS) {
            break;
        }
        for (size_t i = 0; i < count; i++) {
            OK(spfgate_evaluator_lookup(ev, i, &l));
            OK(spfgate_answer_clear(answer));
            if (l.qtype == 16) {
                OK(spfgate_answer_add_txt(answer, B("v=spf1 ptr -all")));
            } else if (l.qtype == 12) {
                IS(spfgate_answer_add_ptr(answer, B("\xff")), SPFGATE_INVALID_UTF8);
                OK(spfgate_answer_add_ptr(answer, B("host.example.net.")));
            } else if (l.qtype == 1) {
                OK(spfgate_answer_add_a(answer, (const uint8_t *)"\xc0\x00\x02\x03"));
            }
            OK(spfgate_evaluator_answer_records(ev, l.id, answer));
        }
    }
    OK(spfgate_evaluator_result(ev, &result));
    CHECK(result == SPFGATE_RESULT_PASS);
    spfgate_answer_free(answer);
    spfgate_evaluator_free(ev);
}

static void record(void) {
    spfgate_error *err = NULL;
    spfgate_record *rec = NULL;
    spfgate_str s;
    size_t n;
    OK(spfgate_record_validate(B("v=spf1 ip4:192.0.2.0/24 -all"), NULL));
    OK(spfgate_record_validate(B("v=spf1 -all"), &err));
    CHECK(err == NULL);
    IS(spfgate_record_validate(NULL, 3, NULL), SPFGATE_NULL_PARAMETER);
    IS(spfgate_record_validate(B("v=spf1 ip4:192.0.2.0/33 -all"), &err), SPFGATE_INVALID_RECORD);
    CHECK(err != NULL);
    OK(spfgate_error_message(err, &s));
    CHECK(s.len > 0 && memchr(s.data, '3', s.len) != NULL);
    OK(spfgate_error_offset(err, &n));
    CHECK(n > 6 && n < 28);
    OK(spfgate_error_length(err, &n));
    CHECK(n > 0);
    IS(spfgate_error_line(err, &n), SPFGATE_ABSENT);
    IS(spfgate_error_message(err, NULL), SPFGATE_NULL_PARAMETER);
    spfgate_error_free(err);
    err = NULL;
    /* Embedded NULs and invalid UTF-8 are parse errors, not crashes. */
    IS(spfgate_record_validate((const uint8_t *)"v=spf1 \0all", 11, &err), SPFGATE_INVALID_RECORD);
    OK(spfgate_error_offset(err, &n));
    CHECK(n == 7);
    spfgate_error_free(err);
    IS(spfgate_record_validate(B("v=spf1 a:\xff\xfe.example"), NULL), SPFGATE_INVALID_RECORD);
    IS(spfgate_record_validate(B(""), NULL), SPFGATE_INVALID_RECORD);
    IS(spfgate_record_parse(B("v=spf1 -all"), NULL, NULL), SPFGATE_NULL_PARAMETER);
    OK(spfgate_record_parse(B("v=spf1 +MX:Example.COM -all"), &rec, NULL));
    OK(spfgate_record_text(rec, &s));
    CHECK(s.len > 0 && memcmp(s.data, "v=spf1 ", 7) == 0);
    OK(spfgate_record_json(rec, &s));
    CHECK(s.len > 2 && s.data[0] == '{' && memchr(s.data, 'm', s.len) != NULL);
    IS(spfgate_record_json(rec, NULL), SPFGATE_NULL_PARAMETER);
    spfgate_record_free(rec);
    rec = NULL;
    IS(spfgate_record_parse(B("v=spf2"), &rec, NULL), SPFGATE_INVALID_RECORD);
    CHECK(rec == NULL);
}

static const char *POLICY =
    "{\"authserv_id\": \"mx.gateway.example\", \"accounts\": [\n"
    " {\"id\": \"acme\", \"senders\": [\"alice@acme.example\"], \"security\": {\"mode\": \"spf\"}},\n"
    " {\"id\": \"office\", \"senders\": [\"bob@office.example\"],\n"
    "  \"security\": {\"mode\": \"ip-whitelist\", \"whitelist\": \"192.0.2.0/24\"}}]}";

static spfgate_decision *decide(const spfgate_policy *policy, const char *ip, const char *from) {
    spfgate_request *req;
    spfgate_decision *d = NULL;
    OK(spfgate_request_new(&req));
    OK(spfgate_request_set_ip_text(req, B(ip)));
    OK(spfgate_request_set_mail_from(req, B(from)));
    OK(spfgate_request_set_helo(req, B("mail.acme.example")));
    OK(spfgate_request_set_receiver(req, B("mx.gateway.example")));
    OK(spfgate_policy_decide(policy, req, NULL, &d));
    spfgate_request_free(req);
    return d;
}

static void policy(void) {
    spfgate_policy *p = NULL;
    spfgate_error *err = NULL;
    size_t n;
    spfgate_str s;
    IS(spfgate_policy_from_json(B("{\"accounts\": [\n  {\"id\": 5}]}"), &p, &err), SPFGATE_INVALID_POLICY);
    CHECK(p == NULL && err != NULL);
    OK(spfgate_error_line(err, &n));
    CHECK(n == 2);
    OK(spfgate_error_column(err, &n));
    CHECK(n > 0);
    OK(spfgate_error_message(err, &s));
    CHECK(s.len > 0);
    spfgate_error_free(err);
    IS(spfgate_policy_from_json(B("{\xff}"), &p, NULL), SPFGATE_INVALID_UTF8);
    IS(spfgate_policy_from_json(B("{}"), NULL, NULL), SPFGATE_NULL_PARAMETER);
    IS(spfgate_policy_from_toml(B("accounts = ["), &p, NULL), SPFGATE_INVALID_POLICY);
    OK(spfgate_policy_from_toml(B("authserv_id = \"gw\"\n[[accounts]]\nid = \"a\"\nsenders = [\"x@a.example\"]\n"
                                  "[accounts.security]\nmode = \"open\"\n"), &p, NULL));
    spfgate_policy_free(p);
    OK(spfgate_policy_from_json(B(POLICY), &p, NULL));

    spfgate_step step;
    size_t count;
    spfgate_action action;
    uint16_t code;
    spfgate_result result;

    /* An unknown sender: decided at once, no lookups. */
    spfgate_decision *d = decide(p, "192.0.2.7", "eve@elsewhere.example");
    OK(spfgate_decision_poll(d, &step, &count));
    CHECK(step == SPFGATE_STEP_DONE);
    OK(spfgate_decision_action(d, &action));
    CHECK(action == SPFGATE_ACTION_REJECT);
    OK(spfgate_decision_smtp_code(d, &code));
    CHECK(code == 550);
    IS(spfgate_decision_account(d, &s), SPFGATE_ABSENT);
    IS(spfgate_decision_spf_result(d, &result), SPFGATE_ABSENT);
    IS(spfgate_decision_received_spf(d, &s), SPFGATE_ABSENT);
    OK(spfgate_decision_rule_kind(d, &s));
    CHECK(str_is(s, "unknown-sender"));
    spfgate_decision_free(d);

    /* The whitelist account. */
    d = decide(p, "192.0.2.7", "bob@office.example");
    OK(spfgate_decision_poll(d, &step, &count));
    OK(spfgate_decision_action(d, &action));
    CHECK(step == SPFGATE_STEP_DONE && action == SPFGATE_ACTION_ACCEPT);
    OK(spfgate_decision_rule(d, &s));
    CHECK(s.len > 0);
    spfgate_decision_free(d);

    /* SPF: pass from a typed answer, then defer on a temporary failure. */
    for (int round = 0; round < 2; round++) {
        d = decide(p, "192.0.2.7", "alice@acme.example");
        IS(spfgate_decision_action(d, &action), SPFGATE_NOT_DONE);
        IS(spfgate_decision_received_spf(d, &s), SPFGATE_NOT_DONE);
        spfgate_answer *answer;
        OK(spfgate_answer_new(&answer));
        OK(spfgate_answer_add_txt(answer, B("v=spf1 ip4:192.0.2.0/24 -all")));
        for (;;) {
            OK(spfgate_decision_poll(d, &step, &count));
            if (step != SPFGATE_STEP_LOOKUPS) {
                break;
            }
            spfgate_lookup l;
            IS(spfgate_decision_lookup(d, count, &l), SPFGATE_INVALID_ARGUMENT);
            for (size_t i = 0; i < count; i++) {
                OK(spfgate_decision_lookup(d, i, &l));
                if (round == 0) {
                    OK(spfgate_decision_answer_records(d, l.id, answer));
                    IS(spfgate_decision_answer_nxdomain(d, l.id), SPFGATE_ALREADY_ANSWERED);
                } else {
                    OK(spfgate_decision_answer_tempfail(d, l.id, NULL, 0));
                }
            }
            IS(spfgate_decision_answer_wire(d, 4242, (const uint8_t *)"", 0), SPFGATE_UNKNOWN_ID);
        }
        spfgate_answer_free(answer);
        CHECK(step == SPFGATE_STEP_DONE);
        OK(spfgate_decision_action(d, &action));
        OK(spfgate_decision_smtp_code(d, &code));
        OK(spfgate_decision_spf_result(d, &result));
        OK(spfgate_decision_smtp_enhanced(d, &s));
        if (round == 0) {
            CHECK(action == SPFGATE_ACTION_ACCEPT && code == 250 && result == SPFGATE_RESULT_PASS);
            OK(spfgate_decision_received_spf(d, &s));
            CHECK(s.len > 4 && memcmp(s.data, "pass", 4) == 0);
            OK(spfgate_decision_authentication_results(d, &s));
            CHECK(s.len > 0);
            OK(spfgate_decision_account(d, &s));
            CHECK(str_is(s, "acme"));
            OK(spfgate_decision_verdict_json(d, &s));
            CHECK(s.len > 20 && memcmp(s.data, "{\"action\":\"accept\"", 18) == 0);
        } else {
            CHECK(action == SPFGATE_ACTION_DEFER && code == 451 && result == SPFGATE_RESULT_TEMPERROR);
            CHECK(str_is(s, "4.7.24"));
            OK(spfgate_decision_smtp_text(d, &s));
            CHECK(s.len > 0);
        }
        spfgate_decision_free(d);
    }
    /* Decisions outlive nothing: the policy is freed last here, but need not be. */
    d = decide(p, "192.0.2.7", "");
    spfgate_policy_free(p);
    OK(spfgate_decision_poll(d, &step, &count));
    OK(spfgate_decision_rule_kind(d, &s));
    CHECK(str_is(s, "null-sender"));
    spfgate_decision_free(d);
}

static void whitelist(void) {
    spfgate_whitelist *w = NULL;
    size_t n, entry;
    spfgate_whitelist_item item;
    IS(spfgate_whitelist_parse(B("\xff"), &w), SPFGATE_INVALID_UTF8);
    IS(spfgate_whitelist_parse(B("192.0.2.1"), NULL), SPFGATE_NULL_PARAMETER);
    OK(spfgate_whitelist_parse(B("192.0.2.0/24 # office\n2001:db8::/32, bogus\n10.0.0.0/33"), &w));
    OK(spfgate_whitelist_count(w, SPFGATE_WHITELIST_ENTRIES, &n));
    CHECK(n == 2);
    OK(spfgate_whitelist_count(w, SPFGATE_WHITELIST_ERRORS, &n));
    CHECK(n == 2);
    OK(spfgate_whitelist_count(w, SPFGATE_WHITELIST_WARNINGS, &n));
    IS(spfgate_whitelist_count(w, 3, &n), SPFGATE_INVALID_ARGUMENT);
    OK(spfgate_whitelist_item_at(w, SPFGATE_WHITELIST_ERRORS, 0, &item));
    CHECK(str_is(item.text, "bogus") && item.line == 2 && item.column == 16 && item.message.len > 0);
    OK(spfgate_whitelist_item_at(w, SPFGATE_WHITELIST_ERRORS, 1, &item));
    CHECK(item.line == 3 && item.column == 1);
    IS(spfgate_whitelist_item_at(w, SPFGATE_WHITELIST_ERRORS, 2, &item), SPFGATE_INVALID_ARGUMENT);
    OK(spfgate_whitelist_item_at(w, SPFGATE_WHITELIST_ENTRIES, 1, &item));
    CHECK(str_is(item.text, "2001:db8::/32") && item.line == 2 && item.offset == 22);
    OK(spfgate_whitelist_match_text(w, B("192.0.2.99"), &entry));
    CHECK(entry == 0);
    OK(spfgate_whitelist_match_text(w, B("::ffff:192.0.2.99"), &entry));
    CHECK(entry == 0);
    OK(spfgate_whitelist_match_bytes(w, (const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16, &entry));
    CHECK(entry == 1);
    IS(spfgate_whitelist_match_text(w, B("198.51.100.1"), &entry), SPFGATE_ABSENT);
    IS(spfgate_whitelist_match_text(w, B("not-an-ip"), &entry), SPFGATE_INVALID_IP);
    IS(spfgate_whitelist_match_bytes(w, (const uint8_t *)"\1\2\3", 3, &entry), SPFGATE_INVALID_IP);
    IS(spfgate_whitelist_match_text(w, B("192.0.2.1"), NULL), SPFGATE_NULL_PARAMETER);
    spfgate_str s;
    OK(spfgate_whitelist_json(w, &s));
    CHECK(s.len > 10 && s.data[0] == '{');
    spfgate_whitelist_free(w);
}

int main(void) {
    version();
    status_message();
    free_null();
    request();
    evaluator();
    record();
    policy();
    whitelist();
    printf("status tests: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
