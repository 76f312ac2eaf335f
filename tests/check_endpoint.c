/*
 * Unit tests of the endpoint's address: which hosts are addresses, those
 * taken as they are, a name looked up (localhost, which every system
 * resolves) to the address that takes a connection, and the S3 client's
 * redirect target built on it.  A name that does not resolve is the
 * integration scenarios' (it waits on the system's DNS).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "s3.h"
#include "testutil.h"

/* A listening socket on 127.0.0.1: its port into *port, its fd. */
static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t	 len = sizeof(sin);
	int		 fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

START_TEST(test_addresses)
{
	struct endpoint	*ep;
	char		 addr[ENDPOINT_ADDR_MAX], err[256];

	ep = endpoint_new("test", "192.0.2.7", 9000);
	ck_assert_ptr_nonnull(ep);
	ck_assert(endpoint_is_address(ep));
	ck_assert_int_eq(endpoint_address(ep, addr, err, sizeof(err)), 0);
	ck_assert_str_eq(addr, "192.0.2.7");
	endpoint_failed(ep);	/* an address is never looked up */
	ck_assert_int_eq(endpoint_address(ep, addr, err, sizeof(err)), 0);
	ck_assert_str_eq(addr, "192.0.2.7");
	endpoint_free(ep);

	ep = endpoint_new("test", "[2001:db8::7]", 443);
	ck_assert(endpoint_is_address(ep));
	ck_assert_int_eq(endpoint_address(ep, addr, err, sizeof(err)), 0);
	ck_assert_str_eq(addr, "[2001:db8::7]");
	endpoint_free(ep);
	endpoint_free(NULL);
}
END_TEST

/* localhost: of its addresses, the one a server listens on. */
START_TEST(test_name)
{
	struct endpoint	*ep;
	char		 addr[ENDPOINT_ADDR_MAX], err[256];
	unsigned	 port;
	int		 fd = listen_loopback(&port);

	ep = endpoint_new("test", "localhost", port);
	ck_assert_ptr_nonnull(ep);
	ck_assert(!endpoint_is_address(ep));
	ck_assert_msg(endpoint_address(ep, addr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(addr, "127.0.0.1");
	endpoint_failed(ep);
	ck_assert_int_eq(endpoint_address(ep, addr, err, sizeof(err)), 0);
	ck_assert_str_eq(addr, "127.0.0.1");
	endpoint_free(ep);
	close(fd);
}
END_TEST

/* The redirect target: the address, then the Host the URL is signed for. */
START_TEST(test_presigned_target)
{
	struct s3_config cfg = { .host = "localhost:9000", .bucket = "files",
	    .region = "us-east-1", .prefix = "", .access_key = "AK",
	    .secret_key = "SK", .path_style = true };
	struct s3	 s;
	char		 out[S3_URL_MAX];
	const char	*want4 = "/_fileupload_s3/http/127.0.0.1:9000/"
	    "localhost:9000/files/ab/cd/h?X-Amz-Algorithm=";
	const char	*want6 = "/_fileupload_s3/http/[::1]:9000/"
	    "localhost:9000/files/ab/cd/h?X-Amz-Algorithm=";

	ck_assert_int_eq(s3_init(&s, &cfg), 0);
	ck_assert_int_eq(s3_presigned_target(&s, "/_fileupload_s3/",
	    "ab/cd/h", out, sizeof(out)), 0);
	ck_assert_msg(strncmp(out, want4, strlen(want4)) == 0 ||
	    strncmp(out, want6, strlen(want6)) == 0, "%s", out);
	s3_fini(&s);

	cfg.host = "127.0.0.1";
	cfg.https = true;
	ck_assert_int_eq(s3_init(&s, &cfg), 0);
	ck_assert_uint_eq(s.port, 443);
	ck_assert_int_eq(s3_presigned_target(&s, "/L/", "k", out,
	    sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "/L/https/127.0.0.1:443/127.0.0.1/files/k?",
	    40) == 0, "%s", out);
	s3_fini(&s);
}
END_TEST

/* Addresses as a URL writes them, with or without a port, and names. */
START_TEST(test_host_is_address)
{
	ck_assert(endpoint_host_is_address("192.0.2.7"));
	ck_assert(endpoint_host_is_address("192.0.2.7:9000"));
	ck_assert(endpoint_host_is_address("[2001:db8::7]"));
	ck_assert(endpoint_host_is_address("[2001:db8::7]:443"));
	ck_assert(endpoint_host_is_address("[::1]"));
	ck_assert(endpoint_host_is_address("2001:db8::7"));
	ck_assert(endpoint_host_is_address("::1"));
	ck_assert(!endpoint_host_is_address("localhost"));
	ck_assert(!endpoint_host_is_address("minio:9000"));
	ck_assert(!endpoint_host_is_address("s3.example.com"));
	ck_assert(!endpoint_host_is_address("s3.example.com:8443"));
	ck_assert(!endpoint_host_is_address(""));
	/* Not an address: a v4 one in brackets, v6 unclosed, 256. */
	ck_assert(!endpoint_host_is_address("[192.0.2.7]"));
	ck_assert(!endpoint_host_is_address("[2001:db8::7"));
	ck_assert(!endpoint_host_is_address("192.0.2.256"));
	ck_assert(!endpoint_host_is_address("[2001:db8::7]x:1"));
}
END_TEST

static Suite *
endpoint_suite(void)
{
	Suite	*s = suite_create("endpoint");
	TCase	*tc = tcase_create("address");

	tcase_add_test(tc, test_host_is_address);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_presigned_target);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(endpoint_suite)
