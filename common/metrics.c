/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus metrics: labelled counters, gauges and histograms, rendered in text format 0.0.4. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "utf8.h"

const double metrics_default_buckets[13] = {
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

typedef enum MetricType {
        METRIC_COUNTER,
        METRIC_GAUGE,
        METRIC_HISTOGRAM,
} MetricType;

static const char *const metric_type_names[] = {
        [METRIC_COUNTER] = "counter",
        [METRIC_GAUGE] = "gauge",
        [METRIC_HISTOGRAM] = "histogram",
};

/* One label set of a family, in one allocation: the struct, the histogram's bucket counts, then the
 * label values. */
typedef struct MetricChild {
        uint64_t hash;
        const char *values[METRICS_LABELS_MAX];
        size_t value_len[METRICS_LABELS_MAX];
        double value;       /* counter, gauge */
        double sum;         /* histogram */
        uint64_t count;     /* histogram */
        uint64_t buckets[]; /* histogram: per bound, then above the last; not cumulative */
} MetricChild;

struct Metric {
        MetricsRegistry *registry;
        MetricType type;
        char *name;
        char *help;
        size_t n_labels;
        char *labels[METRICS_LABELS_MAX];
        double *bounds; /* histogram: finite, increasing; +Inf is implicit */
        size_t n_bounds;

        pthread_mutex_t lock;   /* the children and their values */
        MetricChild **children; /* in creation order */
        size_t n_children;
        size_t alloc_children;
        uint32_t *index;   /* open addressing over children: child number + 1, 0 = empty */
        size_t index_size; /* a power of two, at least twice n_children */
};

struct MetricsRegistry {
        pthread_mutex_t lock; /* the list of families */
        Metric **families;
        size_t n_families;
        size_t alloc_families;
        uint64_t hash_seed;
        _Atomic uint64_t dropped;
};

static Metric *metric_free(Metric *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_children; i++)
                free(m->children[i]);
        free(m->children);
        free(m->index);
        pthread_mutex_destroy(&m->lock);
        free(m->name);
        free(m->help);
        for (size_t i = 0; i < m->n_labels; i++)
                free(m->labels[i]);
        free(m->bounds);
        free(m);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Metric *, metric_free);

MetricsRegistry *metrics_registry_new(void)
{
        MetricsRegistry *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        pthread_mutex_init(&r->lock, NULL);
        /* A seed unknown to clients makes it harder to choose label values that collide in the
         * index; METRICS_CHILDREN_MAX bounds the damage if they do. */
        if (getrandom(&r->hash_seed, sizeof r->hash_seed, GRND_NONBLOCK) != sizeof r->hash_seed) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                r->hash_seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uint64_t)(uintptr_t)r;
        }
        return r;
}

MetricsRegistry *metrics_registry_free(MetricsRegistry *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_families; i++)
                metric_free(r->families[i]);
        free(r->families);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
}

static bool metric_name_valid(const char *s)
{
        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                          (p != s && c >= '0' && c <= '9');
                if (!ok)
                        return false;
        }
        return true;
}

static bool label_name_valid(const char *s)
{
        return metric_name_valid(s) && !strchr(s, ':') && strncmp(s, "__", 2) != 0;
}

/* The suffixes of the series a family renders (its own name with the empty suffix). */
static const char *const *series_suffixes(MetricType type)
{
        static const char *const plain[] = {"", NULL};
        static const char *const histogram[] = {"", "_bucket", "_sum", "_count", NULL};
        return type == METRIC_HISTOGRAM ? histogram : plain;
}

/* Whether a + sa equals b + sb. */
static bool concat_equal(const char *a, const char *sa, const char *b, const char *sb)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la + strlen(sa) != lb + strlen(sb))
                return false;
        /* Let a be the shorter base: a == b[0..la) and sa == b[la..) + sb. */
        if (la > lb)
                return concat_equal(b, sb, a, sa);
        return strncmp(a, b, la) == 0 && strncmp(sa, b + la, lb - la) == 0 &&
               strcmp(sa + (lb - la), sb) == 0;
}

static bool names_clash(const char *a, MetricType ta, const char *b, MetricType tb)
{
        for (const char *const *sa = series_suffixes(ta); *sa; sa++)
                for (const char *const *sb = series_suffixes(tb); *sb; sb++)
                        if (concat_equal(a, *sa, b, *sb))
                                return true;
        return false;
}

static uint64_t hash_values(uint64_t seed, size_t n, const char *const *values, const size_t *len)
{
        uint64_t h = seed ^ UINT64_C(0xcbf29ce484222325);
        for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < len[i]; k++)
                        h = (h ^ (unsigned char)values[i][k]) * UINT64_C(0x100000001b3);
                /* The length separates ("ab", "c") from ("a", "bc"). */
                h = (h ^ len[i]) * UINT64_C(0x100000001b3);
        }
        /* Final avalanche (murmur3 fmix64): the index uses the low bits. */
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        h *= UINT64_C(0xc4ceb9fe1a85ec53);
        h ^= h >> 33;
        return h;
}

/* The label value as stored: v itself when it is valid UTF-8 of at most METRICS_LABEL_VALUE_MAX
 * bytes (no copy), else a cleaned copy in buf: invalid bytes become U+FFFD, cut at a character
 * boundary. Returns the value and its length in *ret_len. */
static const char *label_value_clean(
        const char *v, char buf[static METRICS_LABEL_VALUE_MAX + 1], size_t *ret_len)
{
        const unsigned char *p = (const unsigned char *)v;
        /* Never more than METRICS_LABEL_VALUE_MAX bytes are consumed, and the last character that
         * starts within them ends at most 3 bytes later: a huge value costs no more than a short one. */
        size_t len = strnlen(v, METRICS_LABEL_VALUE_MAX + 4), i = 0;
        while (i < len && i <= METRICS_LABEL_VALUE_MAX) {
                size_t n = utf8_char_len(p + i, len - i);
                if (n == 0)
                        break;
                i += n;
        }
        if (i == len && len <= METRICS_LABEL_VALUE_MAX) {
                *ret_len = len;
                return v;
        }

        size_t o = 0;
        i = 0;
        while (i < len) {
                size_t n = utf8_char_len(p + i, len - i);
                const void *piece = n ? (const void *)(p + i) : "\xEF\xBF\xBD";
                size_t piece_len = n ? n : 3;
                if (o + piece_len > METRICS_LABEL_VALUE_MAX)
                        break;
                memcpy(buf + o, piece, piece_len);
                o += piece_len;
                i += n ? n : 1;
        }
        buf[o] = '\0';
        *ret_len = o;
        return buf;
}

static void index_insert(uint32_t *index, size_t size, uint64_t hash, uint32_t child_number)
{
        size_t i = hash & (size - 1);
        while (index[i] != 0)
                i = (i + 1) & (size - 1);
        index[i] = child_number;
}

/* Finds the child of these (cleaned) label values, or makes it. Called with m->lock held.
 * Returns 0 and *ret, METRICS_DROPPED, or -ENOMEM. */
static int child_get(
        Metric *m, const char *const *values, const size_t *len, uint64_t hash, MetricChild **ret)
{
        for (size_t i = hash & (m->index_size - 1); m->index[i]; i = (i + 1) & (m->index_size - 1)) {
                MetricChild *c = m->children[m->index[i] - 1];
                if (c->hash != hash)
                        continue;
                bool same = true;
                for (size_t k = 0; k < m->n_labels && same; k++)
                        same = c->value_len[k] == len[k] && memcmp(c->values[k], values[k], len[k]) == 0;
                if (same) {
                        *ret = c;
                        return 0;
                }
        }

        if (m->n_children >= METRICS_CHILDREN_MAX)
                return METRICS_DROPPED;

        if (m->n_children == m->alloc_children) {
                size_t n = m->alloc_children ? m->alloc_children * 2 : 4;
                MetricChild **a = realloc(m->children, n * sizeof *a);
                if (!a)
                        return -ENOMEM;
                m->children = a;
                m->alloc_children = n;
        }
        if ((m->n_children + 1) * 2 > m->index_size) {
                size_t size = m->index_size * 2;
                uint32_t *index = calloc(size, sizeof *index);
                if (!index)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_children; i++)
                        index_insert(index, size, m->children[i]->hash, (uint32_t)i + 1);
                free(m->index);
                m->index = index;
                m->index_size = size;
        }

        size_t n_buckets = m->type == METRIC_HISTOGRAM ? m->n_bounds + 1 : 0;
        size_t size = sizeof(MetricChild) + n_buckets * sizeof(uint64_t);
        for (size_t k = 0; k < m->n_labels; k++)
                size += len[k] + 1;
        MetricChild *c = calloc(1, size);
        if (!c)
                return -ENOMEM;
        c->hash = hash;
        char *s = (char *)(c->buckets + n_buckets);
        for (size_t k = 0; k < m->n_labels; k++) {
                memcpy(s, values[k], len[k]);
                s[len[k]] = '\0';
                c->values[k] = s;
                c->value_len[k] = len[k];
                s += len[k] + 1;
        }
        m->children[m->n_children++] = c;
        index_insert(m->index, m->index_size, hash, (uint32_t)m->n_children);
        *ret = c;
        return 0;
}

static int metric_register(MetricsRegistry *r, MetricType type, const char *name, const char *help,
        const char *const *label_names, const double *buckets, size_t n_buckets, Metric **ret)
{
        if (!r || !help || !ret || !metric_name_valid(name))
                return -EINVAL;

        size_t n_labels = 0;
        for (; label_names && label_names[n_labels]; n_labels++) {
                const char *l = label_names[n_labels];
                if (n_labels == METRICS_LABELS_MAX || !label_name_valid(l))
                        return -EINVAL;
                if (type == METRIC_HISTOGRAM && strcmp(l, "le") == 0)
                        return -EINVAL;
                for (size_t k = 0; k < n_labels; k++)
                        if (strcmp(label_names[k], l) == 0)
                                return -EINVAL;
        }

        if (type == METRIC_HISTOGRAM) {
                if (!buckets || n_buckets == 0) {
                        buckets = metrics_default_buckets;
                        n_buckets = ELEMENTSOF(metrics_default_buckets);
                }
                if (isinf(buckets[n_buckets - 1]) && buckets[n_buckets - 1] > 0)
                        n_buckets--;
                if (n_buckets > METRICS_BUCKETS_MAX)
                        return -EINVAL;
                for (size_t i = 0; i < n_buckets; i++)
                        if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
                                return -EINVAL;
        }

        _cleanup_(metric_freep) Metric *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        pthread_mutex_init(&m->lock, NULL);
        m->registry = r;
        m->type = type;
        m->name = strdup(name);
        m->help = strdup(help);
        if (!m->name || !m->help)
                return -ENOMEM;
        for (; m->n_labels < n_labels; m->n_labels++)
                if (!(m->labels[m->n_labels] = strdup(label_names[m->n_labels])))
                        return -ENOMEM;
        if (type == METRIC_HISTOGRAM && n_buckets > 0) {
                m->bounds = malloc(n_buckets * sizeof *m->bounds);
                if (!m->bounds)
                        return -ENOMEM;
                memcpy(m->bounds, buckets, n_buckets * sizeof *m->bounds);
                m->n_bounds = n_buckets;
        }
        m->index_size = 16;
        m->index = calloc(m->index_size, sizeof *m->index);
        if (!m->index)
                return -ENOMEM;
        if (n_labels == 0) {
                /* Prometheus clients show a label-less family from the start, at zero. */
                MetricChild *c;
                int k = child_get(m, NULL, NULL, hash_values(r->hash_seed, 0, NULL, NULL), &c);
                if (k != 0)
                        return k < 0 ? k : -ENOMEM;
        }

        pthread_mutex_lock(&r->lock);
        int k = 0;
        if (names_clash(name, type, METRICS_DROPPED_NAME, METRIC_COUNTER))
                k = -EEXIST;
        for (size_t i = 0; i < r->n_families && k == 0; i++)
                if (names_clash(name, type, r->families[i]->name, r->families[i]->type))
                        k = -EEXIST;
        if (k == 0 && r->n_families == r->alloc_families) {
                size_t n = r->alloc_families ? r->alloc_families * 2 : 8;
                Metric **a = realloc(r->families, n * sizeof *a);
                if (a) {
                        r->families = a;
                        r->alloc_families = n;
                } else
                        k = -ENOMEM;
        }
        if (k == 0)
                r->families[r->n_families++] = m;
        pthread_mutex_unlock(&r->lock);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(m);
        return 0;
}

int metrics_counter_new(
        MetricsRegistry *r, const char *name, const char *help, const char *const *label_names, Metric **ret)
{
        return metric_register(r, METRIC_COUNTER, name, help, label_names, NULL, 0, ret);
}

int metrics_gauge_new(
        MetricsRegistry *r, const char *name, const char *help, const char *const *label_names, Metric **ret)
{
        return metric_register(r, METRIC_GAUGE, name, help, label_names, NULL, 0, ret);
}

int metrics_histogram_new(MetricsRegistry *r, const char *name, const char *help,
        const char *const *label_names, const double *buckets, size_t n_buckets, Metric **ret)
{
        return metric_register(r, METRIC_HISTOGRAM, name, help, label_names, buckets, n_buckets, ret);
}

typedef enum MetricOp {
        METRIC_OP_ADD,
        METRIC_OP_SET,
        METRIC_OP_OBSERVE,
} MetricOp;

static int metric_update(Metric *m, MetricType type, MetricOp op, double v, const char *const *label_values)
{
        if (!m || m->type != type || !isfinite(v))
                return -EINVAL;
        if (m->n_labels > 0 && !label_values)
                return -EINVAL;

        /* Cleaning and hashing need no lock; the stack copies serve only odd values. */
        char bufs[METRICS_LABELS_MAX][METRICS_LABEL_VALUE_MAX + 1];
        const char *values[METRICS_LABELS_MAX];
        size_t len[METRICS_LABELS_MAX];
        for (size_t k = 0; k < m->n_labels; k++) {
                if (!label_values[k])
                        return -EINVAL;
                values[k] = label_value_clean(label_values[k], bufs[k], &len[k]);
        }
        uint64_t hash = hash_values(m->registry->hash_seed, m->n_labels, values, len);

        pthread_mutex_lock(&m->lock);
        MetricChild *c;
        int r = child_get(m, values, len, hash, &c);
        if (r == 0)
                switch (op) {
                case METRIC_OP_ADD: {
                        double n = c->value + v;
                        if (isfinite(n))
                                c->value = n;
                        else
                                r = -ERANGE;
                        break;
                }
                case METRIC_OP_SET:
                        c->value = v;
                        break;
                case METRIC_OP_OBSERVE: {
                        double n = c->sum + v;
                        if (!isfinite(n)) {
                                r = -ERANGE;
                                break;
                        }
                        size_t i = 0;
                        while (i < m->n_bounds && v > m->bounds[i])
                                i++;
                        c->buckets[i]++;
                        c->count++;
                        c->sum = n;
                        break;
                }
                }
        pthread_mutex_unlock(&m->lock);

        if (r == METRICS_DROPPED)
                atomic_fetch_add_explicit(&m->registry->dropped, 1, memory_order_relaxed);
        return r;
}

int metrics_counter_add(Metric *m, double v, const char *const *label_values)
{
        if (v < 0)
                return -EINVAL;
        return metric_update(m, METRIC_COUNTER, METRIC_OP_ADD, v, label_values);
}

int metrics_gauge_set(Metric *m, double v, const char *const *label_values)
{
        return metric_update(m, METRIC_GAUGE, METRIC_OP_SET, v, label_values);
}

int metrics_gauge_add(Metric *m, double v, const char *const *label_values)
{
        return metric_update(m, METRIC_GAUGE, METRIC_OP_ADD, v, label_values);
}

int metrics_histogram_observe(Metric *m, double v, const char *const *label_values)
{
        return metric_update(m, METRIC_HISTOGRAM, METRIC_OP_OBSERVE, v, label_values);
}

/* The exposition text as it grows; an allocation failure is remembered and reported at the end. */
typedef struct Text {
        char *data;
        size_t len;
        size_t alloc;
        bool oom;
} Text;

static void text_add(Text *t, const char *s, size_t n)
{
        if (t->oom)
                return;
        if (t->len + n + 1 > t->alloc) {
                size_t a = MAX(t->alloc * 2, t->len + n + 1);
                a = MAX(a, (size_t)4096);
                char *d = realloc(t->data, a);
                if (!d) {
                        t->oom = true;
                        return;
                }
                t->data = d;
                t->alloc = a;
        }
        memcpy(t->data + t->len, s, n);
        t->len += n;
        t->data[t->len] = '\0';
}

static void text_puts(Text *t, const char *s)
{
        text_add(t, s, strlen(s));
}

/* Help text: backslash and newline escaped. Label values: double quote too. */
static void text_escaped(Text *t, const char *s, bool quote)
{
        const char *run = s;
        for (; *s; s++) {
                const char *esc;
                if (*s == '\\')
                        esc = "\\\\";
                else if (*s == '\n')
                        esc = "\\n";
                else if (quote && *s == '"')
                        esc = "\\\"";
                else
                        continue;
                text_add(t, run, (size_t)(s - run));
                text_puts(t, esc);
                run = s + 1;
        }
        text_add(t, run, (size_t)(s - run));
}

/* A number Prometheus parses: integers without exponent while exact, otherwise the shortest %g
 * that reads back as the same double. Values are always finite here. */
static void format_number(double v, char buf[static 32])
{
        if (v == 0)
                snprintf(buf, 32, "0");
        else if (v == trunc(v) && fabs(v) <= 0x1p53)
                snprintf(buf, 32, "%" PRId64, (int64_t)v);
        else
                for (int prec = 15; prec <= 17; prec++) {
                        snprintf(buf, 32, "%.*g", prec, v);
                        if (strtod(buf, NULL) == v)
                                break;
                }
}

static void text_number(Text *t, double v)
{
        char buf[32];
        format_number(v, buf);
        text_puts(t, buf);
}

static void text_u64(Text *t, uint64_t v)
{
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        text_puts(t, buf);
}

/* A series line: name+suffix, the child's labels plus an optional le, the value. */
static void text_series(Text *t, const Metric *m, const char *suffix, const MetricChild *c, const char *le)
{
        text_puts(t, m->name);
        text_puts(t, suffix);
        if (m->n_labels > 0 || le) {
                text_puts(t, "{");
                for (size_t k = 0; k < m->n_labels; k++) {
                        if (k > 0)
                                text_puts(t, ",");
                        text_puts(t, m->labels[k]);
                        text_puts(t, "=\"");
                        text_escaped(t, c->values[k], true);
                        text_puts(t, "\"");
                }
                if (le) {
                        text_puts(t, m->n_labels > 0 ? ",le=\"" : "le=\"");
                        text_puts(t, le);
                        text_puts(t, "\"");
                }
                text_puts(t, "}");
        }
        text_puts(t, " ");
}

static void text_header(Text *t, const char *name, const char *help, MetricType type)
{
        text_puts(t, "# HELP ");
        text_puts(t, name);
        text_puts(t, " ");
        text_escaped(t, help, false);
        text_puts(t, "\n# TYPE ");
        text_puts(t, name);
        text_puts(t, " ");
        text_puts(t, metric_type_names[type]);
        text_puts(t, "\n");
}

static void render_family(Text *t, Metric *m)
{
        text_header(t, m->name, m->help, m->type);
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->n_children; i++) {
                const MetricChild *c = m->children[i];
                if (m->type != METRIC_HISTOGRAM) {
                        text_series(t, m, "", c, NULL);
                        text_number(t, c->value);
                        text_puts(t, "\n");
                        continue;
                }
                uint64_t cumulative = 0;
                for (size_t b = 0; b <= m->n_bounds; b++) {
                        cumulative += c->buckets[b];
                        char le[32] = "+Inf";
                        if (b < m->n_bounds)
                                format_number(m->bounds[b], le);
                        text_series(t, m, "_bucket", c, le);
                        text_u64(t, cumulative);
                        text_puts(t, "\n");
                }
                text_series(t, m, "_sum", c, NULL);
                text_number(t, c->sum);
                text_puts(t, "\n");
                text_series(t, m, "_count", c, NULL);
                text_u64(t, c->count);
                text_puts(t, "\n");
        }
        pthread_mutex_unlock(&m->lock);
}

int metrics_render(MetricsRegistry *r, char **ret_text, size_t *ret_len)
{
        Text t = {};
        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->n_families; i++)
                render_family(&t, r->families[i]);
        pthread_mutex_unlock(&r->lock);

        char help[128];
        snprintf(help, sizeof help, "Observations dropped because their metric already had %d label sets",
                METRICS_CHILDREN_MAX);
        text_header(&t, METRICS_DROPPED_NAME, help, METRIC_COUNTER);
        text_puts(&t, METRICS_DROPPED_NAME " ");
        text_u64(&t, atomic_load_explicit(&r->dropped, memory_order_relaxed));
        text_puts(&t, "\n");

        if (t.oom) {
                free(t.data);
                return -ENOMEM;
        }
        *ret_text = t.data;
        *ret_len = t.len;
        return 0;
}
