/*
 * core/time.c - see time.h. Civil conversions use Howard Hinnant's
 * days-from-civil algorithm (proleptic Gregorian, any year), so no call
 * depends on the process's time zone or locale.
 */
#include "core/time.h"

#include <string.h>
#include <time.h>

int64_t hr_time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t hr_time_from_civil(int y, int mon, int d, int h, int mi, int s, int ms)
{
	return (days_from_civil(y, mon, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s) * 1000 + ms;
}

void hr_time_to_civil(int64_t ms, int *y, int *mon, int *d, int *h, int *mi, int *s, int *msec,
		      int *weekday)
{
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t rem_ms = ms - secs * 1000;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	if (mm <= 2)
		yy++;
	*y = (int)yy;
	*mon = mm;
	*d = dd;
	*h = (int)(sod / 3600);
	*mi = (int)(sod / 60 % 60);
	*s = (int)(sod % 60);
	*msec = (int)rem_ms;
	if (weekday)
		*weekday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void hr_time_format(int64_t ms, char out[HR_TIME_LEN + 1])
{
	int y, mon, d, h, mi, s, msec;
	hr_time_to_civil(ms, &y, &mon, &d, &h, &mi, &s, &msec, NULL);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	put2(out + 2, y % 100);
	out[4] = '-';
	put2(out + 5, mon);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = ' ';
	put2(out + 11, h);
	out[13] = ':';
	put2(out + 14, mi);
	out[16] = ':';
	put2(out + 17, s);
	out[19] = '.';
	out[20] = (char)('0' + msec / 100);
	put2(out + 21, msec % 100);
	out[23] = 'Z';
	out[24] = '\0';
}

static int num(const char *p, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static bool valid_civil(int y, int mon, int d, int h, int mi, int s)
{
	static const int md[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 0 || mon < 1 || mon > 12 || d < 1 || d > md[mon - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 59)
		return false;
	if (mon == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

bool hr_time_parse(hr_str v, int64_t *out)
{
	const char *p = v.ptr;
	size_t n = v.len;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		n--;
	}
	if (n == 0)
		return false;
	/* Unix seconds: an optional '-' and digits only. */
	size_t i = p[0] == '-' ? 1 : 0;
	bool digits = i < n;
	for (size_t k = i; k < n; k++)
		if (p[k] < '0' || p[k] > '9')
			digits = false;
	if (digits && n - i <= 12) {
		int64_t sec = 0;
		for (size_t k = i; k < n; k++)
			sec = sec * 10 + (p[k] - '0');
		if (i)
			sec = -sec;
		/* the canonical form only holds years 0000..9999 */
		if (sec < -62167219200LL || sec >= 253402300800LL)
			return false;
		*out = sec * 1000;
		return true;
	}
	if (n < 10 || p[4] != '-' || p[7] != '-')
		return false;
	int y = num(p, 4), mon = num(p + 5, 2), d = num(p + 8, 2);
	int h = 0, mi = 0, s = 0, ms = 0;
	int64_t offset_min = 0;
	if (n > 10) {
		if ((p[10] != ' ' && p[10] != 'T' && p[10] != 't') || n < 19 || p[13] != ':' ||
		    p[16] != ':')
			return false;
		h = num(p + 11, 2);
		mi = num(p + 14, 2);
		s = num(p + 17, 2);
		size_t k = 19;
		if (k < n && p[k] == '.') {
			k++;
			size_t start = k;
			int scale = 100;
			while (k < n && p[k] >= '0' && p[k] <= '9') {
				ms += (p[k] - '0') * scale;
				scale /= 10;
				k++;
			}
			if (k == start)
				return false;
		}
		if (k < n && (p[k] == 'Z' || p[k] == 'z')) {
			k++;
		} else if (k < n && (p[k] == '+' || p[k] == '-')) {
			if (n - k != 6 || p[k + 3] != ':')
				return false;
			int oh = num(p + k + 1, 2), om = num(p + k + 4, 2);
			if (oh < 0 || om < 0 || oh > 23 || om > 59)
				return false;
			offset_min = (p[k] == '-' ? -1 : 1) * (oh * 60 + om);
			k += 6;
		}
		if (k != n)
			return false;
	}
	if (y < 0 || mon < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || !valid_civil(y, mon, d, h, mi, s))
		return false;
	if (y > 9999)
		return false;
	*out = hr_time_from_civil(y, mon, d, h, mi, s, ms) - offset_min * 60000;
	return true;
}
