/*
 * shoal-util C helpers.
 *
 * Redis does INCRBYFLOAT / HINCRBYFLOAT in C `long double` (80-bit extended on
 * x86-64) and parses command-argument doubles with the C library's strtod.
 * Rust has no extended-precision float and its float parser does not accept
 * the same language as strtod (hex floats, "infinity", ERANGE reporting), so
 * these few functions are done in C and wrapped safely in src/num.rs.
 *
 * All input strings are passed as (pointer, length); the caller guarantees
 * the byte at ptr[length] is NUL (see NulTerminated in num.rs).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Outcome of a conversion attempt. */
enum {
    SHOAL_NUM_INVALID = 0,
    SHOAL_NUM_FINITE = 1,
    SHOAL_NUM_INFINITE = 2
};

/* Common acceptance rule: the whole input consumed, no leading white space,
 * not NaN, and no overflow to +-inf nor underflow to zero reported. */
static int shoal_accept(const char *s, size_t len, const char *end, int range_error,
                        int is_inf, int is_zero, int is_nan) {
    if (len == 0) return 0;
    if (isspace((unsigned char)s[0])) return 0;
    if ((size_t)(end - s) != len) return 0;
    if (is_nan) return 0;
    if (range_error && (is_inf || is_zero)) return 0;
    return 1;
}

/* Strict double: see num::parse_f64. */
int shoal_parse_double(const char *s, size_t len, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    int range_error = errno == ERANGE;
    if (!shoal_accept(s, len, end, range_error, isinf(v), v == 0.0, isnan(v))) return 0;
    *out = v;
    return 1;
}

/* Loose double (ZRANGEBYSCORE bounds): see num::parse_f64_loose. The caller
 * passes a string cut at its first NUL byte. */
int shoal_parse_double_loose(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || isnan(v)) return 0;
    *out = v;
    return 1;
}

/* Longest input accepted as a long double, exclusive (matches Redis). */
#define SHOAL_LD_MAX_INPUT 5120

static int shoal_parse_ld(const char *s, size_t len, long double *out) {
    char *end;
    if (len >= SHOAL_LD_MAX_INPUT) return SHOAL_NUM_INVALID;
    errno = 0;
    long double v = strtold(s, &end);
    int range_error = errno == ERANGE;
    if (!shoal_accept(s, len, end, range_error, isinf(v), v == 0.0L, isnan(v)))
        return SHOAL_NUM_INVALID;
    *out = v;
    return isinf(v) ? SHOAL_NUM_INFINITE : SHOAL_NUM_FINITE;
}

/* Classifies s as an INCRBYFLOAT operand: SHOAL_NUM_INVALID, _FINITE or _INFINITE. */
int shoal_ld_classify(const char *s, size_t len) {
    long double v;
    return shoal_parse_ld(s, len, &v);
}

/*
 * a + b in long double, printed with "%.17Lf" into out (capacity cap).
 * Returns the printed length, or
 *   -1 when a is not a valid number,
 *   -2 when b is not a valid number,
 *   -3 when the sum is NaN or infinite,
 *   -4 when out is too small (cannot happen with cap >= 5200).
 * a is validated before b.
 */
int shoal_ld_add(const char *a, size_t alen, const char *b, size_t blen, char *out, size_t cap) {
    long double x, y, sum;
    if (shoal_parse_ld(a, alen, &x) == SHOAL_NUM_INVALID) return -1;
    if (shoal_parse_ld(b, blen, &y) == SHOAL_NUM_INVALID) return -2;
    sum = x + y;
    if (isnan(sum) || isinf(sum)) return -3;
    int n = snprintf(out, cap, "%.17Lf", sum);
    if (n < 0 || (size_t)n >= cap) return -4;
    return n;
}

/* Test oracle: printf("%.17g", v). Used only by unit tests of format_double. */
int shoal_test_fmt_g17(double v, char *out, size_t cap) {
    return snprintf(out, cap, "%.17g", v);
}

/* A blocking-command timeout in seconds, converted to milliseconds the way
 * Redis 7.0 does it with a long double: 0 = not a number, 1 = ok (*out set),
 * 2 = negative (including values whose milliseconds overflow). */
int shoal_timeout_ms(const char *s, size_t len, long long *out) {
    long double v;
    int kind = shoal_parse_ld(s, len, &v);
    if (kind == SHOAL_NUM_INVALID) return 0;
    if (kind == SHOAL_NUM_INFINITE) return 2;
    long double ms = v * 1000.0L + 0.5L;
    if (ms >= 9223372036854775807.0L || ms <= -9223372036854775808.0L) return 2;
    long long t = (long long)ms;
    if (t < 0) return 2;
    *out = t;
    return 1;
}
