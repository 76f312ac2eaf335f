/*
 * Logging: one line per event, prefixed with a timestamp, the pid and, while
 * a request is in hand, its request id.  Lines go to the file opened by
 * log_open (LOG_DIR/fileupload.log) or to stderr before that.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Opens (or reopens) path for appending; 0 on success, -1 with errno. */
int	log_open(const char *path);
/*
 * Copies value to out (outlen bytes), replacing CR, LF, NUL and other
 * control characters (but tab) with a space: client text can then split
 * neither a log line nor a response header.
 */
void	log_clean(const char *value, char *out, size_t outlen);
/* Sets the request id printed on every line until cleared with NULL. */
void	log_set_request_id(const char *id);

void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* As log_warnx, with ": strerror(errno)" appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failures only: log one line and exit(1). */
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
