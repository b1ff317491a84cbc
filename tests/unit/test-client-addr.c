/* SPDX-License-Identifier: Apache-2.0 */
/* api/client-addr.c: trusted proxies and X-Forwarded-For. */
#include <string.h>

#include "client-addr.h"
#include "test-util.h"

static void check_identity(const char *peer, const char *xff, const char *trusted, const char *want)
{
        char buf[64];
        client_identity(peer, xff, trusted, buf, sizeof buf);
        CHECK(strcmp(buf, want) == 0, "peer %s xff %s trusted %s: got %s, want %s", peer, xff ? xff : "(none)",
                trusted, buf, want);
}

int main(void)
{
        CHECK(addr_in_list("10.1.2.3", "10.0.0.0/8"));
        CHECK(addr_in_list("10.1.2.3", "192.168.0.1, 10.1.2.3"));
        CHECK(!addr_in_list("11.1.2.3", "10.0.0.0/8"));
        CHECK(addr_in_list("172.16.5.4", "172.16.0.0/12"));
        CHECK(!addr_in_list("172.32.0.1", "172.16.0.0/12"));
        CHECK(addr_in_list("::1", "127.0.0.1, ::1"));
        CHECK(addr_in_list("fd12::5", "fd00::/8"));
        CHECK(!addr_in_list("fe80::1", "fd00::/8"));
        CHECK(addr_in_list("1.2.3.4", "0.0.0.0/0"));
        CHECK(!addr_in_list("::1", "0.0.0.0/0"));      /* families do not mix */
        CHECK(!addr_in_list("10.0.0.1", "10.0.0.0/33")); /* malformed entries match nothing */
        CHECK(!addr_in_list("10.0.0.1", "10.0.0.0/"));
        CHECK(!addr_in_list("10.0.0.1", "10.0.0.0/8x"));
        CHECK(!addr_in_list("10.0.0.1", "garbage, , ,"));
        CHECK(!addr_in_list("not an address", "0.0.0.0/0"));
        CHECK(!addr_in_list("10.0.0.1", ""));

        char bad[64] = "";
        CHECK(addr_list_valid("10.0.0.0/8, ::1 ,fd00::/8", bad, sizeof bad));
        CHECK(addr_list_valid("", bad, sizeof bad) && addr_list_valid(NULL, bad, sizeof bad));
        CHECK(!addr_list_valid("10.0.0.0/8, 10.0.0.0/33", bad, sizeof bad) && strcmp(bad, "10.0.0.0/33") == 0, "%s", bad);
        CHECK(!addr_list_valid("ingress.local", bad, sizeof bad) && strcmp(bad, "ingress.local") == 0, "%s", bad);

        check_identity("10.0.0.7", "203.0.113.9", "", "10.0.0.7");                 /* nothing trusted */
        check_identity("10.0.0.7", "203.0.113.9", "10.0.0.0/8", "203.0.113.9");
        /* Only the last entry is the proxy's own: what the client wrote before it is not believed. */
        check_identity("10.0.0.7", "1.1.1.1, 203.0.113.9", "10.0.0.0/8", "203.0.113.9");
        check_identity("10.0.0.7", " 2001:db8::1 ", "10.0.0.0/8", "2001:db8::1");
        check_identity("10.0.0.7", "1.1.1.1, not-an-ip", "10.0.0.0/8", "10.0.0.7");
        check_identity("10.0.0.7", NULL, "10.0.0.0/8", "10.0.0.7");
        check_identity("198.51.100.1", "203.0.113.9", "10.0.0.0/8", "198.51.100.1"); /* untrusted peer */
        return test_summary();
}
