/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 sequence check shared by the log writer and the frame encoder, both
 * of which must never emit invalid JSON text. Private to src/: it is not part
 * of the util interface in include/ocppgw/util.h.
 */
#ifndef OCPPGW_SRC_UTF8_H
#define OCPPGW_SRC_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at @s (at most @n bytes, n > 0), or 0
 * when it is invalid (overlong, surrogate, above U+10FFFF, cut short). */
static inline size_t ogw_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

#endif
