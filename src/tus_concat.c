/*
 * tus concatenation: a final upload from its partial uploads (tus_concat.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "tus_concat.h"

/* Bytes read back at once: a ranged GET each on S3. */
#define READ_STEP	(4u << 20)

int
concat_final_ids(const char *v, char ids[][TUS_ID_LEN + 1], int max)
{
	const char	*p, *end;
	size_t		 len, base = strlen(ROUTER_UPLOADS "/");
	int		 n = 0;

	if (strncmp(v, CONCAT_FINAL, strlen(CONCAT_FINAL)) != 0)
		return -1;
	for (p = v + strlen(CONCAT_FINAL); *p != '\0'; p = end) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && *end != ' '; end++)
			;
		len = (size_t)(end - p);
		/* ".../service/fileupload/uploads/<id>" */
		if (n == max || len < base + TUS_ID_LEN ||
		    strncmp(end - TUS_ID_LEN - base, ROUTER_UPLOADS "/",
		    base) != 0 || !tus_id_valid(end - TUS_ID_LEN, TUS_ID_LEN))
			return -1;
		memcpy(ids[n], end - TUS_ID_LEN, TUS_ID_LEN);
		ids[n++][TUS_ID_LEN] = '\0';
	}
	return n > 0 ? n : -1;
}

int
concat_final_value(char ids[][TUS_ID_LEN + 1], int n, char *out,
    size_t outlen)
{
	size_t	 off;
	int	 i, w;

	if ((w = snprintf(out, outlen, CONCAT_FINAL)) < 0 ||
	    (size_t)w >= outlen)
		return -1;
	off = (size_t)w;
	for (i = 0; i < n; i++) {
		w = snprintf(out + off, outlen - off, "%s" ROUTER_UPLOADS "/%s",
		    i > 0 ? " " : "", ids[i]);
		if (w < 0 || (size_t)w >= outlen - off)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* One partial upload's bytes through h into tmp (and the prefix). */
static struct outcome
copy_part(struct store *s, const struct concat_part *part, long *wait_ms,
    char *buf, struct store_tmp *tmp, struct hash_ctx *h, char *prefix,
    size_t *prefix_len)
{
	struct store_tmp p = { .fd = -1 };
	struct outcome	 o = { 0, NULL };
	enum store_error e;
	uint64_t	 off;
	size_t		 n;
	long		 got;

	/* Another final may be reading it: wait, as a PATCH does. */
	if ((e = store_part_hold(s, part->id, wait_ms, &p)) != STORE_OK) {
		if (e == STORE_ERR_NOENT)
			return (struct outcome){ 410, "a partial upload's bytes "
			    "are gone" };
		return outcome_store(e, "concatenation: open a partial upload");
	}
	if ((e = store_part_sealed(s, &p, part->size)) != STORE_OK) {
		o = e == STORE_ERR_NOENT ? (struct outcome){ 410, "a partial "
		    "upload's bytes are gone" } : outcome_store(e,
		    "concatenation: a partial upload");
		goto out;
	}
	for (off = 0; off < part->size; off += (uint64_t)got) {
		n = part->size - off < READ_STEP ? (size_t)(part->size - off) :
		    READ_STEP;
		if ((got = store_tmp_read(s, &p, buf, n, off)) <= 0) {
			o = outcome_store(STORE_ERR_IO, "concatenation: read");
			break;
		}
		hash_update(h, buf, (size_t)got);
		if (*prefix_len < MIME_PREFIX) {
			n = MIME_PREFIX - *prefix_len < (size_t)got ?
			    MIME_PREFIX - *prefix_len : (size_t)got;
			memcpy(prefix + *prefix_len, buf, n);
			*prefix_len += n;
		}
		if ((e = store_tmp_write(s, tmp, buf, (size_t)got)) !=
		    STORE_OK) {
			o = outcome_store(e, "concatenation: write");
			break;
		}
	}
out:
	store_part_close(s, &p);
	return o;
}

struct outcome
concat_assemble(struct store *s, const struct concat_part *parts, int n,
    long wait_ms, struct store_tmp *tmp, struct hash_ctx *h,
    char prefix[MIME_PREFIX], size_t *prefix_len)
{
	struct outcome	 o = { 0, NULL };
	enum store_error e;
	char		*buf;
	int		 i;

	*prefix_len = 0;
	if ((e = store_tmp_create(s, tmp)) != STORE_OK)
		return outcome_store(e, "concatenation: temp file");
	if ((buf = malloc(READ_STEP)) == NULL)
		return (struct outcome){ 503, "out of memory for the "
		    "concatenation" };
	for (i = 0; i < n && o.status == 0; i++)
		o = copy_part(s, &parts[i], &wait_ms, buf, tmp, h, prefix,
		    prefix_len);
	free(buf);
	return o;
}
