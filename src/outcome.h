/*
 * The one place where a database, store or request body error becomes HTTP: its status
 * and the client's error text.  A 5xx is logged with what the caller was
 * doing, since the client learns no more than the text.
 */
#ifndef OUTCOME_H
#define OUTCOME_H

#include "db.h"
#include "request.h"
#include "store.h"

struct outcome {
	int		 status;
	const char	*reason;	/* the JSON error's text */
};

/*
 * The answer to a database error (DB_OK has none: 500).  For a 5xx, what
 * (NULL: nothing is logged) and db_last_error() are logged.
 */
struct outcome	outcome_db(enum db_error, const char *what);
/*
 * The answer to a store error; for a 5xx, what and errno are logged.  Each
 * call counts one storage error (metrics.h), as does each outcome_body.
 */
struct outcome	outcome_store(enum store_error, const char *what);
/* The answer to a body that could not be read (request_read's -1). */
struct outcome	outcome_body(enum body_error);

/*
 * A request's first error is the one it answers: o (status 0 while fine)
 * takes status and reason, or e, unless it holds an error already.  Both
 * return -1, for "return outcome_fail(...)" in a step that failed.
 */
int		outcome_fail(struct outcome *o, int status, const char *reason);
int		outcome_keep(struct outcome *o, struct outcome e);

#endif
