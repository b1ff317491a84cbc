/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus metrics: labelled counters, gauges and histograms, rendered in text format 0.0.4. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

/* Most label names a family may have. */
#define METRICS_LABELS_MAX 4
/* Most label sets (children) one family keeps: observations for more are dropped and counted in
 * METRICS_DROPPED_NAME. Label values can come from users; this bounds the memory they can claim. */
#define METRICS_CHILDREN_MAX 10000
/* Label values are cut to this many bytes (at a UTF-8 character boundary); invalid UTF-8 becomes
 * U+FFFD, so that any C string makes a valid exposition. */
#define METRICS_LABEL_VALUE_MAX 128
/* Most bucket bounds of a histogram. */
#define METRICS_BUCKETS_MAX 64
/* The counter of dropped observations every registry renders after its own families. */
#define METRICS_DROPPED_NAME "sentinel_metrics_dropped_total"

/* An expected outcome of an observation: the family already has METRICS_CHILDREN_MAX label sets and
 * this would have made a new one. The observation is counted in METRICS_DROPPED_NAME instead. */
enum {
        METRICS_DROPPED = 1,
};

/* Latency buckets in seconds, 1 ms to 10 s; what histograms get when they name none. */
extern const double metrics_default_buckets[13];

typedef struct MetricsRegistry MetricsRegistry;
typedef struct Metric Metric;

/* A registry with no families. NULL on OOM. Free with metrics_registry_free(). */
MetricsRegistry *metrics_registry_new(void);
/* Frees the registry and every Metric registered in it (their pointers become invalid). No
 * observation or render may be running. Accepts NULL; returns NULL. */
MetricsRegistry *metrics_registry_free(MetricsRegistry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsRegistry *, metrics_registry_free);

/* Register a family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*; `label_names` is a NULL-terminated
 * array (NULL for none) of at most METRICS_LABELS_MAX distinct names matching [a-zA-Z_][a-zA-Z0-9_]*
 * and not starting with "__" (histograms: not "le" either). `help` is free text. The registry copies
 * all of it and owns the Metric it returns in *ret. A family without labels renders its zero value
 * from the start; one with labels renders a child once a label set is first used.
 * Returns 0, -EINVAL for a bad name or label, -EEXIST when a rendered series name would clash with
 * another family's (a histogram "x" also owns x_bucket, x_sum and x_count), or -ENOMEM. */
int metrics_counter_new(MetricsRegistry *r, const char *name, const char *help,
        const char *const *label_names, Metric **ret);
int metrics_gauge_new(MetricsRegistry *r, const char *name, const char *help, const char *const *label_names,
        Metric **ret);
/* Same for a histogram with the given bucket upper bounds: finite and strictly increasing (a final
 * +Inf is allowed and ignored; the +Inf bucket is always rendered); at most METRICS_BUCKETS_MAX.
 * buckets NULL or n_buckets 0: metrics_default_buckets. -EINVAL for bad bounds. */
int metrics_histogram_new(MetricsRegistry *r, const char *name, const char *help,
        const char *const *label_names, const double *buckets, size_t n_buckets, Metric **ret);

/* Observations. label_values holds exactly as many strings as the family has label names (NULL
 * when it has none); its child is made on first use. Thread-safe; an existing child costs no
 * allocation. All return 0; METRICS_DROPPED when a new child would exceed METRICS_CHILDREN_MAX;
 * -EINVAL when m is NULL or of another type, a label value is NULL, or v is not finite (counters:
 * or negative); -ERANGE, changing nothing, when the result would not be finite; -ENOMEM. */
int metrics_counter_add(Metric *m, double v, const char *const *label_values);
int metrics_gauge_set(Metric *m, double v, const char *const *label_values);
int metrics_gauge_add(Metric *m, double v, const char *const *label_values);
/* Counts v in the first bucket whose upper bound is >= v (and in +Inf), and adds it to the sum. */
int metrics_histogram_observe(Metric *m, double v, const char *const *label_values);

/* The whole registry in the Prometheus text format 0.0.4: for each family in registration order its
 * # HELP and # TYPE lines, then its children in creation order (histograms: cumulative _bucket
 * lines up to le="+Inf", then _sum and _count), then METRICS_DROPPED_NAME. Sets *ret_text (a NUL-
 * terminated string the caller frees) and *ret_len (without the NUL). Returns 0 or -ENOMEM. */
int metrics_render(MetricsRegistry *r, char **ret_text, size_t *ret_len);
