#include "webhook_backoff.h"

uint64_t
webhook_backoff_ms(unsigned tries, uint64_t base_ms, uint64_t cap_ms,
    uint32_t rnd)
{
	uint64_t	 step = base_ms, half;
	unsigned	 i;

	if (tries == 0 || base_ms == 0)
		return 0;
	/* Doubles until the cap; never past it, whatever tries is. */
	for (i = 1; i < tries && step < cap_ms; i++)
		step = step > UINT64_MAX / 2 ? UINT64_MAX : step * 2;
	if (step > cap_ms)
		step = cap_ms;
	half = step / 2;
	return step - half + rnd % (half + 1);
}
