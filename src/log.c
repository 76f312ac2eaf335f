#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

/* A message's text; a line (text, or its JSON) has room for it escaped. */
#define LOG_MSG_MAX	2048
#define LOG_LINE_MAX	8192

static int		 log_fd = STDERR_FILENO;
static bool		 log_file;	/* log_fd is log_open's file */
static enum log_format	 log_format = LOG_TEXT;
/* Each request thread logs its own request's id. */
static __thread char	 log_reqid[72];

/* A line being formatted: appends clamp, leaving room for its end. */
struct line {
	char	 buf[LOG_LINE_MAX];
	size_t	 n;
};

int
log_open(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) == -1)
		return -1;
	if (!log_file) {
		log_fd = fd;
		log_file = true;
		return 0;
	}
	/*
	 * A reopen: the new file takes the old descriptor's number in one
	 * step, so threads writing meanwhile never see a closed descriptor.
	 */
	if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
log_use_fd(int fd)
{
	log_fd = fd;
	log_file = false;
}

void
log_set_format(enum log_format f)
{
	log_format = f;
}

void
log_clean(const char *value, char *out, size_t outlen)
{
	size_t	 i;

	if (outlen == 0)
		return;
	for (i = 0; value[i] != '\0' && i < outlen - 1; i++) {
		unsigned char c = value[i];

		out[i] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : c;
	}
	out[i] = '\0';
}

void
log_set_request_id(const char *id)
{
	if (id == NULL)
		log_reqid[0] = '\0';
	else
		snprintf(log_reqid, sizeof(log_reqid), "%s", id);
}

/* Room for the line's end: "}\n" and the NUL. */
static size_t
line_room(const struct line *l)
{
	return sizeof(l->buf) - 3 - l->n;
}

static void
line_put(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line_put(struct line *l, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room = line_room(l);
	int	 m;

	va_start(ap, fmt);
	m = vsnprintf(l->buf + l->n, room + 1, fmt, ap);
	va_end(ap);
	if (m > 0)
		l->n += (size_t)m > room ? room : (size_t)m;
}

/*
 * s as a JSON string literal: quotes, backslashes and control characters
 * escaped, a byte that is not well-formed UTF-8 as U+FFFD; cut short, never
 * inside an escape, where the line is full.
 */
static void
line_put_json(struct line *l, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, k;
	char			 esc[8];

	line_put(l, "\"");
	while (i < len) {
		k = utf8_seq(p + i, len - i);
		if (k == 0)
			snprintf(esc, sizeof(esc), "\\ufffd");
		else if (p[i] == '"' || p[i] == '\\')
			snprintf(esc, sizeof(esc), "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
		else
			snprintf(esc, sizeof(esc), "%.*s", (int)k, p + i);
		if (strlen(esc) + 1 > line_room(l))
			break;
		line_put(l, "%s", esc);
		i += k == 0 ? 1 : k;
	}
	line_put(l, "\"");
}

/* A string member, null when s is NULL or empty. */
static void
line_put_member(struct line *l, const char *name, const char *s)
{
	line_put(l, ",\"%s\":", name);
	if (s == NULL || *s == '\0')
		line_put(l, "null");
	else
		line_put_json(l, s);
}

/*
 * Writes one line: the prefix (time, pid, level, request id) and msg, as
 * text or JSON; r adds a request's fields to the JSON.  One write(2), so
 * lines of several workers sharing the O_APPEND file never interleave.
 */
static void
log_emit(const char *level, const char *msg, const struct log_request *r)
{
	struct line	 l;
	struct timespec	 ts;
	struct tm	 tm;
	char		 now[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(now, sizeof(now), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	l.n = 0;
	if (log_format == LOG_TEXT) {
		line_put(&l, "%s [%ld] %s %s %s", now, (long)getpid(), level,
		    log_reqid[0] != '\0' ? log_reqid : "-", msg);
		l.buf[l.n++] = '\n';
		(void)!write(log_fd, l.buf, l.n);
		return;
	}
	line_put(&l, "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%ld", now,
	    level, (long)getpid());
	line_put_member(&l, "request_id", log_reqid);
	line_put_member(&l, "message", msg);
	if (r != NULL) {
		line_put_member(&l, "method", r->method);
		line_put_member(&l, "path", r->path);
		line_put(&l, ",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.1f",
		    r->status, r->bytes, r->ms);
		line_put_member(&l, "hash", r->hash);
	}
	l.buf[l.n++] = '}';
	l.buf[l.n++] = '\n';
	(void)!write(log_fd, l.buf, l.n);
}

/* Formats the message (with ": suffix" when suffix is set), then emits it. */
static void
log_vline(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char	 msg[LOG_MSG_MAX];
	int	 n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		msg[0] = '\0';
	else if (suffix != NULL && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", suffix);
	log_emit(level, msg, NULL);
}

void
log_request(const struct log_request *r)
{
	char	 msg[LOG_MSG_MAX];
	const char *hash = r->hash != NULL && r->hash[0] != '\0' ? r->hash : "-";

	snprintf(msg, sizeof(msg), "%s %s %d %llu %.1fms %s", r->method,
	    r->path, r->status, r->bytes, r->ms, hash);
	log_emit("info", msg, r);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vline("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vline("warn", fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline("warn", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vline("fatal", fmt, ap, NULL);
	va_end(ap);
	if (log_file) {
		/* Also where an operator starting it by hand will look. */
		va_start(ap, fmt);
		fputs("fileupload-worker: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}
