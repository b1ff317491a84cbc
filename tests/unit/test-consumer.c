/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the WRONG_ANSWER rule of the worker's consumer (worker/consumer.c). */
#include <string.h>

#include "test-util.h"
#include "consumer.h"

static bool match(const char *out, const char *expected)
{
        return output_matches(out, strlen(out), expected, strlen(expected));
}

static void test_output_matches(void)
{
        static const struct {
                const char *out, *expected;
                bool same;
        } cases[] = {
                {"42\n", "42\n", true},
                {"42", "42\n", true},                  /* trailing newline */
                {"42\n\n\n", "42", true},              /* trailing empty lines */
                {"1 2 \n", "1 2\n", true},             /* trailing spaces on a line */
                {"1 2\t\r\n3", "1 2\n3\n", true},      /* tabs, CRLF */
                {"", "", true},
                {"\n", "", true},
                {"", "\n\n", true},
                {"a\n\nb\n", "a\nb\n", false},         /* an empty line inside counts */
                {" 42\n", "42\n", false},              /* leading white space counts */
                {"1  2\n", "1 2\n", false},            /* inner white space counts */
                {"42\n", "43\n", false},
                {"42\n43\n", "42\n", false},
                {"42\n", "42\n43\n", false},
                {"", "x", false},
                {"x", "", false},
                {"abc", "ab", false},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                CHECK(match(cases[i].out, cases[i].expected) == cases[i].same, "case %zu: %s vs %s", i,
                        cases[i].out, cases[i].expected);
        /* NUL bytes are data, not terminators. */
        CHECK(!output_matches("a\0b", 3, "a\0c", 3), "NUL inside");
        CHECK(output_matches("a\0b\n", 4, "a\0b", 3), "NUL inside, same");
}

int main(void)
{
        test_output_matches();
        return test_summary();
}
