/*
 * core/str.c - slice comparisons, list walking, bounded integer parsing and
 * percent-decoding. See str.h. Pure functions; any thread.
 */
#include "core/str.h"

#include "core/common.h"

bool hr_str_ieq(hr_str a, hr_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (hr_lower((unsigned char)a.ptr[i]) != hr_lower((unsigned char)b.ptr[i]))
			return false;
	return true;
}

bool hr_str_istarts(hr_str s, hr_str prefix)
{
	if (s.len < prefix.len)
		return false;
	return hr_str_ieq(hr_str_make(s.ptr, prefix.len), prefix);
}

hr_str hr_str_trim_ows(hr_str s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int hr_str_to_u64(hr_str s, uint64_t max, uint64_t *out)
{
	if (s.len == 0)
		return HR_EPARSE;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.ptr[i] - '0';
		if (d > 9)
			return HR_EPARSE;
		if (d > max || v > (max - d) / 10)
			return HR_E2BIG;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int hexval(unsigned char c)
{
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	c |= 0x20;
	if ((unsigned)(c - 'a') < 6u)
		return c - 'a' + 10;
	return -1;
}

int hr_str_hex_to_u64(hr_str s, uint64_t max, uint64_t *out)
{
	if (s.len == 0)
		return HR_EPARSE;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		int d = hexval((unsigned char)s.ptr[i]);
		if (d < 0)
			return HR_EPARSE;
		if ((uint64_t)d > max || v > (max - (uint64_t)d) / 16)
			return HR_E2BIG;
		v = v * 16 + (uint64_t)d;
	}
	*out = v;
	return 0;
}

bool hr_str_list_next(hr_str s, size_t *pos, hr_str *elem)
{
	size_t i = *pos;
	while (i < s.len) {
		size_t start = i;
		while (i < s.len && s.ptr[i] != ',')
			i++;
		hr_str e = hr_str_trim_ows(hr_str_make(s.ptr + start, i - start));
		if (i < s.len)
			i++;
		if (e.len) {
			*pos = i;
			*elem = e;
			return true;
		}
	}
	*pos = i;
	return false;
}

bool hr_str_list_has(hr_str s, hr_str token)
{
	size_t pos = 0;
	hr_str e;
	while (hr_str_list_next(s, &pos, &e)) {
		size_t n = 0;
		while (n < e.len && e.ptr[n] != ';' && e.ptr[n] != ' ' && e.ptr[n] != '\t')
			n++;
		if (hr_str_ieq(hr_str_make(e.ptr, n), token))
			return true;
	}
	return false;
}

long hr_str_pct_decode(hr_str src, char *dst, bool plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < src.len; i++) {
		char c = src.ptr[i];
		if (c == '%') {
			if (src.len - i < 3)
				return -1;
			int hi = hexval((unsigned char)src.ptr[i + 1]);
			int lo = hexval((unsigned char)src.ptr[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			dst[o++] = ' ';
		} else {
			dst[o++] = c;
		}
	}
	return (long)o;
}

/* tchar; see str.h for the grammar (RFC 9110 §5.6.2). */
const unsigned char hr_str_tchar_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/* HTAB / SP / VCHAR / obs-text; see str.h (RFC 9110 §5.5). */
const unsigned char hr_str_field_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x90 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xA0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xB0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xC0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xD0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xE0 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xF0 */
};

bool hr_str_is_token(hr_str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!hr_str_tchar_map[(unsigned char)s.ptr[i]])
			return false;
	return true;
}
