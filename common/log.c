/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: leveled records on stderr, plain text or one JSON object per line. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static LogLevel log_level = LOG_LEVEL_INFO;
static bool log_json;

static const char *const level_names[] = {
        [LOG_LEVEL_DEBUG] = "debug",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_ERROR] = "error",
};

void log_set_level(LogLevel level)
{
        log_level = level;
}

LogLevel log_get_level(void)
{
        return log_level;
}

void log_set_json(bool json)
{
        log_json = json;
}

int log_level_from_string(const char *s, LogLevel *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcasecmp(s, level_names[i]) == 0) {
                        *ret = (LogLevel)i;
                        return 0;
                }
        return -EINVAL;
}

int log_internal(LogLevel level, int error, const char *file, int line, const char *fmt, ...)
{
        int saved = errno;
        int r = error > 0 ? -error : error;

        if (level < log_level) {
                errno = saved;
                return r;
        }

        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char stamp[64];
        snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

        if (log_json) {
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i}", "time", stamp, "level", level_names[level],
                        "msg", msg, "src", file, "line", line);
                if (o && error != 0)
                        json_object_set_new(o, "error", json_string(strerror(-r)));
                char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                if (s)
                        fprintf(stderr, "%s\n", s);
                free(s);
                json_decref(o);
        } else if (error != 0)
                fprintf(stderr, "%s %s: %s: %s\n", stamp, level_names[level], msg, strerror(-r));
        else
                fprintf(stderr, "%s %s: %s\n", stamp, level_names[level], msg);

        errno = saved;
        return r;
}
