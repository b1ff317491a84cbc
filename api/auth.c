/* SPDX-License-Identifier: Apache-2.0 */
#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct Auth {
        const Config *cfg;
        Store *store;
        pthread_mutex_t lock;     /* guards keys and loaded */
        KeySet *keys;
        bool loaded;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping;
        pthread_t thread;
};

static void refresh(Auth *a)
{
        KeySet *ks = NULL;
        int r = store_active_keys(a->store, &ks);
        if (r < 0) {
                log_warning("API keys: could not re-read them (%s); keeping the last set", strerror(-r));
                return;
        }
        pthread_mutex_lock(&a->lock);
        size_t before = key_set_size(a->keys);
        bool was_loaded = a->loaded;
        key_set_free(a->keys);
        a->keys = ks;
        a->loaded = true;
        pthread_mutex_unlock(&a->lock);
        if (!was_loaded || before != key_set_size(ks))
                log_info("API keys: %zu active%s", key_set_size(ks),
                        key_set_size(ks) ? "; /api routes require one" : "; the API is open");
}

static void *auth_main(void *arg)
{
        Auth *a = arg;
        pthread_mutex_lock(&a->stop_lock);
        while (!a->stopping) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t ns = (uint64_t)ts.tv_nsec + a->cfg->auth_refresh_ms * 1000000u;
                ts.tv_sec += (time_t)(ns / 1000000000u);
                ts.tv_nsec = (long)(ns % 1000000000u);
                int r = pthread_cond_timedwait(&a->stop_cond, &a->stop_lock, &ts);
                if (a->stopping || (r != 0 && r != ETIMEDOUT))
                        break;
                pthread_mutex_unlock(&a->stop_lock);
                refresh(a);
                pthread_mutex_lock(&a->stop_lock);
        }
        pthread_mutex_unlock(&a->stop_lock);
        return NULL;
}

int auth_start(const Config *cfg, Store *store, Auth **ret)
{
        Auth *a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->cfg = cfg;
        a->store = store;
        pthread_mutex_init(&a->lock, NULL);
        pthread_mutex_init(&a->stop_lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->stop_cond, &ca);
        pthread_condattr_destroy(&ca);
        refresh(a);
        int r = pthread_create(&a->thread, NULL, auth_main, a);
        if (r != 0) {
                key_set_free(a->keys);
                free(a);
                return -r;
        }
        *ret = a;
        return 0;
}

void auth_stop(Auth *a)
{
        if (!a)
                return;
        pthread_mutex_lock(&a->stop_lock);
        a->stopping = true;
        pthread_cond_signal(&a->stop_cond);
        pthread_mutex_unlock(&a->stop_lock);
        pthread_join(a->thread, NULL);
        key_set_free(a->keys);
        pthread_mutex_destroy(&a->lock);
        pthread_mutex_destroy(&a->stop_lock);
        pthread_cond_destroy(&a->stop_cond);
        free(a);
}

AuthResult auth_check(Auth *a, const char *key, size_t key_len, char ret_id[API_KEY_ID_MAX + 1])
{
        char hash[65];
        if (key)
                api_key_hash(key, key_len, hash);
        AuthResult res;
        pthread_mutex_lock(&a->lock);
        if (!a->loaded)
                res = AUTH_UNKNOWN;
        else if (key_set_size(a->keys) == 0)
                res = AUTH_OPEN;
        else if (!key)
                res = AUTH_MISSING;
        else {
                const char *id = key_set_lookup(a->keys, hash);
                res = id ? AUTH_OK : AUTH_REJECTED;
                if (id)
                        memcpy(ret_id, id, strlen(id) + 1);
        }
        pthread_mutex_unlock(&a->lock);
        return res;
}
