/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the configuration table (common/config.c), read through a fake environment. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test-util.h"
#include "cleanup.h"
#include "config.h"

/* The fake environment: up to four NAME=VALUE pairs. */
static const char *fake_env[4][2];

static const char *fake_getenv(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(fake_env); i++)
                if (fake_env[i][0] && strcmp(fake_env[i][0], name) == 0)
                        return fake_env[i][1];
        return NULL;
}

static void set_env(const char *name, const char *value)
{
        memset(fake_env, 0, sizeof fake_env);
        fake_env[0][0] = name;
        fake_env[0][1] = value;
}

static void test_defaults(void)
{
        Config cfg = CONFIG_NULL;
        char err[256] = "";
        set_env(NULL, NULL);
        int r = config_load_from(&cfg, fake_getenv, err, sizeof err);
        CHECK(r == 0, "defaults: %s", err);
        CHECK(cfg.run_default.cpu_ms == 5000, "cpu %llu", (unsigned long long)cfg.run_default.cpu_ms);
        CHECK(cfg.run_default.wall_ms == 10000, "wall %llu", (unsigned long long)cfg.run_default.wall_ms);
        CHECK(cfg.run_default.memory_kb == 262144, "memory %llu", (unsigned long long)cfg.run_default.memory_kb);
        CHECK(cfg.run_default.pids == 64, "pids %llu", (unsigned long long)cfg.run_default.pids);
        CHECK(cfg.run_default.output_kb == 1024, "output %llu", (unsigned long long)cfg.run_default.output_kb);
        CHECK(cfg.compile_limits.wall_ms == 15000, "compile wall %llu",
                (unsigned long long)cfg.compile_limits.wall_ms);
        CHECK(cfg.compile_limits.memory_kb == 524288, "compile memory %llu",
                (unsigned long long)cfg.compile_limits.memory_kb);
        CHECK(cfg.run_default.cpu_ms <= cfg.run_max.cpu_ms && cfg.run_default.memory_kb <= cfg.run_max.memory_kb &&
                        cfg.run_default.pids <= cfg.run_max.pids,
                "defaults within maxima");
        CHECK(cfg.policy_dir && cfg.policy_dir[0], "policy_dir has a default");
        CHECK(cfg.log_level && strcmp(cfg.log_level, "info") == 0, "log_level %s", cfg.log_level);
        CHECK(cfg.cgroup_root && strcmp(cfg.cgroup_root, "") == 0, "cgroup_root");
        config_deinit(&cfg);
        CHECK(!cfg.policy_dir && !cfg.log_level, "deinit clears strings");
        config_deinit(&cfg); /* twice is harmless */
}

static void test_overrides(void)
{
        Config cfg = CONFIG_NULL;
        char err[256] = "";

        set_env("SENTINEL_CPU_TIME_MS", "2500");
        CHECK(config_load_from(&cfg, fake_getenv, err, sizeof err) == 0, "%s", err);
        CHECK(cfg.run_default.cpu_ms == 2500, "override %llu", (unsigned long long)cfg.run_default.cpu_ms);
        CHECK(cfg.run_default.wall_ms == 10000, "others keep defaults");
        config_deinit(&cfg);

        set_env("SENTINEL_LOG_LEVEL", "debug");
        CHECK(config_load_from(&cfg, fake_getenv, err, sizeof err) == 0, "%s", err);
        CHECK(strcmp(cfg.log_level, "debug") == 0, "string override %s", cfg.log_level);
        config_deinit(&cfg);

        set_env("SENTINEL_POLICY_DIR", "/srv/policies");
        CHECK(config_load_from(&cfg, fake_getenv, err, sizeof err) == 0, "%s", err);
        CHECK(strcmp(cfg.policy_dir, "/srv/policies") == 0, "policy_dir %s", cfg.policy_dir);
        config_deinit(&cfg);

        /* Bounds are inclusive. */
        set_env("SENTINEL_PIDS", "1");
        CHECK(config_load_from(&cfg, fake_getenv, err, sizeof err) == 0 && cfg.run_default.pids == 1, "%s", err);
        config_deinit(&cfg);
        memset(fake_env, 0, sizeof fake_env);
        fake_env[0][0] = "SENTINEL_MAX_PIDS";
        fake_env[0][1] = "32768";
        fake_env[1][0] = "SENTINEL_PIDS";
        fake_env[1][1] = "32768";
        CHECK(config_load_from(&cfg, fake_getenv, err, sizeof err) == 0 && cfg.run_default.pids == 32768, "%s", err);
        config_deinit(&cfg);
}

static void test_rejects(void)
{
        static const struct {
                const char *name, *value;
        } bad[] = {
                {"SENTINEL_CPU_TIME_MS", "abc"},
                {"SENTINEL_CPU_TIME_MS", ""},
                {"SENTINEL_CPU_TIME_MS", "12ms"},
                {"SENTINEL_CPU_TIME_MS", "1.5"},
                {"SENTINEL_CPU_TIME_MS", "0x10"},
                {"SENTINEL_CPU_TIME_MS", " 100"},
                {"SENTINEL_CPU_TIME_MS", "100 "},
                {"SENTINEL_CPU_TIME_MS", "+100"},
                {"SENTINEL_MEMORY_KB", "-1"},
                {"SENTINEL_MEMORY_KB", " -1"},
                {"SENTINEL_WALL_TIME_MS", "99999999999999999999999"},
                {"SENTINEL_CPU_TIME_MS", "9"},         /* below min 10 */
                {"SENTINEL_MEMORY_KB", "1024"},        /* below min 4096 */
                {"SENTINEL_PIDS", "0"},
                {"SENTINEL_MAX_PIDS", "40000"},        /* above max 32768 */
                {"SENTINEL_PIDS", "300"},              /* default above SENTINEL_MAX_PIDS (256) */
                {"SENTINEL_CPU_TIME_MS", "60001"},     /* above SENTINEL_MAX_CPU_TIME_MS */
                {"SENTINEL_MAX_MEMORY_KB", "131072"},  /* max below the default memory */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Config cfg = CONFIG_NULL;
                char err[256] = "";
                set_env(bad[i].name, bad[i].value);
                int r = config_load_from(&cfg, fake_getenv, err, sizeof err);
                CHECK(r == -EINVAL, "%s=\"%s\" accepted (r=%d)", bad[i].name, bad[i].value, r);
                /* The message names the variable (for cross-field rules, the pair's default side). */
                const char *name = bad[i].name;
                const char *short_name = strncmp(name, "SENTINEL_MAX_", 13) == 0 ? name + 13 : name + 9;
                CHECK(strstr(err, name) || strstr(err, short_name), "%s=\"%s\": message \"%s\"", name, bad[i].value,
                        err);
                CHECK(!cfg.policy_dir && !cfg.log_level, "%s: strings freed on failure", name);
        }

        /* Messages say what went wrong. */
        Config cfg = CONFIG_NULL;
        char err[256] = "";
        set_env("SENTINEL_PIDS", "300");
        config_load_from(&cfg, fake_getenv, err, sizeof err);
        CHECK(strstr(err, "SENTINEL_PIDS") && strstr(err, "SENTINEL_MAX_PIDS"), "%s", err);
        set_env("SENTINEL_MEMORY_KB", "1024");
        config_load_from(&cfg, fake_getenv, err, sizeof err);
        CHECK(strstr(err, "SENTINEL_MEMORY_KB") && strstr(err, "out of range"), "%s", err);
        set_env("SENTINEL_MEMORY_KB", "lots");
        config_load_from(&cfg, fake_getenv, err, sizeof err);
        CHECK(strstr(err, "SENTINEL_MEMORY_KB") && strstr(err, "not a whole number"), "%s", err);
}

int main(void)
{
        test_defaults();
        test_overrides();
        test_rejects();
        return test_summary();
}
