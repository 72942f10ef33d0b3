/*
 * http/date.c - HTTP-date formatting and parsing (RFC 9110 §5.6.7).
 *
 * Output is always IMF-fixdate. Input accepts the three formats a
 * recipient MUST accept: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
 * obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT", two-digit years
 * read per §5.6.7: more than 50 years ahead means the previous century)
 * and asctime ("Sun Nov  6 08:49:37 1994"). The weekday is not checked
 * against the date. Pure functions; any thread.
 */
#include <string.h>
#include <time.h>

#include "http/http.h"

void hr_http_date(int64_t t, char out[30])
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	memcpy(out, days + 3 * tm.tm_wday, 3);
	out[3] = ',';
	out[4] = ' ';
	out[5] = (char)('0' + tm.tm_mday / 10);
	out[6] = (char)('0' + tm.tm_mday % 10);
	out[7] = ' ';
	memcpy(out + 8, months + 3 * tm.tm_mon, 3);
	out[11] = ' ';
	int y = tm.tm_year + 1900;
	out[12] = (char)('0' + y / 1000 % 10);
	out[13] = (char)('0' + y / 100 % 10);
	out[14] = (char)('0' + y / 10 % 10);
	out[15] = (char)('0' + y % 10);
	out[16] = ' ';
	out[17] = (char)('0' + tm.tm_hour / 10);
	out[18] = (char)('0' + tm.tm_hour % 10);
	out[19] = ':';
	out[20] = (char)('0' + tm.tm_min / 10);
	out[21] = (char)('0' + tm.tm_min % 10);
	out[22] = ':';
	out[23] = (char)('0' + tm.tm_sec / 10);
	out[24] = (char)('0' + tm.tm_sec % 10);
	memcpy(out + 25, " GMT", 4);
	out[29] = '\0';
}

static int digits(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int month_of(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int m = 0; m < 12; m++)
		if (memcmp(p, months + 3 * m, 3) == 0)
			return m;
	return -1;
}

/* "HH:MM:SS" */
static int hms(const char *p, int *h, int *mi, int *s)
{
	if (p[2] != ':' || p[5] != ':')
		return -1;
	*h = digits(p, 2);
	*mi = digits(p + 3, 2);
	*s = digits(p + 6, 2);
	return (*h < 0 || *mi < 0 || *s < 0 || *h > 23 || *mi > 59 || *s > 60) ? -1 : 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t assemble(int y, int mon, int d, int h, int mi, int s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mon < 0 || d < 1 || d > mdays[mon] || y < 1970)
		return -1;
	return days_from_civil(y, mon + 1, d) * 86400 + h * 3600 + mi * 60 + s;
}

int64_t hr_http_parse_date(hr_str v)
{
	const char *p = v.ptr;
	int h, mi, s;
	if (v.len == 29 && p[3] == ',' && p[4] == ' ' && p[7] == ' ' && p[11] == ' ' &&
	    p[16] == ' ' && memcmp(p + 25, " GMT", 4) == 0) {
		int d = digits(p + 5, 2), y = digits(p + 12, 4);
		if (d < 0 || y < 0 || hms(p + 17, &h, &mi, &s))
			return -1;
		return assemble(y, month_of(p + 8), d, h, mi, s);
	}
	if (v.len == 24 && p[3] == ' ' && p[7] == ' ' && p[10] == ' ' && p[19] == ' ') {
		int d = p[8] == ' ' ? digits(p + 9, 1) : digits(p + 8, 2);
		int y = digits(p + 20, 4);
		if (d < 0 || y < 0 || hms(p + 11, &h, &mi, &s))
			return -1;
		return assemble(y, month_of(p + 4), d, h, mi, s);
	}
	const char *comma = memchr(p, ',', v.len < 10 ? v.len : 10);
	if (comma) {
		size_t off = (size_t)(comma - p) + 2;
		if (v.len != off + 22 || comma[1] != ' ')
			return -1;
		const char *q = p + off;
		if (q[2] != '-' || q[6] != '-' || q[9] != ' ' || memcmp(q + 18, " GMT", 4) != 0)
			return -1;
		int d = digits(q, 2), yy = digits(q + 7, 2);
		if (d < 0 || yy < 0 || hms(q + 10, &h, &mi, &s))
			return -1;
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		int cur = tm.tm_year + 1900;
		int y = cur / 100 * 100 + yy;
		if (y > cur + 50)
			y -= 100;
		return assemble(y, month_of(q + 3), d, h, mi, s);
	}
	return -1;
}
