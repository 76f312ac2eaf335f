/*
 * libFuzzer target for the PUT body validator and the upload file name
 * cleaner: whatever they accept must meet docs/api.md's rules.  On JU_OK at
 * least one of file_name and file_type was given and each passes
 * json_valid_name/json_valid_type; every refusal gives a reason.
 * json_clean_name's output is at most META_NAME_MAX bytes, NUL-free, valid
 * whenever non-empty, and a fixed point of json_clean_name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_update	 u;
	char			 why[256], name[META_NAME_MAX + 1];
	char			 again[META_NAME_MAX + 1];
	size_t			 n;

	switch (json_parse_update((const char *)data, size, &u, why,
	    sizeof(why))) {
	case JU_OK:
		if (!u.has_name && !u.has_type)
			abort();
		if (u.has_name && !json_valid_name(u.name, strlen(u.name)))
			abort();
		if (u.has_type && !json_valid_type(u.type, strlen(u.type)))
			abort();
		break;
	case JU_ERR_SYNTAX:
	case JU_ERR_INVALID:
		if (why[0] == '\0')
			abort();	/* every refusal says why */
		break;
	default:
		abort();
	}

	n = json_clean_name((const char *)data, size, name);
	if (n > META_NAME_MAX || strlen(name) != n)
		abort();
	if (n > 0 && !json_valid_name(name, n))
		abort();
	/* A clean name comes out as it went in: cleaning is idempotent... */
	if (json_clean_name(name, n, again) != n || memcmp(name, again, n) != 0)
		abort();
	/* ...and so is a name that was valid already. */
	if (json_valid_name((const char *)data, size) &&
	    (n != size || memcmp(name, data, size) != 0))
		abort();
	return 0;
}
