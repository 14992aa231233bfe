/*
 * uuid — shape check only; the database says whether the record exists.
 */
#include "uuid.h"

#include <ctype.h>

int
uuid_valid(const char *s)
{
	int i;

	if (!s)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return s[36] == '\0';
}
