/* SPDX-License-Identifier: Apache-2.0 */
/* The publisher: persistent messages with confirms, the outbox relay. */
#include "publisher.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amqp-util.h"
#include "cleanup.h"
#include "log.h"
#include "time-util.h"

#define QUEUE_CAP 8192
#define BATCH_MAX 512
#define CONFIRM_TIMEOUT_MS 5000
#define RECONNECT_MS 1000
#define HEARTBEAT_S 10
/* Confirms are recorded (their outbox rows deleted) together, at most this long after the first of
 * them: one transaction for every confirm of a tenth of a second instead of one per publish. A
 * confirmed row the API has not deleted yet is still in the outbox, so the delay stays well below
 * the relay's age (a quarter of it at most): no relay re-publishes a job for it. */
#define RECORD_DELAY_MS 100

struct Publisher {
        const Config *cfg;
        Store *store;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Uuid *queue; /* ring buffer */
        size_t head, len;
        bool stop;
        atomic_bool connected;
        amqp_connection_state_t conn;
        uint64_t next_tag;
};

void publisher_submit(Publisher *p, const Uuid *id)
{
        pthread_mutex_lock(&p->lock);
        if (p->len < QUEUE_CAP) {
                p->queue[(p->head + p->len) % QUEUE_CAP] = *id;
                p->len++;
                pthread_cond_signal(&p->cond);
        }
        pthread_mutex_unlock(&p->lock);
}

bool publisher_connected(Publisher *p)
{
        return atomic_load(&p->connected);
}

static void disconnect(Publisher *p)
{
        if (p->conn) {
                amqp_util_close(p->conn);
                p->conn = NULL;
        }
        atomic_store(&p->connected, false);
}

static int connect_broker(Publisher *p)
{
        char err[512];
        amqp_connection_state_t c;
        int r = amqp_util_connect(p->cfg->amqp_url, HEARTBEAT_S, 5000, &c, err, sizeof err);
        if (r < 0) {
                log_debug("publisher: %s", err);
                return r;
        }
        r = amqp_util_declare_topology(c, p->cfg, err, sizeof err);
        if (r == 0) {
                amqp_confirm_select(c, AMQP_CHANNEL);
                amqp_rpc_reply_t rep = amqp_get_rpc_reply(c);
                if (rep.reply_type != AMQP_RESPONSE_NORMAL) {
                        amqp_util_describe(rep, err, sizeof err);
                        r = -EPROTO;
                }
        }
        if (r < 0) {
                log_error("publisher: %s", err);
                amqp_util_close(c);
                return r;
        }
        p->conn = c;
        p->next_tag = 1;
        atomic_store(&p->connected, true);
        log_info("publisher: connected to RabbitMQ");
        return 0;
}

/* Publishes ids[0..n) and waits for their confirms. Sets acked[i] for each confirmed one.
 * Returns 0, or a negative errno when the connection failed (then it is closed). */
static int publish_batch(Publisher *p, const Uuid *ids, size_t n, bool *acked)
{
        uint64_t first = p->next_tag;
        amqp_basic_properties_t props = {
                ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG,
                .delivery_mode = 2, /* persistent */
                .content_type = amqp_cstring_bytes("text/plain"),
        };
        for (size_t i = 0; i < n; i++) {
                char id[UUID_STRING_LEN + 1];
                uuid_format(&ids[i], id);
                props.message_id = amqp_cstring_bytes(id);
                int st = amqp_basic_publish(p->conn, AMQP_CHANNEL, amqp_empty_bytes,
                        amqp_cstring_bytes(p->cfg->queue), 0, 0, &props, amqp_cstring_bytes(id));
                if (st != AMQP_STATUS_OK) {
                        log_warning("publisher: publish failed: %s", amqp_error_string2(st));
                        disconnect(p);
                        return -EIO;
                }
                p->next_tag++;
        }

        _cleanup_free_ bool *done = calloc(n, sizeof *done);
        if (!done)
                return -ENOMEM;
        size_t pending = n;
        uint64_t deadline = now_monotonic_ms() + CONFIRM_TIMEOUT_MS;
        while (pending > 0) {
                uint64_t now = now_monotonic_ms();
                if (now >= deadline) {
                        log_warning("publisher: %zu confirm(s) did not arrive in time", pending);
                        disconnect(p);
                        return -ETIMEDOUT;
                }
                uint64_t left = deadline - now;
                struct timeval tv = {.tv_sec = (time_t)(left / 1000), .tv_usec = (suseconds_t)(left % 1000) * 1000};
                amqp_frame_t f;
                int st = amqp_simple_wait_frame_noblock(p->conn, &f, &tv);
                if (st == AMQP_STATUS_TIMEOUT)
                        continue;
                if (st != AMQP_STATUS_OK) {
                        log_warning("publisher: connection lost: %s", amqp_error_string2(st));
                        disconnect(p);
                        return -EIO;
                }
                if (f.frame_type != AMQP_FRAME_METHOD)
                        continue;
                uint64_t tag;
                bool multiple, ok;
                if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
                        const amqp_basic_ack_t *a = f.payload.method.decoded;
                        tag = a->delivery_tag, multiple = a->multiple, ok = true;
                } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
                        const amqp_basic_nack_t *a = f.payload.method.decoded;
                        tag = a->delivery_tag, multiple = a->multiple, ok = false;
                } else if (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                           f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
                        log_warning("publisher: the broker closed the channel");
                        disconnect(p);
                        return -EIO;
                } else
                        continue;
                /* Tags first..first+n-1 belong to this batch. A nacked message stays unconfirmed:
                 * the relay publishes it again. */
                uint64_t lo = multiple ? first : tag;
                for (uint64_t t = MAX(lo, first); t <= tag && t < first + n; t++) {
                        size_t i = (size_t)(t - first);
                        if (!done[i]) {
                                done[i] = true;
                                acked[i] = ok;
                                pending--;
                        }
                }
        }
        return 0;
}

/* Confirmed publishes whose outbox rows are not deleted yet. */
typedef struct Confirms {
        Uuid ids[BATCH_MAX];
        size_t n;
        uint64_t record_at; /* when to delete them; UINT64_MAX when there are none */
} Confirms;

/* Deletes the outbox rows of every confirm held, in one statement. A failure leaves the rows to the
 * relay, which finds their jobs delivered and deletes them, or publishes them once more. */
static void record_confirms(Publisher *p, Confirms *c)
{
        if (c->n > 0) {
                int r = store_mark_published(p->store, c->ids, c->n);
                if (r < 0)
                        log_warning("publisher: recording %zu confirm(s) failed (%s); the relay will publish "
                                    "them again", c->n, strerror(-r));
        }
        c->n = 0;
        c->record_at = UINT64_MAX;
}

static void hold_confirm(Publisher *p, Confirms *c, const Uuid *id)
{
        if (c->n == BATCH_MAX)
                record_confirms(p, c);
        if (c->n == 0)
                c->record_at = now_monotonic_ms() + MIN(RECORD_DELAY_MS, p->cfg->relay_age_ms / 4);
        c->ids[c->n++] = *id;
}

/* Drops heartbeats and notices a closed connection while idle. */
static void service_idle(Publisher *p)
{
        if (!p->conn)
                return;
        struct timeval zero = {0, 0};
        amqp_frame_t f;
        for (;;) {
                int st = amqp_simple_wait_frame_noblock(p->conn, &f, &zero);
                if (st == AMQP_STATUS_TIMEOUT)
                        return;
                if (st != AMQP_STATUS_OK) {
                        log_warning("publisher: connection lost: %s", amqp_error_string2(st));
                        disconnect(p);
                        return;
                }
        }
}

static void *publisher_main(void *arg)
{
        Publisher *p = arg;
        Uuid *batch = calloc(BATCH_MAX, sizeof *batch);
        bool *acked = calloc(BATCH_MAX, sizeof *acked);
        Confirms *confirms = calloc(1, sizeof *confirms);
        if (!batch || !acked || !confirms) {
                free(batch);
                free(acked);
                free(confirms);
                log_error("publisher: out of memory");
                return NULL;
        }
        uint64_t next_relay = now_monotonic_ms() + p->cfg->relay_interval_ms;
        uint64_t next_connect = 0;
        confirms->record_at = UINT64_MAX;
        for (;;) {
                size_t n = 0;
                bool stopping;
                uint64_t until = MIN(next_relay, confirms->record_at);
                pthread_mutex_lock(&p->lock);
                if (!p->stop && p->len == 0 && now_monotonic_ms() < until) {
                        uint64_t wait_ms = MIN(until - now_monotonic_ms(), 1000);
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        ts.tv_sec += (time_t)(wait_ms / 1000);
                        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
                        if (ts.tv_nsec >= 1000000000) {
                                ts.tv_sec++;
                                ts.tv_nsec -= 1000000000;
                        }
                        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
                }
                stopping = p->stop;
                if (p->conn || now_monotonic_ms() >= next_connect)
                        while (n < BATCH_MAX && p->len > 0) {
                                batch[n++] = p->queue[p->head];
                                p->head = (p->head + 1) % QUEUE_CAP;
                                p->len--;
                        }
                pthread_mutex_unlock(&p->lock);

                if (now_monotonic_ms() >= confirms->record_at)
                        record_confirms(p, confirms);
                if (!p->conn && now_monotonic_ms() >= next_connect) {
                        if (connect_broker(p) < 0)
                                next_connect = now_monotonic_ms() + RECONNECT_MS;
                }
                if (!p->conn) {
                        /* Left to the relay: the rows stay unconfirmed until the broker is back. */
                        if (stopping)
                                break;
                        continue;
                }

                if (n == 0 && now_monotonic_ms() >= next_relay) {
                        record_confirms(p, confirms); /* the relay must not see our own confirms */
                        Uuid *ids = NULL;
                        size_t m = 0;
                        if (store_unpublished(p->store, p->cfg->relay_age_ms, BATCH_MAX, &ids, &m) == 0 && m > 0) {
                                memcpy(batch, ids, m * sizeof *ids);
                                n = m;
                                log_info("relay: re-publishing %zu unconfirmed submission(s)", m);
                        }
                        free(ids);
                        next_relay = now_monotonic_ms() + p->cfg->relay_interval_ms;
                }
                if (n > 0) {
                        memset(acked, 0, n * sizeof *acked);
                        publish_batch(p, batch, n, acked);
                        for (size_t i = 0; i < n; i++)
                                if (acked[i])
                                        hold_confirm(p, confirms, &batch[i]);
                } else
                        service_idle(p);
                if (stopping) {
                        pthread_mutex_lock(&p->lock);
                        bool empty = p->len == 0;
                        pthread_mutex_unlock(&p->lock);
                        if (empty)
                                break;
                }
        }
        record_confirms(p, confirms);
        disconnect(p);
        free(batch);
        free(acked);
        free(confirms);
        return NULL;
}

int publisher_start(const Config *cfg, Store *store, Publisher **ret)
{
        Publisher *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->queue = calloc(QUEUE_CAP, sizeof *p->queue);
        if (!p->queue) {
                free(p);
                return -ENOMEM;
        }
        p->cfg = cfg;
        p->store = store;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        int r = pthread_create(&p->thread, NULL, publisher_main, p);
        if (r != 0) {
                free(p->queue);
                free(p);
                return -r;
        }
        *ret = p;
        return 0;
}

Publisher *publisher_stop(Publisher *p)
{
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p->queue);
        free(p);
        return NULL;
}
