/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: leveled, structured (key=value) records on stderr. */
#pragma once

#include <stdbool.h>

#include "cleanup.h"

typedef enum LogLevel {
        LOG_LEVEL_DEBUG,
        LOG_LEVEL_INFO,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_ERROR,
} LogLevel;

void log_set_level(LogLevel level);
LogLevel log_get_level(void);
int log_level_from_string(const char *s, LogLevel *ret);
void log_set_json(bool json);

/* Logs and returns -abs(error), so callers can `return log_error_errno(r, "...")`. */
int log_internal(LogLevel level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) log_internal(level, error, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, e, __VA_ARGS__)
