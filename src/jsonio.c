#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "jsonio.h"
#include "links.h"
#include "utf8.h"

/* Serializes and frees obj; the caller owns the returned string. */
static char *
take_string(struct json_object *obj)
{
	const char	*s;
	char		*copy = NULL;

	if (obj == NULL)
		return NULL;
	s = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		copy = strdup(s);
	json_object_put(obj);
	return copy;
}

/* The fields of a metadata object, in docs/api.md's order. */
enum meta_field {
	MF_HASH, MF_NAME, MF_TYPE, MF_SIZE, MF_CREATED, MF_UPDATED, MF__MAX
};

static const char *const meta_keys[MF__MAX] = {
	"file_hash", "file_name", "file_type", "file_size", "created_at",
	"updated_at"
};

struct json_meta_writer {
	struct json_object	*obj;
	struct json_object	*field[MF__MAX];
};

struct json_meta_writer *
json_meta_writer_new(void)
{
	struct json_meta_writer	*w;
	int			 i;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->obj = json_object_new_object()) == NULL) {
		free(w);
		return NULL;
	}
	for (i = 0; i < MF__MAX; i++) {
		w->field[i] = i == MF_SIZE ? json_object_new_int64(0) :
		    json_object_new_string("");
		/* The object owns the field; the writer keeps a borrowed handle. */
		if (w->field[i] == NULL ||
		    json_object_object_add(w->obj, meta_keys[i], w->field[i]) != 0) {
			json_object_put(w->field[i]);
			json_meta_writer_free(w);
			return NULL;
		}
	}
	return w;
}

const char *
json_meta_writer_format(struct json_meta_writer *w, const struct meta *m,
    size_t *len)
{
	const char	*s;

	if (!json_object_set_string(w->field[MF_HASH], m->hash) ||
	    !json_object_set_string(w->field[MF_NAME], m->name) ||
	    !json_object_set_string(w->field[MF_TYPE], m->type) ||
	    !json_object_set_int64(w->field[MF_SIZE], (int64_t)m->size) ||
	    !json_object_set_string(w->field[MF_CREATED], m->created_at) ||
	    !json_object_set_string(w->field[MF_UPDATED], m->updated_at))
		return NULL;
	s = json_object_to_json_string_length(w->obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	return s;
}

void
json_meta_writer_free(struct json_meta_writer *w)
{
	if (w == NULL)
		return;
	json_object_put(w->obj);
	free(w);
}

char *
json_meta(const struct meta *m)
{
	struct json_meta_writer	*w;
	const char		*s;
	char			*copy = NULL;
	size_t			 len;

	if ((w = json_meta_writer_new()) == NULL)
		return NULL;
	if ((s = json_meta_writer_format(w, m, &len)) != NULL)
		copy = strdup(s);
	json_meta_writer_free(w);
	return copy;
}

char *
json_event(struct json_meta_writer *w, const struct event *e)
{
	struct json_object	*type, *at;
	const char		*file = "null";
	char			*out = NULL;
	size_t			 len;

	if (e->has_file &&
	    (file = json_meta_writer_format(w, &e->file, &len)) == NULL)
		return NULL;
	/* file_hash is 64 hex digits (its CHECK); the strings are escaped. */
	type = json_object_new_string(e->type);
	at = json_object_new_string(e->at);
	if (type != NULL && at != NULL && asprintf(&out, "{\"id\":%llu,"
	    "\"type\":%s,\"file_hash\":\"%s\",\"file\":%s,\"at\":%s}",
	    (unsigned long long)e->id, json_object_to_json_string(type),
	    e->file.hash, file, json_object_to_json_string(at)) == -1)
		out = NULL;
	json_object_put(type);
	json_object_put(at);
	return out;
}

char *
json_error(int status, const char *reason, const char *hash)
{
	struct json_object	*o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "error", json_object_new_string(reason));
	json_object_object_add(o, "status", json_object_new_int(status));
	if (hash != NULL)
		json_object_object_add(o, "file_hash",
		    json_object_new_string(hash));
	return take_string(o);
}

char *
json_string(const char *s)
{
	return take_string(json_object_new_string(s));
}

bool
json_valid_name(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	if (len == 0 || len > META_NAME_MAX)
		return false;
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/' || p[i] == '\\')
			return false;
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return false;
		/* C1 controls (U+0080..U+009F) are control characters too. */
		if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			return false;
		i += n;
	}
	return true;
}

/* RFC 6838 restricted-name characters. */
static bool
type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$&-^_.+", c) != NULL);
}

bool
json_valid_type(const char *s, size_t len)
{
	size_t	 i, slash = 0, nslash = 0;

	if (len == 0 || len > META_TYPE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '/') {
			slash = i;
			nslash++;
		} else if (!type_char(s[i]))
			return false;
	}
	/* type and subtype: non-empty, starting with a letter or digit */
	return nslash == 1 && slash > 0 && slash < len - 1 &&
	    type_char(s[0]) && strchr("!#$&-^_.+", s[0]) == NULL &&
	    strchr("!#$&-^_.+", s[slash + 1]) == NULL;
}

static bool
only_space(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return false;
	return true;
}

/* True when a JSON string in s holds the escape \u0000. */
static bool
has_nul_escape(const char *s, size_t len)
{
	size_t	 i;
	bool	 in_string = false;

	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			in_string = !in_string;
		else if (in_string && s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len &&
			    memcmp(s + i + 2, "0000", 4) == 0)
				return true;
			i++;	/* skip the escaped character */
		}
	}
	return false;
}

/*
 * Parses body (len bytes) as one JSON object, strictly (no comments or
 * single quotes; nothing but blanks after it): the object (the caller
 * puts it), or NULL with why set and *syntax true when the body is not
 * JSON at all, false when it is JSON but not an object (or hides a NUL).
 */
static struct json_object *
parse_object(const char *body, size_t len, bool *syntax, char *why,
    size_t whylen)
{
	struct json_tokener	*tok;
	struct json_object	*o;

	*syntax = true;
	if ((tok = json_tokener_new()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	/*
	 * UTF-8 is checked on the values themselves, so bad bytes are a
	 * validation error like any invalid name.
	 */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	/* A bare top-level number only ends at a terminator: give it one. */
	if (json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	else if (json_tokener_get_error(tok) == json_tokener_success &&
	    !only_space(body + json_tokener_get_parse_end(tok),
	    len - json_tokener_get_parse_end(tok)))
		goto syntax;
	/* o is NULL for a valid "null" too: the tokener's error decides. */
	if (json_tokener_get_error(tok) != json_tokener_success)
		goto syntax;
	json_tokener_free(tok);
	*syntax = false;
	/* json-c keys are C strings: a \u0000 would hide in them unseen. */
	if (has_nul_escape(body, len))
		snprintf(why, whylen, "NUL characters are not allowed");
	else if (!json_object_is_type(o, json_type_object))
		snprintf(why, whylen, "body must be a JSON object");
	else
		return o;
	if (o != NULL)
		json_object_put(o);
	return NULL;
syntax:
	if (o != NULL)
		json_object_put(o);
	json_tokener_free(tok);
	snprintf(why, whylen, "body is not valid JSON");
	return NULL;
}

enum json_update_error
json_parse_update(const char *body, size_t len, struct json_update *out,
    char *why, size_t whylen)
{
	struct json_object	*o;
	enum json_update_error	 rc = JU_ERR_INVALID;
	int			 nkeys = 0;
	bool			 syntax;

	memset(out, 0, sizeof(*out));
	if ((o = parse_object(body, len, &syntax, why, whylen)) == NULL)
		return syntax ? JU_ERR_SYNTAX : JU_ERR_INVALID;
	json_object_object_foreach(o, key, val) {
		const char	*s;
		size_t		 slen;

		nkeys++;
		if (strcmp(key, "file_name") != 0 &&
		    strcmp(key, "file_type") != 0) {
			snprintf(why, whylen, "unknown property \"%.64s\"", key);
			goto out;
		}
		if (!json_object_is_type(val, json_type_string)) {
			snprintf(why, whylen, "%s must be a string", key);
			goto out;
		}
		s = json_object_get_string(val);
		slen = (size_t)json_object_get_string_len(val);
		if (key[5] == 'n') {
			if (!json_valid_name(s, slen)) {
				snprintf(why, whylen, "file_name must be 1-255 "
				    "bytes of UTF-8 without /, \\ or control "
				    "characters");
				goto out;
			}
			memcpy(out->name, s, slen);
			out->name[slen] = '\0';
			out->has_name = true;
		} else {
			if (!json_valid_type(s, slen)) {
				snprintf(why, whylen, "file_type must be of "
				    "the form type/subtype");
				goto out;
			}
			memcpy(out->type, s, slen);
			out->type[slen] = '\0';
			out->has_type = true;
		}
	}
	if (nkeys == 0) {
		snprintf(why, whylen, "nothing to update: give file_name "
		    "and/or file_type");
		goto out;
	}
	rc = JU_OK;
out:
	json_object_put(o);
	return rc;
}

int
json_parse_link(const char *body, size_t len, uint64_t *expires_in,
    char *why, size_t whylen)
{
	struct json_object	*o;
	bool			 syntax;
	int			 rc = -1;
	int64_t			 v;

	*expires_in = LINKS_TTL_DEFAULT;
	if (only_space(body, len))
		return 0;
	if ((o = parse_object(body, len, &syntax, why, whylen)) == NULL)
		return -1;
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "expires_in") != 0) {
			snprintf(why, whylen, "unknown property \"%.64s\"", key);
			goto out;
		}
		/* An integer; a double such as 60.0 is not one. */
		v = json_object_get_int64(val);
		if (!json_object_is_type(val, json_type_int) || v < 1 ||
		    v > LINKS_TTL_MAX) {
			snprintf(why, whylen, "expires_in must be an integer "
			    "from 1 to %d (seconds)", LINKS_TTL_MAX);
			goto out;
		}
		*expires_in = (uint64_t)v;
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

char *
json_link(const char *url, const char *expires_at)
{
	struct json_object	*o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "expires_at",
	    json_object_new_string(expires_at));
	return take_string(o);
}

size_t
json_clean_name(const char *in, size_t len, char out[META_NAME_MAX + 1])
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i, o = 0, n, start = 0;

	for (i = 0; i < len; i++)
		if (p[i] == '/' || p[i] == '\\')
			start = i + 1;
	for (i = start; i < len; i += n) {
		const char	*rep = NULL;
		size_t		 replen;

		n = utf8_seq(p + i, len - i);
		if (n == 0) {
			rep = "\xef\xbf\xbd";	/* U+FFFD */
			n = 1;
		} else if (p[i] < 0x20 || p[i] == 0x7f ||
		    (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
			rep = "_";
		replen = rep != NULL ? strlen(rep) : n;
		if (o + replen > META_NAME_MAX)
			break;
		memcpy(out + o, rep != NULL ? rep : in + i, replen);
		o += replen;
	}
	out[o] = '\0';
	return o;
}
