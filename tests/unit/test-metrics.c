/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: Prometheus metrics and their text exposition (common/metrics.c). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"
#include "cleanup.h"
#include "metrics.h"

#define DROPPED(n)                                                                                     \
        "# HELP sentinel_metrics_dropped_total Observations dropped because their metric already had " \
        "10000 label sets\n"                                                                           \
        "# TYPE sentinel_metrics_dropped_total counter\n"                                              \
        "sentinel_metrics_dropped_total " #n "\n"

/* The registry renders exactly want. */
static void check_render(const char *what, MetricsRegistry *r, const char *want)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        CHECK(metrics_render(r, &text, &len) == 0, "%s: render", what);
        if (!text)
                return;
        CHECK(len == strlen(text), "%s: length %zu for %zu", what, len, strlen(text));
        CHECK(strcmp(text, want) == 0, "%s:\n--- got\n%s--- want\n%s---", what, text, want);
}

static void test_counter(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *c = NULL, *plain = NULL;
        const char *labels[] = {"route", "status", NULL};
        CHECK(metrics_counter_new(r, "test_requests_total", "Requests by route", labels, &c) == 0, "new");
        CHECK(metrics_counter_new(r, "test_plain_total", "No labels", NULL, &plain) == 0, "new plain");

        /* Before any use: the labelled family has no children, the plain one is at zero. */
        check_render("empty", r,
                "# HELP test_requests_total Requests by route\n"
                "# TYPE test_requests_total counter\n"
                "# HELP test_plain_total No labels\n"
                "# TYPE test_plain_total counter\n"
                "test_plain_total 0\n" DROPPED(0));

        CHECK(metrics_counter_add(c, 1, (const char *[]){"/a", "200"}) == 0, "add");
        CHECK(metrics_counter_add(c, 2, (const char *[]){"/b", "500"}) == 0, "add");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"/a", "200"}) == 0, "add");
        CHECK(metrics_counter_add(c, 0.5, (const char *[]){"/a", "200"}) == 0, "add");
        CHECK(metrics_counter_add(c, 0, (const char *[]){"/a", "404"}) == 0, "add 0 makes the child");
        /* ("/a", "b") and ("/ab", "") are different label sets. */
        CHECK(metrics_counter_add(c, 1, (const char *[]){"/a", "b"}) == 0, "add");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"/ab", ""}) == 0, "add");
        CHECK(metrics_counter_add(plain, 7, NULL) == 0, "add plain");
        check_render("counter", r,
                "# HELP test_requests_total Requests by route\n"
                "# TYPE test_requests_total counter\n"
                "test_requests_total{route=\"/a\",status=\"200\"} 2.5\n"
                "test_requests_total{route=\"/b\",status=\"500\"} 2\n"
                "test_requests_total{route=\"/a\",status=\"404\"} 0\n"
                "test_requests_total{route=\"/a\",status=\"b\"} 1\n"
                "test_requests_total{route=\"/ab\",status=\"\"} 1\n"
                "# HELP test_plain_total No labels\n"
                "# TYPE test_plain_total counter\n"
                "test_plain_total 7\n" DROPPED(0));

        /* Refused, and nothing changed. */
        CHECK(metrics_counter_add(c, -1, (const char *[]){"/a", "200"}) == -EINVAL, "negative");
        CHECK(metrics_counter_add(c, NAN, (const char *[]){"/a", "200"}) == -EINVAL, "NaN");
        CHECK(metrics_counter_add(c, INFINITY, (const char *[]){"/a", "200"}) == -EINVAL, "Inf");
        CHECK(metrics_counter_add(c, 1, NULL) == -EINVAL, "no label values");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"/a", NULL}) == -EINVAL, "NULL label value");
        CHECK(metrics_counter_add(NULL, 1, NULL) == -EINVAL, "NULL metric");
        CHECK(metrics_gauge_add(plain, 1, NULL) == -EINVAL, "gauge op on a counter");
        CHECK(metrics_gauge_set(plain, 1, NULL) == -EINVAL, "gauge set on a counter");
        CHECK(metrics_histogram_observe(plain, 1, NULL) == -EINVAL, "observe on a counter");
        CHECK(metrics_counter_add(plain, 1e308, NULL) == 0, "large");
        CHECK(metrics_counter_add(plain, 1e308, NULL) == -ERANGE, "overflow to Inf");
        check_render("after refusals", r,
                "# HELP test_requests_total Requests by route\n"
                "# TYPE test_requests_total counter\n"
                "test_requests_total{route=\"/a\",status=\"200\"} 2.5\n"
                "test_requests_total{route=\"/b\",status=\"500\"} 2\n"
                "test_requests_total{route=\"/a\",status=\"404\"} 0\n"
                "test_requests_total{route=\"/a\",status=\"b\"} 1\n"
                "test_requests_total{route=\"/ab\",status=\"\"} 1\n"
                "# HELP test_plain_total No labels\n"
                "# TYPE test_plain_total counter\n"
                "test_plain_total 1e+308\n" DROPPED(0));
}

static void test_gauge_numbers(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *g = NULL;
        CHECK(metrics_gauge_new(r, "test_active", "Jobs running now", NULL, &g) == 0, "new");
        CHECK(metrics_gauge_add(g, 3, NULL) == 0 && metrics_gauge_add(g, -1, NULL) == 0, "add");
        check_render("gauge", r,
                "# HELP test_active Jobs running now\n"
                "# TYPE test_active gauge\n"
                "test_active 2\n" DROPPED(0));

        static const struct {
                double v;
                const char *text;
        } numbers[] = {
                {0, "0"},
                {-0.0, "0"},
                {-1.5, "-1.5"},
                {0.1, "0.1"},
                {1.0 / 3, "0.3333333333333333"},
                {0.30000000000000004, "0.30000000000000004"},
                {-42, "-42"},
                {9007199254740992.0, "9007199254740992"},
                {1e20, "1e+20"},
                {1e-7, "1e-07"},
                {123456.789, "123456.789"},
                {-1e308, "-1e+308"},
        };
        for (size_t i = 0; i < ELEMENTSOF(numbers); i++) {
                CHECK(metrics_gauge_set(g, numbers[i].v, NULL) == 0, "set %g", numbers[i].v);
                _cleanup_free_ char *want = NULL;
                if (asprintf(&want,
                            "# HELP test_active Jobs running now\n"
                            "# TYPE test_active gauge\n"
                            "test_active %s\n" DROPPED(0),
                            numbers[i].text) < 0)
                        continue;
                check_render(numbers[i].text, r, want);
        }
        CHECK(metrics_gauge_set(g, NAN, NULL) == -EINVAL, "NaN");
        CHECK(metrics_gauge_set(g, -INFINITY, NULL) == -EINVAL, "-Inf");
        CHECK(metrics_gauge_add(g, -1e308, NULL) == -ERANGE, "overflow to -Inf");
        CHECK(metrics_counter_add(g, 1, NULL) == -EINVAL, "counter op on a gauge");
}

static void test_histogram(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *h = NULL;
        const char *labels[] = {"lang", NULL};
        static const double bounds[] = {0.125, 0.5, 1};
        CHECK(metrics_histogram_new(r, "test_seconds", "Run time", labels, bounds, ELEMENTSOF(bounds), &h) ==
                        0,
                "new");
        /* 0.125 equals a bound: it counts in that bucket. 2 is above every bound: only in +Inf. */
        const char *c[] = {"c"}, *py[] = {"python3"};
        CHECK(metrics_histogram_observe(h, 0.125, c) == 0, "observe");
        CHECK(metrics_histogram_observe(h, 0.25, c) == 0, "observe");
        CHECK(metrics_histogram_observe(h, 2, c) == 0, "observe");
        CHECK(metrics_histogram_observe(h, 0.0625, c) == 0, "observe");
        CHECK(metrics_histogram_observe(h, 1, py) == 0, "observe");
        CHECK(metrics_histogram_observe(h, -1, py) == 0, "observe negative");
        CHECK(metrics_histogram_observe(h, NAN, py) == -EINVAL, "NaN");
        CHECK(metrics_histogram_observe(h, INFINITY, py) == -EINVAL, "Inf");
        CHECK(metrics_counter_add(h, 1, py) == -EINVAL, "counter op on a histogram");
        check_render("histogram", r,
                "# HELP test_seconds Run time\n"
                "# TYPE test_seconds histogram\n"
                "test_seconds_bucket{lang=\"c\",le=\"0.125\"} 2\n"
                "test_seconds_bucket{lang=\"c\",le=\"0.5\"} 3\n"
                "test_seconds_bucket{lang=\"c\",le=\"1\"} 3\n"
                "test_seconds_bucket{lang=\"c\",le=\"+Inf\"} 4\n"
                "test_seconds_sum{lang=\"c\"} 2.4375\n"
                "test_seconds_count{lang=\"c\"} 4\n"
                "test_seconds_bucket{lang=\"python3\",le=\"0.125\"} 1\n"
                "test_seconds_bucket{lang=\"python3\",le=\"0.5\"} 1\n"
                "test_seconds_bucket{lang=\"python3\",le=\"1\"} 2\n"
                "test_seconds_bucket{lang=\"python3\",le=\"+Inf\"} 2\n"
                "test_seconds_sum{lang=\"python3\"} 0\n"
                "test_seconds_count{lang=\"python3\"} 2\n" DROPPED(0));

        /* The default buckets, no labels, and a trailing +Inf bound that is dropped. */
        _cleanup_(metrics_registry_freep) MetricsRegistry *d = metrics_registry_new();
        Metric *w = NULL, *inf = NULL;
        CHECK(metrics_histogram_new(
                      d, "test_wait_seconds", "Queue wait", (const char *[]){NULL}, NULL, 0, &w) == 0,
                "default buckets");
        CHECK(metrics_histogram_new(
                      d, "test_inf", "Explicit +Inf", NULL, (const double[]){1, INFINITY}, 2, &inf) == 0,
                "explicit +Inf");
        CHECK(metrics_histogram_observe(w, 0.0025, NULL) == 0 &&
                        metrics_histogram_observe(w, 0.003, NULL) == 0,
                "observe");
        CHECK(metrics_histogram_observe(w, 10, NULL) == 0 && metrics_histogram_observe(w, 11, NULL) == 0,
                "observe");
        CHECK(metrics_histogram_observe(inf, 5, NULL) == 0, "observe");
        check_render("default buckets", d,
                "# HELP test_wait_seconds Queue wait\n"
                "# TYPE test_wait_seconds histogram\n"
                "test_wait_seconds_bucket{le=\"0.001\"} 0\n"
                "test_wait_seconds_bucket{le=\"0.0025\"} 1\n"
                "test_wait_seconds_bucket{le=\"0.005\"} 2\n"
                "test_wait_seconds_bucket{le=\"0.01\"} 2\n"
                "test_wait_seconds_bucket{le=\"0.025\"} 2\n"
                "test_wait_seconds_bucket{le=\"0.05\"} 2\n"
                "test_wait_seconds_bucket{le=\"0.1\"} 2\n"
                "test_wait_seconds_bucket{le=\"0.25\"} 2\n"
                "test_wait_seconds_bucket{le=\"0.5\"} 2\n"
                "test_wait_seconds_bucket{le=\"1\"} 2\n"
                "test_wait_seconds_bucket{le=\"2.5\"} 2\n"
                "test_wait_seconds_bucket{le=\"5\"} 2\n"
                "test_wait_seconds_bucket{le=\"10\"} 3\n"
                "test_wait_seconds_bucket{le=\"+Inf\"} 4\n"
                "test_wait_seconds_sum 21.005499999999998\n"
                "test_wait_seconds_count 4\n"
                "# HELP test_inf Explicit +Inf\n"
                "# TYPE test_inf histogram\n"
                "test_inf_bucket{le=\"1\"} 0\n"
                "test_inf_bucket{le=\"+Inf\"} 1\n"
                "test_inf_sum 5\n"
                "test_inf_count 1\n" DROPPED(0));
}

static void test_escaping(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *c = NULL;
        CHECK(metrics_counter_new(r, "test_total", "Help with \\ backslash,\nnewline and \"quotes\"",
                      (const char *[]){"v", NULL}, &c) == 0,
                "new");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"a\\b\"c\nd"}) == 0, "escapes");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"bad \xFF utf-8 \xC0\xAF"}) == 0, "invalid UTF-8");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"caf\xC3\xA9 \xE2\x9C\x93"}) == 0, "valid UTF-8");

        /* Values longer than METRICS_LABEL_VALUE_MAX are cut, so these two are one label set. */
        char longer[300], other[300];
        memset(longer, 'x', sizeof longer - 1);
        longer[sizeof longer - 1] = '\0';
        memcpy(other, longer, sizeof other);
        other[200] = 'y';
        CHECK(metrics_counter_add(c, 1, (const char *[]){longer}) == 0, "long");
        CHECK(metrics_counter_add(c, 1, (const char *[]){other}) == 0, "long");
        /* Cut at a character boundary: 127 bytes of x then a 2-byte character does not fit. */
        char multi[200];
        memset(multi, 'x', 127);
        strcpy(multi + 127, "\xC3\xA9zzz");
        CHECK(metrics_counter_add(c, 1, (const char *[]){multi}) == 0, "long multibyte");

        char x128[METRICS_LABEL_VALUE_MAX + 1], x127[METRICS_LABEL_VALUE_MAX];
        memset(x128, 'x', sizeof x128 - 1);
        x128[sizeof x128 - 1] = '\0';
        memset(x127, 'x', sizeof x127 - 1);
        x127[sizeof x127 - 1] = '\0';
        _cleanup_free_ char *want = NULL;
        CHECK(asprintf(&want,
                      "# HELP test_total Help with \\\\ backslash,\\nnewline and \"quotes\"\n"
                      "# TYPE test_total counter\n"
                      "test_total{v=\"a\\\\b\\\"c\\nd\"} 1\n"
                      "test_total{v=\"bad \xEF\xBF\xBD utf-8 \xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n"
                      "test_total{v=\"caf\xC3\xA9 \xE2\x9C\x93\"} 1\n"
                      "test_total{v=\"%s\"} 2\n"
                      "test_total{v=\"%s\"} 1\n" DROPPED(0),
                      x128, x127) >= 0,
                "asprintf");
        if (want)
                check_render("escaping", r, want);
}

static void test_bad_names(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *m = NULL;
        static const char *const bad_names[] = {"", "1abc", "a-b", "a b", "caf\xC3\xA9", "a.b", "a\nb"};
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++)
                CHECK(metrics_counter_new(r, bad_names[i], "h", NULL, &m) == -EINVAL, "metric name \"%s\"",
                        bad_names[i]);
        CHECK(metrics_counter_new(r, NULL, "h", NULL, &m) == -EINVAL, "NULL name");
        CHECK(metrics_counter_new(r, "ok", NULL, NULL, &m) == -EINVAL, "NULL help");
        static const char *const good_names[] = {"a:b", "_x", "abc123", "A_Z:9", ":colon"};
        for (size_t i = 0; i < ELEMENTSOF(good_names); i++)
                CHECK(metrics_gauge_new(r, good_names[i], "h", NULL, &m) == 0, "metric name \"%s\"",
                        good_names[i]);

        static const char *const bad_labels[] = {"", "a:b", "__x", "__", "1a", "a-b", "a b"};
        for (size_t i = 0; i < ELEMENTSOF(bad_labels); i++)
                CHECK(metrics_counter_new(r, "test_l_total", "h",
                              (const char *[]){"ok", bad_labels[i], NULL}, &m) == -EINVAL,
                        "label name \"%s\"", bad_labels[i]);
        CHECK(metrics_counter_new(r, "test_l_total", "h", (const char *[]){"a", "a", NULL}, &m) == -EINVAL,
                "duplicate label");
        CHECK(metrics_counter_new(r, "test_l_total", "h", (const char *[]){"a", "b", "c", "d", "e", NULL},
                      &m) == -EINVAL,
                "five labels");
        CHECK(metrics_histogram_new(r, "test_h", "h", (const char *[]){"le", NULL}, NULL, 0, &m) == -EINVAL,
                "le on a histogram");
        Metric *ok = NULL;
        CHECK(metrics_counter_new(
                      r, "test_l_total", "h", (const char *[]){"le", "_a", "b", "d", NULL}, &ok) == 0,
                "four labels, le on a counter");

        /* Clashing series names. */
        CHECK(metrics_counter_new(r, "test_l_total", "h", NULL, &m) == -EEXIST, "same name");
        CHECK(metrics_gauge_new(r, "sentinel_metrics_dropped_total", "h", NULL, &m) == -EEXIST,
                "reserved name");
        CHECK(metrics_histogram_new(r, "test_lat", "h", NULL, NULL, 0, &m) == 0, "histogram");
        CHECK(metrics_counter_new(r, "test_lat_count", "h", NULL, &m) == -EEXIST,
                "x_count after histogram x");
        CHECK(metrics_gauge_new(r, "test_lat_bucket", "h", NULL, &m) == -EEXIST,
                "x_bucket after histogram x");
        CHECK(metrics_gauge_new(r, "test_lat_sum", "h", NULL, &m) == -EEXIST, "x_sum after histogram x");
        CHECK(metrics_gauge_new(r, "test_lat_s", "h", NULL, &m) == 0, "a prefix of x_sum is fine");
        CHECK(metrics_gauge_new(r, "test_q_sum", "h", NULL, &m) == 0, "gauge x_sum");
        CHECK(metrics_histogram_new(r, "test_q", "h", NULL, NULL, 0, &m) == -EEXIST,
                "histogram x after x_sum");
        CHECK(metrics_histogram_new(r, "test_lat_count", "h", NULL, NULL, 0, &m) == -EEXIST,
                "histogram x_count");

        /* Bucket bounds. */
        static const double dec[] = {1, 0.5}, eq[] = {1, 1}, nan[] = {1, NAN}, ninf[] = {-INFINITY, 1},
                            inf_only[] = {INFINITY}, inf_mid[] = {1, INFINITY, 2};
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, dec, 2, &m) == -EINVAL, "decreasing");
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, eq, 2, &m) == -EINVAL, "equal");
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, nan, 2, &m) == -EINVAL, "NaN");
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, ninf, 2, &m) == -EINVAL, "-Inf");
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, inf_mid, 3, &m) == -EINVAL, "+Inf not last");
        double many[METRICS_BUCKETS_MAX + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (double)i;
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, many, ELEMENTSOF(many), &m) == -EINVAL,
                "too many");
        CHECK(metrics_histogram_new(r, "test_b", "h", NULL, many, METRICS_BUCKETS_MAX, &m) == 0, "the most");
        CHECK(metrics_histogram_new(r, "test_only_inf", "h", NULL, inf_only, 1, &m) == 0, "only +Inf");
        CHECK(metrics_histogram_observe(m, 3, NULL) == 0, "observe");

        CHECK(metrics_counter_new(NULL, "x", "h", NULL, &m) == -EINVAL, "NULL registry");
        CHECK(metrics_registry_free(NULL) == NULL, "free NULL");
}

static void test_child_bound(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *c = NULL, *g = NULL;
        CHECK(metrics_counter_new(r, "test_by_user_total", "h", (const char *[]){"user", NULL}, &c) == 0,
                "new");
        CHECK(metrics_gauge_new(r, "test_other", "h", (const char *[]){"k", NULL}, &g) == 0, "new");
        char v[32];
        unsigned bad = 0;
        for (int i = 0; i < METRICS_CHILDREN_MAX; i++) {
                snprintf(v, sizeof v, "user%d", i);
                if (metrics_counter_add(c, 1, (const char *[]){v}) != 0)
                        bad++;
        }
        CHECK(bad == 0, "%u of the first %d label sets refused", bad, METRICS_CHILDREN_MAX);
        CHECK(metrics_counter_add(c, 1, (const char *[]){"one too many"}) == METRICS_DROPPED, "bound");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"another"}) == METRICS_DROPPED, "bound");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"user0"}) == 0, "existing label sets still count");
        CHECK(metrics_counter_add(c, 1, (const char *[]){"user9999"}) == 0,
                "existing label sets still count");
        CHECK(metrics_gauge_set(g, 1, (const char *[]){"x"}) == 0, "other families are not affected");

        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        CHECK(metrics_render(r, &text, &len) == 0, "render");
        if (!text)
                return;
        size_t lines = 0;
        for (size_t i = 0; i < len; i++)
                lines += text[i] == '\n';
        CHECK(lines == 2 + METRICS_CHILDREN_MAX + 3 + 3, "%zu lines", lines);
        CHECK(strstr(text, "\ntest_by_user_total{user=\"user0\"} 2\n"), "user0");
        CHECK(strstr(text, "\ntest_by_user_total{user=\"user9999\"} 2\n# HELP test_other"), "user9999 last");
        CHECK(!strstr(text, "one too many"), "dropped label set rendered");
        CHECK(len > strlen(DROPPED(2)) && strcmp(text + len - strlen(DROPPED(2)), DROPPED(2)) == 0,
                "dropped count");
}

#define N_THREADS 4
#define N_INCR    100000

typedef struct Shared {
        Metric *counter;
        Metric *histogram;
        Metric *gauge;
        MetricsRegistry *registry;
        int id;
        _Atomic int *done;
} Shared;

static void *hammer(void *p)
{
        Shared *s = p;
        char own[16];
        snprintf(own, sizeof own, "t%d", s->id);
        for (int i = 0; i < N_INCR; i++) {
                if (metrics_counter_add(s->counter, 1, (const char *[]){"shared"}) != 0)
                        return (void *)1;
                if (metrics_counter_add(s->counter, 1, (const char *[]){own}) != 0)
                        return (void *)1;
                if (metrics_histogram_observe(s->histogram, (double)(i % 4) * 0.25, NULL) != 0)
                        return (void *)1;
                if (metrics_gauge_add(s->gauge, i % 2 ? -1 : 1, NULL) != 0)
                        return (void *)1;
        }
        return NULL;
}

/* Renders while the others count: a render sees consistent families and never crashes. */
static void *render_loop(void *p)
{
        Shared *s = p;
        while (!*s->done) {
                char *text = NULL;
                size_t len;
                if (metrics_render(s->registry, &text, &len) != 0)
                        return (void *)1;
                free(text);
        }
        return NULL;
}

static void test_concurrency(void)
{
        _cleanup_(metrics_registry_freep) MetricsRegistry *r = metrics_registry_new();
        Metric *c = NULL, *h = NULL, *g = NULL;
        CHECK(metrics_counter_new(r, "test_ops_total", "h", (const char *[]){"who", NULL}, &c) == 0, "new");
        static const double bounds[] = {0.25, 0.5};
        CHECK(metrics_histogram_new(r, "test_ops_seconds", "h", NULL, bounds, 2, &h) == 0, "new");
        CHECK(metrics_gauge_new(r, "test_ops_active", "h", NULL, &g) == 0, "new");
        /* Children in a known order: they render in creation order. */
        CHECK(metrics_counter_add(c, 0, (const char *[]){"shared"}) == 0, "precreate");
        for (int i = 0; i < N_THREADS; i++) {
                char own[16];
                snprintf(own, sizeof own, "t%d", i);
                CHECK(metrics_counter_add(c, 0, (const char *[]){own}) == 0, "precreate");
        }
        _Atomic int done = 0;
        Shared s[N_THREADS + 1];
        pthread_t t[N_THREADS + 1];
        for (int i = 0; i <= N_THREADS; i++) {
                s[i] = (Shared){
                        .counter = c, .histogram = h, .gauge = g, .registry = r, .id = i, .done = &done};
                CHECK(pthread_create(&t[i], NULL, i < N_THREADS ? hammer : render_loop, &s[i]) == 0,
                        "create");
        }
        for (int i = 0; i < N_THREADS; i++) {
                void *res = NULL;
                pthread_join(t[i], &res);
                CHECK(res == NULL, "thread %d failed", i);
        }
        done = 1;
        void *res = NULL;
        pthread_join(t[N_THREADS], &res);
        CHECK(res == NULL, "render thread failed");

        check_render("concurrency", r,
                "# HELP test_ops_total h\n"
                "# TYPE test_ops_total counter\n"
                "test_ops_total{who=\"shared\"} 400000\n"
                "test_ops_total{who=\"t0\"} 100000\n"
                "test_ops_total{who=\"t1\"} 100000\n"
                "test_ops_total{who=\"t2\"} 100000\n"
                "test_ops_total{who=\"t3\"} 100000\n"
                "# HELP test_ops_seconds h\n"
                "# TYPE test_ops_seconds histogram\n"
                "test_ops_seconds_bucket{le=\"0.25\"} 200000\n"
                "test_ops_seconds_bucket{le=\"0.5\"} 300000\n"
                "test_ops_seconds_bucket{le=\"+Inf\"} 400000\n"
                "test_ops_seconds_sum 150000\n"
                "test_ops_seconds_count 400000\n"
                "# HELP test_ops_active h\n"
                "# TYPE test_ops_active gauge\n"
                "test_ops_active 0\n" DROPPED(0));
}

int main(void)
{
        test_counter();
        test_gauge_numbers();
        test_histogram();
        test_escaping();
        test_bad_names();
        test_child_bound();
        test_concurrency();
        return test_summary();
}
