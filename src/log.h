/*
 * Logging: one line per event, prefixed with a timestamp, the pid and, while
 * a request is in hand, its request id; as text or as one JSON object
 * (log_set_format).  Lines go to the file opened by log_open
 * (LOG_DIR/fileupload.log), to the descriptor given to log_use_fd, or to
 * stderr before either.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_format {
	LOG_TEXT,	/* time [pid] level request-id message */
	LOG_JSON,	/* {"time", "level", "pid", "request_id", "message", ...} */
};

/* Opens (or reopens) path for appending; 0 on success, -1 with errno. */
int	log_open(const char *path);
/* Lines go to fd (standard output, say) from now on: no file to reopen. */
void	log_use_fd(int fd);
/* The lines' form from now on (text until set).  Set before threads start. */
void	log_set_format(enum log_format);
/*
 * Copies value to out (outlen bytes), replacing CR, LF, NUL and other
 * control characters (but tab) with a space: client text can then split
 * neither a log line nor a response header.
 */
void	log_clean(const char *value, char *out, size_t outlen);
/* Sets the request id printed on every line until cleared with NULL. */
void	log_set_request_id(const char *id);

/* What a request's line says, besides its request id. */
struct log_request {
	const char	*method;
	const char	*path;		/* cleaned of control characters */
	int		 status;
	unsigned long long bytes;	/* of the answer's body */
	double		 ms;		/* from the request's start */
	const char	*hash;		/* the file's, NULL or "" when none */
};

/*
 * One request's line: "METHOD PATH STATUS BYTES MSms HASH" as text; in
 * JSON that message and each field as a member of its own.
 */
void	log_request(const struct log_request *);
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
