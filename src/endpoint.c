/*
 * A server's address, resolved by this process (endpoint.h).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "log.h"

#define PROBE_MS	1000	/* a connection's wait, of several addresses */
#define RETRY_SECONDS	1	/* between two lookups that are due */

struct endpoint {
	pthread_mutex_t	 lock;
	const char	*what;		/* for the log */
	char		*name;		/* without brackets */
	unsigned	 port;
	bool		 address;	/* name is an address: no lookup */
	char		 addr[ENDPOINT_ADDR_MAX];	/* "" until found */
	time_t		 found;		/* when addr was looked up */
	time_t		 tried;		/* the last lookup, found or not */
	bool		 stale;		/* a connection failed since */
	bool		 busy;		/* a thread is looking up */
	char		 why[256];	/* the last failed lookup's reason */
};

static time_t
now_seconds(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* sa as a URL's host into out: 0 or -1. */
static int
format_address(const struct sockaddr *sa, socklen_t len,
    char out[ENDPOINT_ADDR_MAX])
{
	char	 host[NI_MAXHOST];
	int	 w;

	if (getnameinfo(sa, len, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0)
		return -1;
	w = snprintf(out, ENDPOINT_ADDR_MAX, sa->sa_family == AF_INET6 ?
	    "[%s]" : "%s", host);
	return w < 0 || w >= ENDPOINT_ADDR_MAX ? -1 : 0;
}

/* Whether a TCP connection to ai is made within PROBE_MS. */
static bool
connects(const struct addrinfo *ai)
{
	struct pollfd	 p;
	socklen_t	 len = sizeof(int);
	int		 fd, e = -1;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) == -1)
		return false;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		e = 0;
	else if (errno == EINPROGRESS) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, PROBE_MS) == 1 && getsockopt(fd, SOL_SOCKET,
		    SO_ERROR, &e, &len) == -1)
			e = -1;
	}
	close(fd);
	return e == 0;
}

/*
 * Looks the name up into out: its one address, or the first of several
 * that takes a connection (the first when none does: the server may be
 * down, and a later lookup tries again).  0, or -1 with why.
 */
static int
look_up(const char *name, unsigned port, char out[ENDPOINT_ADDR_MAX],
    char *why, size_t whylen)
{
	struct addrinfo	 hints, *res, *ai, *pick;
	char		 serv[8];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	if ((rc = getaddrinfo(name, serv, &hints, &res)) != 0) {
		snprintf(why, whylen, "%s does not resolve: %s", name,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	pick = res;
	if (res->ai_next != NULL)
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (connects(ai)) {
				pick = ai;
				break;
			}
	rc = format_address(pick->ai_addr, pick->ai_addrlen, out);
	if (rc == -1)
		snprintf(why, whylen, "%s: an address that cannot be written",
		    name);
	freeaddrinfo(res);
	return rc;
}

struct endpoint *
endpoint_new(const char *what, const char *name, unsigned port)
{
	struct endpoint	*ep;
	size_t		 n = strlen(name);

	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return NULL;
	if (n >= 2 && name[0] == '[' && name[n - 1] == ']')
		ep->name = strndup(name + 1, n - 2);
	else
		ep->name = strdup(name);
	if (ep->name == NULL ||
	    pthread_mutex_init(&ep->lock, NULL) != 0) {
		free(ep->name);
		free(ep);
		return NULL;
	}
	ep->what = what;
	ep->port = port;
	ep->address = endpoint_host_is_address(ep->name);
	/* The name has no port (that is its own argument): a colon is v6's. */
	if (ep->address && strchr(ep->name, ':') != NULL)
		snprintf(ep->addr, sizeof(ep->addr), "[%s]", ep->name);
	else if (ep->address)
		snprintf(ep->addr, sizeof(ep->addr), "%s", ep->name);
	return ep;
}

void
endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	pthread_mutex_destroy(&ep->lock);
	free(ep->name);
	free(ep);
}

bool
endpoint_is_address(const struct endpoint *ep)
{
	return ep->address;
}

bool
endpoint_host_is_address(const char *host)
{
	unsigned char	 a[sizeof(struct in6_addr)];
	char		 bare[INET6_ADDRSTRLEN];
	const char	*end;
	size_t		 n;
	int		 af = AF_INET;

	if (inet_pton(AF_INET6, host, a) == 1)
		return true;
	if (host[0] == '[') {
		af = AF_INET6;
		end = strchr(++host, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
	} else
		end = host + strcspn(host, ":");
	if ((n = (size_t)(end - host)) >= sizeof(bare))
		return false;
	memcpy(bare, host, n);
	bare[n] = '\0';
	return inet_pton(af, bare, a) == 1;
}

int
endpoint_address(struct endpoint *ep, char out[ENDPOINT_ADDR_MAX],
    char *err, size_t errlen)
{
	char	 fresh[ENDPOINT_ADDR_MAX], why[sizeof(ep->why)];
	time_t	 now = now_seconds();
	bool	 due;
	int	 rc = 0;

	pthread_mutex_lock(&ep->lock);
	due = !ep->address && !ep->busy && (ep->tried == 0 ||
	    now - ep->tried >= RETRY_SECONDS) && (ep->addr[0] == '\0' ||
	    ep->stale || now - ep->found >= ENDPOINT_TTL);
	if (due) {
		/* The others go on with the previous address meanwhile. */
		ep->busy = true;
		pthread_mutex_unlock(&ep->lock);
		rc = look_up(ep->name, ep->port, fresh, why, sizeof(why));
		pthread_mutex_lock(&ep->lock);
		ep->busy = false;
		ep->tried = now_seconds();
		if (rc == 0) {
			if (strcmp(ep->addr, fresh) != 0)
				log_info("%s: %s:%u is at %s", ep->what,
				    ep->name, ep->port, fresh);
			memcpy(ep->addr, fresh, sizeof(ep->addr));
			ep->found = ep->tried;
			ep->stale = false;
		} else {
			log_warnx("%s: %s%s", ep->what, why,
			    ep->addr[0] != '\0' ? "; keeping the address "
			    "found before" : "");
			memcpy(ep->why, why, sizeof(ep->why));
		}
	}
	if (ep->addr[0] == '\0') {
		snprintf(err, errlen, "%s", ep->why[0] != '\0' ? ep->why :
		    "not looked up yet");
		rc = -1;
	} else {
		memcpy(out, ep->addr, ENDPOINT_ADDR_MAX);
		rc = 0;
	}
	pthread_mutex_unlock(&ep->lock);
	return rc;
}

void
endpoint_failed(struct endpoint *ep)
{
	pthread_mutex_lock(&ep->lock);
	ep->stale = true;
	pthread_mutex_unlock(&ep->lock);
}
