/*
 * Unit tests of the client address a connection keeps from accept
 * (hr_conn_peer_text in src/http/conn.c): IPv4 and IPv6 text forms, and
 * nothing when the address is unknown.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "harness/unit.h"
#include "http/internal.h"

static void test_ipv4(void)
{
	hr_conn c;
	memset(&c, 0, sizeof c);
	c.peer_family = AF_INET;
	HR_REQUIRE(inet_pton(AF_INET, "192.0.2.7", c.peer) == 1);
	char out[46];
	HR_CHECK(hr_conn_peer_text(&c, out) == 9);
	HR_CHECK(strcmp(out, "192.0.2.7") == 0);
}

static void test_ipv6(void)
{
	hr_conn c;
	memset(&c, 0, sizeof c);
	c.peer_family = AF_INET6;
	HR_REQUIRE(inet_pton(AF_INET6, "2001:db8::42", c.peer) == 1);
	char out[46];
	HR_CHECK(hr_conn_peer_text(&c, out) == strlen("2001:db8::42"));
	HR_CHECK(strcmp(out, "2001:db8::42") == 0);
	/* the longest form fits */
	HR_REQUIRE(inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", c.peer) == 1);
	HR_CHECK(hr_conn_peer_text(&c, out) > 0 && strlen(out) < sizeof out);
}

static void test_unknown(void)
{
	hr_conn c;
	memset(&c, 0, sizeof c);
	char out[46] = "stale";
	HR_CHECK(hr_conn_peer_text(&c, out) == 0);
	HR_CHECK(out[0] == '\0');
}

static const hr_test_case tests[] = {
	{"ipv4", test_ipv4},
	{"ipv6", test_ipv6},
	{"unknown", test_unknown},
};

HR_TEST_MAIN(tests)
