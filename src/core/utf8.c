/*
 * utf8 — decoding by the table of well-formed byte sequences (Unicode 15,
 * table 3-7): the allowed range of the second byte depends on the first.
 */
#include "utf8.h"

#include <string.h>

size_t
utf8_next(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;
	uint32_t c;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	/*
	 * The second byte's range is what rules out overlong forms (E0, F0),
	 * surrogates (ED) and code points above U+10FFFF (F4); C0, C1 and
	 * F5–FF never start a character.
	 */
	if (u[0] >= 0xC2 && u[0] <= 0xDF) {
		n = 2;
		c = u[0] & 0x1F;
	} else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
		n = 3;
		c = u[0] & 0x0F;
		if (u[0] == 0xE0)
			lo = 0xA0;
		else if (u[0] == 0xED)
			hi = 0x9F;
	} else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
		n = 4;
		c = u[0] & 0x07;
		if (u[0] == 0xF0)
			lo = 0x90;
		else if (u[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if (u[i] < 0x80 || u[i] > 0xBF)
			return 0;
		c = (c << 6) | (u[i] & 0x3F);
	}
	*cp = c;
	return n;
}

int
utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (s[i] == '\0')
			return 0;
		n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int
utf8_prefix(const char *s, int max)
{
	int n = (int)strnlen(s, (size_t)max + 1);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}
