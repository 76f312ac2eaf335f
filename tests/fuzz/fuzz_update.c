/*
 * libFuzzer target for the PUT body validator and the upload file name
 * cleaner: whatever they accept must meet API.md's rules.
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
	return 0;
}
