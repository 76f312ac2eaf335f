/*
 * blake2b_speed: libsodium BLAKE2b-256 (crypto_generichash, as src/hash.c
 * uses it) over a buffer of random bytes fed in chunks, the CPU ceiling of
 * the large upload in tests/bench/run.sh.
 *
 *	gcc -O2 -o blake2b_speed blake2b_speed.c -lsodium
 *	./blake2b_speed [TOTAL_MIB [CHUNK_KIB]]	# defaults: 256, 256
 *
 * Prints "blake2b bytes=N seconds=S mb_per_s=R" (MB = 10^6 bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	size_t		 total, chunk, off;
	unsigned char	*buf, out[32];
	crypto_generichash_state st;
	double		 t0, t;

	total = (size_t)(argc > 1 ? atol(argv[1]) : 256) << 20;
	chunk = (size_t)(argc > 2 ? atol(argv[2]) : 256) << 10;
	if (total == 0 || chunk == 0 || sodium_init() < 0)
		return 2;
	if ((buf = malloc(total)) == NULL)
		return 2;
	randombytes_buf(buf, total);	/* also faults every page in */

	t0 = now();
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	for (off = 0; off < total; off += chunk)
		crypto_generichash_update(&st, buf + off,
		    total - off < chunk ? total - off : chunk);
	crypto_generichash_final(&st, out, sizeof(out));
	t = now() - t0;

	printf("blake2b bytes=%zu seconds=%.6f mb_per_s=%.1f first_byte=%02x\n",
	    total, t, total / t / 1e6, out[0]);
	free(buf);
	return 0;
}
