/*
 * A server's address as this process resolves it: the name is looked up
 * with the system's resolver (getaddrinfo: /etc/hosts, then DNS) and, of
 * several addresses, the first that takes a TCP connection is kept.
 *
 * The S3 client connects to that address (the name stays the Host header,
 * the TLS server name and the name the certificate must match) and hands
 * it to nginx in a download's redirect: nginx resolves a name in a
 * variable only with a DNS server of its own (its "resolver"), so it is
 * given an address instead, and the worker's own requests (uploads,
 * health) go where the downloads go.
 *
 * The address is looked up again once it is ENDPOINT_TTL seconds old and
 * after a failed connection (at most once a second); a lookup that fails
 * keeps the previous address.  One endpoint is shared by a process's
 * threads: one of them looks up at a time, the others go on with the
 * previous address meanwhile.
 */
#ifndef ENDPOINT_H
#define ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#define ENDPOINT_TTL		60	/* seconds */
#define ENDPOINT_ADDR_MAX	48	/* "[v6 address]" with its NUL */

struct endpoint;

/*
 * The endpoint of name (a host name, or an address: v4, or v6 with or
 * without brackets) and TCP port; what names it in log lines (e.g. the
 * setting it comes from).  Nothing is looked up yet.  NULL when out of
 * memory.
 */
struct endpoint	*endpoint_new(const char *what, const char *name,
		    unsigned port);
/* NULL is fine. */
void		 endpoint_free(struct endpoint *);
/*
 * The address to connect to, as a URL writes it ("192.0.2.7",
 * "[2001:db8::7]"), into out; looked up first when it is due.  0, or -1
 * with a one-line reason in err ("<name> does not resolve: ...") when no
 * lookup has found one yet.
 */
int		 endpoint_address(struct endpoint *,
		    char out[ENDPOINT_ADDR_MAX], char *err, size_t errlen);
/* A connection to the address failed: look the name up at the next use. */
void		 endpoint_failed(struct endpoint *);
/* Whether the name is an address, which is never looked up. */
bool		 endpoint_is_address(const struct endpoint *);
/*
 * Whether host is an IP address rather than a name: v4, or v6 in brackets
 * or bare, as a URL writes it, with or without its ":port"
 * ("192.0.2.7:9000", "[2001:db8::7]", "2001:db8::7").
 */
bool		 endpoint_host_is_address(const char *host);

#endif
