/*
 * Unit tests of audit.c: every record is one line of valid JSON whatever
 * the input (checked by a small strict JSON parser below that also pulls
 * out the top-level fields), the human line cannot be forged, and the file
 * writer appends whole lines, reopens, and survives failures; records
 * queued per thread are all written, intact and in each thread's order.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"

Suite	*audit_suite(void);

#define JSON_FIELDS_MAX	32
#define JSON_TEXT_MAX	AUDIT_REC_MAX

/* The top-level fields of one parsed record; string values decoded. */
struct json_rec {
	int	nfields;	/* all of them; the first few are kept */
	char	key[JSON_FIELDS_MAX][64];
	char	str[JSON_FIELDS_MAX][JSON_TEXT_MAX];	/* "" if not a string */
	int	is_str[JSON_FIELDS_MAX];
};

struct json_parser {
	const unsigned char	*p;
	const unsigned char	*end;
	int			 depth;
};

static void
jp_ws(struct json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
	    *jp->p == '\r' || *jp->p == '\n'))
		jp->p++;
}

static int
jp_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends code point cp as UTF-8 to out (bounded). */
static void
jp_emit(char *out, size_t *n, size_t cap, unsigned long cp)
{
	unsigned char	b[4];
	size_t		k, i;

	if (cp < 0x80) {
		b[0] = cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		k = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		k = 4;
	}
	for (i = 0; i < k && *n + 1 < cap; i++)
		out[(*n)++] = b[i];
	out[*n] = '\0';
}

/*
 * One raw UTF-8 character in a string, decoded by value ranges (a second,
 * independent reading of RFC 3629).  Returns 0 or -1.
 */
static int
jp_utf8(struct json_parser *jp, unsigned long *cp)
{
	unsigned char	c = *jp->p;
	int		n, i;
	unsigned long	v, min;

	if (c >= 0xf0 && c <= 0xf7) {
		n = 3;
		v = c & 0x07;
		min = 0x10000;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xc0 && c <= 0xdf) {
		n = 1;
		v = c & 0x1f;
		min = 0x80;
	} else
		return -1;
	jp->p++;
	for (i = 0; i < n; i++, jp->p++) {
		if (jp->p >= jp->end || (*jp->p & 0xc0) != 0x80)
			return -1;
		v = (v << 6) | (*jp->p & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	return 0;
}

static int
jp_string(struct json_parser *jp, char *out, size_t cap)
{
	size_t		n = 0;
	unsigned long	cp;
	int		i, h;

	if (out != NULL)
		out[0] = '\0';
	if (jp->p >= jp->end || *jp->p != '"')
		return -1;
	jp->p++;
	for (;;) {
		if (jp->p >= jp->end || *jp->p < 0x20)
			return -1;
		if (*jp->p == '"') {
			jp->p++;
			return 0;
		}
		if (*jp->p >= 0x80) {
			if (jp_utf8(jp, &cp) == -1)
				return -1;
		} else if (*jp->p == '\\') {
			if (++jp->p >= jp->end)
				return -1;
			switch (*jp->p++) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				cp = 0;
				for (i = 0; i < 4; i++) {
					if (jp->p >= jp->end ||
					    (h = jp_hex(*jp->p++)) == -1)
						return -1;
					cp = cp << 4 | h;
				}
				/* hopd never needs surrogate pairs. */
				if (cp >= 0xd800 && cp <= 0xdfff)
					return -1;
				break;
			default:
				return -1;
			}
		} else
			cp = *jp->p++;
		if (out != NULL)
			jp_emit(out, &n, cap, cp);
	}
}

static int
jp_number(struct json_parser *jp)
{
	const unsigned char	*start;

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p >= jp->end)
		return -1;
	if (*jp->p == '0')
		jp->p++;
	else if (*jp->p >= '1' && *jp->p <= '9')
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	else
		return -1;
	if (jp->p < jp->end && *jp->p == '.') {
		start = ++jp->p;
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
		if (jp->p == start)
			return -1;
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		start = jp->p;
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
		if (jp->p == start)
			return -1;
	}
	return 0;
}

static int	jp_value(struct json_parser *, struct json_rec *, int);

static int
jp_literal(struct json_parser *jp, const char *lit)
{
	size_t	n = strlen(lit);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, lit, n) != 0)
		return -1;
	jp->p += n;
	return 0;
}

/* rec, when not NULL, collects this object's fields (the top level). */
static int
jp_object(struct json_parser *jp, struct json_rec *rec)
{
	char	key[64];
	int	i;

	jp->p++;
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == '}') {
		jp->p++;
		return 0;
	}
	for (;;) {
		jp_ws(jp);
		if (jp_string(jp, key, sizeof(key)) == -1)
			return -1;
		jp_ws(jp);
		if (jp->p >= jp->end || *jp->p++ != ':')
			return -1;
		jp_ws(jp);
		if (rec != NULL && rec->nfields++ < JSON_FIELDS_MAX) {
			i = rec->nfields - 1;
			snprintf(rec->key[i], sizeof(rec->key[i]), "%s", key);
			rec->is_str[i] = jp->p < jp->end && *jp->p == '"';
			if (rec->is_str[i]) {
				if (jp_string(jp, rec->str[i],
				    sizeof(rec->str[i])) == -1)
					return -1;
			} else if (jp_value(jp, NULL, 0) == -1)
				return -1;
		} else if (jp_value(jp, NULL, 0) == -1)
			return -1;
		jp_ws(jp);
		if (jp->p >= jp->end)
			return -1;
		if (*jp->p == '}') {
			jp->p++;
			return 0;
		}
		if (*jp->p++ != ',')
			return -1;
	}
}

static int
jp_array(struct json_parser *jp)
{
	jp->p++;
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == ']') {
		jp->p++;
		return 0;
	}
	for (;;) {
		jp_ws(jp);
		if (jp_value(jp, NULL, 0) == -1)
			return -1;
		jp_ws(jp);
		if (jp->p >= jp->end)
			return -1;
		if (*jp->p == ']') {
			jp->p++;
			return 0;
		}
		if (*jp->p++ != ',')
			return -1;
	}
}

static int
jp_value(struct json_parser *jp, struct json_rec *rec, int top)
{
	int	rc;

	if (jp->p >= jp->end || ++jp->depth > 16)
		return -1;
	switch (*jp->p) {
	case '{':
		rc = jp_object(jp, top ? rec : NULL);
		break;
	case '[':
		rc = jp_array(jp);
		break;
	case '"':
		rc = jp_string(jp, NULL, 0);
		break;
	case 't':
		rc = jp_literal(jp, "true");
		break;
	case 'f':
		rc = jp_literal(jp, "false");
		break;
	case 'n':
		rc = jp_literal(jp, "null");
		break;
	default:
		rc = jp_number(jp);
	}
	jp->depth--;
	return rc;
}

/*
 * 0 when line is exactly one JSON object followed by one "\n" and nothing
 * else (so one record is one line); its fields go to rec.
 */
static int
json_line_parse(const char *line, size_t len, struct json_rec *rec)
{
	struct json_parser	jp;

	memset(rec, 0, sizeof(*rec));
	if (len < 2 || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL || line[0] != '{')
		return -1;
	jp.p = (const unsigned char *)line;
	jp.end = jp.p + len - 1;
	jp.depth = 0;
	if (jp_value(&jp, rec, 1) == -1)
		return -1;
	return jp.p == jp.end ? 0 : -1;
}

static const char *
json_field(const struct json_rec *rec, const char *key)
{
	int	i;

	for (i = 0; i < rec->nfields && i < JSON_FIELDS_MAX; i++)
		if (strcmp(rec->key[i], key) == 0)
			return rec->is_str[i] ? rec->str[i] : "";
	return NULL;
}

static void
quiet_log(void)
{
	log_init(LOG_LEVEL_QUIET, false, false);
}

/* The checker itself must be able to say no. */
static const char *const json_checker_rejects[] = {
	"{\"a\":\"x\"}",			/* no newline */
	"{\"a\":\"x\"}\n\n",
	"{\"a\":\"x\n\"}\n",			/* raw newline in a string */
	"{\"a\":\"x\"\n",			/* not closed */
	"{\"a\":\"\\x41\"}\n",			/* not a JSON escape */
	"{\"a\":\"\\u00g1\"}\n",
	"{\"a\":\"\x01\"}\n",			/* raw control */
	"{\"a\":\"\xff\"}\n",			/* invalid UTF-8 */
	"{\"a\":\"\xc0\xaf\"}\n",		/* overlong */
	"{\"a\":\"\xed\xa0\x80\"}\n",		/* surrogate */
	"{\"a\":\"x\",}\n",
	"{\"a\":\"x\"},{\"b\":1}\n",
	"{\"a\":01}\n",
	"{\"a\":tru}\n",
	"{a:1}\n",
};

START_TEST(json_checker_rejects_invalid_records)
{
	struct json_rec	rec;
	const char	*s = json_checker_rejects[_i];

	ck_assert_msg(json_line_parse(s, strlen(s), &rec) == -1,
	    "checker accepted case %d", _i);
}
END_TEST

START_TEST(json_checker_accepts_valid_record)
{
	static const char	s[] = "{\"a\":\"\\u00e9\xc3\xa9\",\"b\":[1,"
	    "-2.5e3,null,true,{}],\"c\":{\"d\":\"\\\"\"}}\n";
	struct json_rec		rec;

	ck_assert_int_eq(json_line_parse(s, strlen(s), &rec), 0);
	ck_assert_int_eq(rec.nfields, 3);
	ck_assert_str_eq(json_field(&rec, "a"), "\xc3\xa9\xc3\xa9");
}
END_TEST

/* Builds {ts,event,session,v} and checks that it parses. */
static void
build_one(struct audit_rec *r, const char *val, struct json_rec *rec)
{
	audit_rec_begin(r, 0, "test", "s1");
	audit_rec_str(r, "v", val);
	audit_rec_end(r);
	ck_assert_uint_eq(r->jlen, strlen(r->json));
	ck_assert_msg(json_line_parse(r->json, r->jlen, rec) == 0,
	    "invalid JSON: %s", r->json);
	ck_assert_int_eq(rec->nfields, 4);
	ck_assert(!r->full);
}

static const struct {
	const char	*name;
	const char	*in;
	const char	*json;	/* the value as written */
} json_escapes[] = {
	{ "plain_ascii_unchanged", "db1.internal:22", "\"db1.internal:22\"" },
	{ "empty_string", "", "\"\"" },
	{ "quote_escaped", "a\"b", "\"a\\\"b\"" },
	{ "backslash_escaped", "a\\b", "\"a\\\\b\"" },
	{ "newline_escaped", "a\nb", "\"a\\nb\"" },
	{ "carriage_return_escaped", "a\rb", "\"a\\rb\"" },
	{ "tab_escaped", "a\tb", "\"a\\tb\"" },
	{ "control_0x01_as_u0001", "a\x01z", "\"a\\u0001z\"" },
	{ "control_0x1b_as_u001b", "\x1b[2J", "\"\\u001b[2J\"" },
	{ "control_0x1f_as_u001f", "\x1f", "\"\\u001f\"" },
	{ "del_as_u007f", "\x7f", "\"\\u007f\"" },
	{ "utf8_2byte_passes", "J\xc3\xbcrgen", "\"J\xc3\xbcrgen\"" },
	{ "utf8_3byte_passes", "\xe2\x82\xac", "\"\xe2\x82\xac\"" },
	{ "utf8_4byte_passes", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
	{ "utf8_max_u10ffff_passes", "\xf4\x8f\xbf\xbf",
	    "\"\xf4\x8f\xbf\xbf\"" },
	{ "lone_continuation_byte", "a\x80z", "\"a\\u0080z\"" },
	{ "overlong_2byte_slash", "\xc0\xaf", "\"\\u00c0\\u00af\"" },
	{ "overlong_c1", "\xc1\xbf", "\"\\u00c1\\u00bf\"" },
	{ "overlong_3byte", "\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"" },
	{ "overlong_4byte", "\xf0\x80\x80\xaf",
	    "\"\\u00f0\\u0080\\u0080\\u00af\"" },
	{ "surrogate_high", "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"" },
	{ "surrogate_low", "\xed\xbf\xbf", "\"\\u00ed\\u00bf\\u00bf\"" },
	{ "above_u10ffff", "\xf4\x90\x80\x80",
	    "\"\\u00f4\\u0090\\u0080\\u0080\"" },
	{ "lead_f5_never_valid", "\xf5\x80\x80\x80",
	    "\"\\u00f5\\u0080\\u0080\\u0080\"" },
	{ "bytes_fe_ff", "\xfe\xff", "\"\\u00fe\\u00ff\"" },
	{ "truncated_at_end", "a\xe2\x82", "\"a\\u00e2\\u0082\"" },
	{ "truncated_before_ascii", "\xe2\x82z", "\"\\u00e2\\u0082z\"" },
	{ "truncated_4byte_before_valid", "\xf0\x9f\xc3\xa9",
	    "\"\\u00f0\\u009f\xc3\xa9\"" },
	/* Valid UTF-8 that hides or reorders text: \u of the code point. */
	{ "c1_csi_as_u009b", "a\xc2\x9b" "31m", "\"a\\u009b31m\"" },
	{ "c1_first_as_u0080", "\xc2\x80", "\"\\u0080\"" },
	{ "c1_last_as_u009f", "\xc2\x9f", "\"\\u009f\"" },
	{ "nbsp_after_c1_passes", "\xc2\xa0", "\"\xc2\xa0\"" },
	{ "line_separator_as_u2028", "a\xe2\x80\xa8z", "\"a\\u2028z\"" },
	{ "paragraph_separator_as_u2029", "\xe2\x80\xa9",
	    "\"\\u2029\"" },
	{ "arabic_letter_mark_as_u061c", "\xd8\x9c", "\"\\u061c\"" },
	{ "lrm_as_u200e", "\xe2\x80\x8e", "\"\\u200e\"" },
	{ "rlm_as_u200f", "\xe2\x80\x8f", "\"\\u200f\"" },
	{ "zwj_passes", "\xe2\x80\x8d", "\"\xe2\x80\x8d\"" },
	{ "lre_as_u202a", "\xe2\x80\xaa", "\"\\u202a\"" },
	{ "rlo_as_u202e", "evil\xe2\x80\xaegpj.exe",
	    "\"evil\\u202egpj.exe\"" },
	{ "narrow_nbsp_u202f_passes", "\xe2\x80\xaf",
	    "\"\xe2\x80\xaf\"" },
	{ "lri_as_u2066", "\xe2\x81\xa6", "\"\\u2066\"" },
	{ "pdi_as_u2069", "\xe2\x81\xa9", "\"\\u2069\"" },
	{ "u206a_passes", "\xe2\x81\xaa", "\"\xe2\x81\xaa\"" },
	{ "cjk_passes", "\xe4\xb8\xad\xe6\x96\x87",
	    "\"\xe4\xb8\xad\xe6\x96\x87\"" },
	{ "overlong_csi_bytes", "\xc0\x9b", "\"\\u00c0\\u009b\"" },
	{ "overlong_4byte_rlo", "\xf0\x82\x80\xae",
	    "\"\\u00f0\\u0082\\u0080\\u00ae\"" },
	{ "truncated_rlo", "a\xe2\x80", "\"a\\u00e2\\u0080\"" },
	{ "truncated_rlo_before_ascii", "\xe2\x80z",
	    "\"\\u00e2\\u0080z\"" },
	{ "truncated_c1", "\xc2", "\"\\u00c2\"" },
};

START_TEST(json_escapes_each_kind)
{
	struct audit_rec	r;
	struct json_rec		rec;
	char			want[256];

	build_one(&r, json_escapes[_i].in, &rec);
	snprintf(want, sizeof(want), ",\"v\":%s}\n", json_escapes[_i].json);
	ck_assert_msg(strstr(r.json, want) != NULL, "%s: got %s",
	    json_escapes[_i].name, r.json);
}
END_TEST

/* Valid input comes back unchanged from a JSON reader. */
START_TEST(json_valid_strings_round_trip)
{
	static const char *const in[] = {
		"x\",\"decision\":\"allow", "a\\\"b", "line1\nline2\r\t",
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\x01\x1f\x7f", "}\n{",
		"a\xe2\x80\xaez\xc2\x9b\xe2\x80\xa8\xd8\x9c\xe2\x81\xa9",
	};
	struct audit_rec	r;
	struct json_rec		rec;
	size_t			i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		build_one(&r, in[i], &rec);
		ck_assert_str_eq(json_field(&rec, "v"), in[i]);
	}
}
END_TEST

START_TEST(hostile_hostname_stays_one_string)
{
	static const char	 host[] = "x\",\"decision\":\"allow";
	static const char	 nl[] = "x\"}\n{\"event\":\"auth\",\"x\":\"";
	struct audit_rec	 r;
	struct json_rec		 rec;

	audit_rec_begin(&r, 1795464116123ULL, "channel_open", "3f2a");
	audit_rec_str(&r, "target", host);
	audit_rec_str(&r, "origin", nl);
	audit_rec_str(&r, "decision", "deny");
	audit_rec_end(&r);
	ck_assert_int_eq(json_line_parse(r.json, r.jlen, &rec), 0);
	ck_assert_int_eq(rec.nfields, 6);
	ck_assert_str_eq(json_field(&rec, "target"), host);
	ck_assert_str_eq(json_field(&rec, "origin"), nl);
	ck_assert_str_eq(json_field(&rec, "decision"), "deny");
	ck_assert_str_eq(json_field(&rec, "event"), "channel_open");
	ck_assert_ptr_null(strchr(r.human, '\n'));
	ck_assert_ptr_nonnull(strstr(r.human, " decision=deny"));
	ck_assert_ptr_null(strstr(r.human, " decision=allow"));
}
END_TEST

START_TEST(record_has_ts_event_session_first)
{
	struct audit_rec	r;

	audit_rec_begin(&r, 1795464116123ULL, "channel_open", "3f2a");
	audit_rec_str(&r, "user", "alice");
	audit_rec_end(&r);
	ck_assert_str_eq(r.json, "{\"ts\":\"2026-11-23T20:01:56.123Z\","
	    "\"event\":\"channel_open\",\"session\":\"3f2a\","
	    "\"user\":\"alice\"}\n");
	ck_assert_str_eq(r.human, "session=3f2a channel_open user=alice");
}
END_TEST

START_TEST(null_value_is_json_null_and_left_out_of_human_line)
{
	struct audit_rec	r;
	struct json_rec		rec;

	audit_rec_begin(&r, 0, "auth", NULL);
	audit_rec_str(&r, "reason", NULL);
	audit_rec_end(&r);
	ck_assert_int_eq(json_line_parse(r.json, r.jlen, &rec), 0);
	ck_assert_ptr_nonnull(strstr(r.json, "\"session\":null,"
	    "\"reason\":null}"));
	ck_assert_str_eq(r.human, "auth");
}
END_TEST

START_TEST(u64_and_strv_fields)
{
	static const char *const addrs[] = { "10.0.0.1", "2001:db8::1" };
	static const char *const odd[] = { "a b", "c\"d" };
	struct audit_rec	r;
	struct json_rec		rec;

	audit_rec_begin(&r, 0, "channel_close", "s");
	audit_rec_u64(&r, "bytes_in", 18446744073709551615ULL);
	audit_rec_u64(&r, "bytes_out", 0);
	audit_rec_strv(&r, "addrs", addrs, 2);
	audit_rec_strv(&r, "none", NULL, 0);
	audit_rec_strv(&r, "odd", odd, 2);
	audit_rec_end(&r);
	ck_assert_int_eq(json_line_parse(r.json, r.jlen, &rec), 0);
	ck_assert_ptr_nonnull(strstr(r.json, ",\"bytes_in\":"
	    "18446744073709551615,\"bytes_out\":0,"
	    "\"addrs\":[\"10.0.0.1\",\"2001:db8::1\"],\"none\":[],"
	    "\"odd\":[\"a b\",\"c\\\"d\"]}\n"));
	ck_assert_str_eq(r.human, "session=s channel_close "
	    "bytes_in=18446744073709551615 bytes_out=0 "
	    "addrs=10.0.0.1,2001:db8::1 odd=\"a b\",\"c\\\"d\"");
}
END_TEST

/* The journal fields of r as one string, each NUL shown as '|'. */
static const char *
fields_text(const struct audit_rec *r, char *buf, size_t len)
{
	size_t	i;

	ck_assert_uint_lt(r->flen, len);
	for (i = 0; i < r->flen; i++)
		buf[i] = r->fields[i] == '\0' ? '|' : r->fields[i];
	buf[i] = '\0';
	return buf;
}

START_TEST(journal_fields_one_per_field_in_order)
{
	static const char *const addrs[] = { "10.0.0.1:22", "[2001:db8::1]:22" };
	struct audit_rec	r;
	char			buf[AUDIT_FIELDS_MAX + 1];

	audit_rec_begin(&r, 1795464116123ULL, "channel_open", "3f2a");
	audit_rec_u64(&r, "channel", 3);
	audit_rec_str(&r, "user", "alice");
	audit_rec_str(&r, "rule", NULL);
	audit_rec_strv(&r, "addrs", addrs, 2);
	audit_rec_str(&r, "cert-id.x", "k");
	audit_rec_str(&r, "decision", "allow");
	audit_rec_str(&r, "result", "open");
	audit_rec_end(&r);
	ck_assert_str_eq(fields_text(&r, buf, sizeof(buf)),
	    "HOPD_TS=2026-11-23T20:01:56.123Z|HOPD_EVENT=channel_open|"
	    "HOPD_SESSION=3f2a|HOPD_CHANNEL=3|HOPD_USER=alice|"
	    "HOPD_ADDRS=10.0.0.1:22|HOPD_ADDRS=[2001:db8::1]:22|"
	    "HOPD_CERT_ID_X=k|HOPD_DECISION=allow|HOPD_RESULT=open|");
	ck_assert(!r.notice);
	ck_assert(!r.fields_full);
}
END_TEST

START_TEST(journal_value_is_raw_bytes_and_cut_as_json)
{
	static const char	 evil[] = "x\"\nHOPD_USER=mallory\n\x01\xff";
	struct audit_rec	 r;
	char			 big[AUDIT_VALUE_MAX + 10];
	char			 want[AUDIT_VALUE_MAX + 32];
	const char		*f;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	audit_rec_begin(&r, 0, "channel_open", NULL);
	audit_rec_str(&r, "target", evil);
	audit_rec_str(&r, "long", big);
	audit_rec_end(&r);
	f = r.fields;
	ck_assert_str_eq(f, "HOPD_TS=1970-01-01T00:00:00.000Z");
	f += strlen(f) + 1;
	ck_assert_str_eq(f, "HOPD_EVENT=channel_open");
	f += strlen(f) + 1;
	ck_assert_str_eq(f, "HOPD_TARGET=x\"\nHOPD_USER=mallory\n\x01\xff");
	f += strlen(f) + 1;
	snprintf(want, sizeof(want), "HOPD_LONG=%.*s...",
	    AUDIT_VALUE_MAX - 3, big);
	ck_assert_str_eq(f, want);
	f += strlen(f) + 1;
	ck_assert_ptr_eq(f, r.fields + r.flen);
}
END_TEST

static const struct {
	const char	*event, *key, *val;
	bool		 notice;
} notices[] = {
	{ "channel_open", "decision", "deny", true },
	{ "channel_open", "decision", "allow", false },
	{ "channel_open", "result", "refused", true },
	{ "connect", "result", "ok", false },
	{ "connect", "result", "ECONNREFUSED", true },
	{ "auth", "result", "success", false },
	{ "auth", "result", "failure", true },
	{ "proxy_refused", "reason", "malformed", true },
	{ "channel_close", "reason", "deny", false },
};

START_TEST(journal_priority_notice_for_denials_and_failures)
{
	struct audit_rec	r;

	audit_rec_begin(&r, 0, notices[_i].event, "s");
	audit_rec_str(&r, notices[_i].key, notices[_i].val);
	audit_rec_end(&r);
	ck_assert_int_eq(r.notice, notices[_i].notice);
}
END_TEST

START_TEST(journal_fields_overflow_drops_whole_fields)
{
	struct audit_rec	 r;
	char			 val[AUDIT_VALUE_MAX];
	const char		*f;
	size_t			 i, n = 0;

	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	audit_rec_begin(&r, 0, "test", "s");
	for (i = 0; i < 3 * AUDIT_FIELDS_MAX / AUDIT_VALUE_MAX; i++)
		audit_rec_str(&r, "k", val);
	audit_rec_u64(&r, "last", 7);
	audit_rec_end(&r);
	ck_assert(r.fields_full);
	ck_assert_uint_le(r.flen, AUDIT_FIELDS_MAX);
	ck_assert_int_eq(r.fields[r.flen - 1], '\0');
	for (f = r.fields; f < r.fields + r.flen; f += strlen(f) + 1)
		if (strncmp(f, "HOPD_K=", 7) == 0) {
			ck_assert_uint_eq(strlen(f), 7 + sizeof(val) - 1);
			n++;
		}
	ck_assert_uint_gt(n, 0);
	/* A small field after the big ones still fits in what is left. */
	ck_assert_str_eq(r.fields + r.flen - strlen("HOPD_LAST=7") - 1,
	    "HOPD_LAST=7");
}
END_TEST

static const struct {
	const char	*name;
	const char	*in;
	const char	*human;	/* " v=..." as it must appear */
} human_escapes[] = {
	{ "plain_value_bare", "alice", " v=alice" },
	{ "space_quoted", "a b", " v=\"a b\"" },
	{ "forged_field_stays_in_quotes", "x decision=allow",
	    " v=\"x decision=allow\"" },
	{ "equals_quoted", "a=b", " v=\"a=b\"" },
	{ "forged_line_newline_escaped", "x\nsession=1 auth result=ok",
	    " v=\"x\\nsession=1 auth result=ok\"" },
	{ "quote_escaped", "a\"b", " v=\"a\\\"b\"" },
	{ "backslash_escaped", "a\\b", " v=\"a\\\\b\"" },
	{ "tab_cr_escaped", "\t\r", " v=\"\\t\\r\"" },
	{ "escape_char_as_hex", "\x1b[31m", " v=\"\\x1b[31m\"" },
	{ "del_as_hex", "\x7f", " v=\"\\x7f\"" },
	{ "non_ascii_as_hex", "\xc3\xa9", " v=\"\\xc3\\xa9\"" },
	{ "invalid_utf8_as_hex", "\xff", " v=\"\\xff\"" },
	{ "c1_csi_as_hex", "\xc2\x9b" "2J", " v=\"\\xc2\\x9b2J\"" },
	{ "line_separator_as_hex", "a\xe2\x80\xa8" "b",
	    " v=\"a\\xe2\\x80\\xa8b\"" },
	{ "paragraph_separator_as_hex", "\xe2\x80\xa9",
	    " v=\"\\xe2\\x80\\xa9\"" },
	{ "rlo_as_hex", "x\xe2\x80\xae" "y", " v=\"x\\xe2\\x80\\xaey\"" },
	{ "arabic_letter_mark_as_hex", "\xd8\x9c", " v=\"\\xd8\\x9c\"" },
	{ "pdi_as_hex", "\xe2\x81\xa9", " v=\"\\xe2\\x81\\xa9\"" },
	{ "overlong_as_hex", "\xc0\xaf", " v=\"\\xc0\\xaf\"" },
	{ "truncated_as_hex", "\xe2\x80", " v=\"\\xe2\\x80\"" },
	{ "empty_quoted", "", " v=\"\"" },
};

START_TEST(human_line_escapes_each_kind)
{
	struct audit_rec	r;
	char			want[256];

	audit_rec_begin(&r, 0, "test", "s1");
	audit_rec_str(&r, "v", human_escapes[_i].in);
	audit_rec_end(&r);
	snprintf(want, sizeof(want), "session=s1 test%s",
	    human_escapes[_i].human);
	ck_assert_msg(strcmp(r.human, want) == 0, "%s: got [%s]",
	    human_escapes[_i].name, r.human);
}
END_TEST

START_TEST(hostile_event_and_session_quoted_in_human_line)
{
	struct audit_rec	r;

	audit_rec_begin(&r, 0, "x y", "a b\n");
	audit_rec_end(&r);
	ck_assert_str_eq(r.human, "session=\"a b\\n\" \"x y\"");
}
END_TEST

START_TEST(long_value_cut_with_marker)
{
	char			in[AUDIT_VALUE_MAX + 100];
	char			want[AUDIT_VALUE_MAX + 1];
	struct audit_rec	r;
	struct json_rec		rec;

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	build_one(&r, in, &rec);
	memset(want, 'a', AUDIT_VALUE_MAX - 3);
	strcpy(want + AUDIT_VALUE_MAX - 3, "...");
	ck_assert_uint_eq(strlen(json_field(&rec, "v")), AUDIT_VALUE_MAX);
	ck_assert_str_eq(json_field(&rec, "v"), want);
	ck_assert_str_eq(r.human + r.hlen - 6, "aaa...");
	ck_assert_uint_lt(r.hlen, 200);
}
END_TEST

START_TEST(value_of_exactly_max_not_cut)
{
	char			in[AUDIT_VALUE_MAX + 1];
	struct audit_rec	r;
	struct json_rec		rec;

	memset(in, 'b', AUDIT_VALUE_MAX);
	in[AUDIT_VALUE_MAX] = '\0';
	build_one(&r, in, &rec);
	ck_assert_str_eq(json_field(&rec, "v"), in);
}
END_TEST

/* A 3-byte character straddling the cut is dropped whole. */
START_TEST(cut_on_utf8_boundary)
{
	char			in[AUDIT_VALUE_MAX + 100];
	char			want[AUDIT_VALUE_MAX + 1];
	struct audit_rec	r;
	struct json_rec		rec;
	size_t			keep = AUDIT_VALUE_MAX - 3 - 1;

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	memcpy(in + keep, "\xe2\x82\xac", 3);
	build_one(&r, in, &rec);
	memset(want, 'a', keep);
	strcpy(want + keep, "...");
	ck_assert_str_eq(json_field(&rec, "v"), want);
}
END_TEST

/* Worst case: every byte escaped to six; the cut still holds. */
START_TEST(long_invalid_utf8_cut_and_valid)
{
	char			in[AUDIT_VALUE_MAX * 2];
	struct audit_rec	r;
	struct json_rec		rec;

	memset(in, 0xff, sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	build_one(&r, in, &rec);
	ck_assert_uint_eq(strlen(json_field(&rec, "v")),
	    2 * (AUDIT_VALUE_MAX - 3) + 3);
}
END_TEST

START_TEST(overflow_sets_full_drops_field_and_stays_valid)
{
	char			big[AUDIT_VALUE_MAX + 1], key[16];
	struct audit_rec	r;
	struct json_rec		rec;
	int			i;

	memset(big, '\x01', AUDIT_VALUE_MAX);
	big[AUDIT_VALUE_MAX] = '\0';
	audit_rec_begin(&r, 0, "channel_open", "s");
	audit_rec_str(&r, "a", big);
	ck_assert(!r.full);
	audit_rec_str(&r, "b", big);	/* 2 x 3 KiB: does not fit */
	ck_assert(r.full);
	audit_rec_str(&r, "decision", "deny");
	audit_rec_end(&r);
	ck_assert_uint_lt(r.jlen, AUDIT_REC_MAX);
	ck_assert_uint_eq(r.jlen, strlen(r.json));
	ck_assert_int_eq(json_line_parse(r.json, r.jlen, &rec), 0);
	ck_assert_ptr_nonnull(json_field(&rec, "a"));
	ck_assert_ptr_null(json_field(&rec, "b"));
	ck_assert_str_eq(json_field(&rec, "decision"), "deny");

	/* Filled to the last byte with small fields: still one record. */
	audit_rec_begin(&r, 0, "x", "s");
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		audit_rec_u64(&r, key, 1234567);
	}
	ck_assert(r.full);
	audit_rec_end(&r);
	ck_assert_uint_lt(r.jlen, AUDIT_REC_MAX);
	ck_assert_uint_ge(r.jlen, AUDIT_REC_MAX - 20);
	ck_assert_int_eq(json_line_parse(r.json, r.jlen, &rec), 0);
	ck_assert_uint_lt(r.hlen, AUDIT_HUMAN_MAX);
	ck_assert_uint_eq(r.hlen, strlen(r.human));
	ck_assert_str_eq(r.human + r.hlen - 4, " ...");
}
END_TEST

START_TEST(human_line_overflow_marked_once)
{
	char			big[127];
	struct audit_rec	r;
	int			i;

	/* Two bytes in JSON, eight in the human line. */
	for (i = 0; i < 63; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[126] = '\0';
	audit_rec_begin(&r, 0, "x", "s");
	for (i = 0; i < 4; i++)
		audit_rec_str(&r, "v", big);
	audit_rec_end(&r);
	ck_assert(!r.full);	/* the JSON record had room */
	ck_assert_uint_eq(r.hlen, strlen(r.human));
	ck_assert_str_eq(r.human + r.hlen - 4, " ...");
	ck_assert_ptr_null(strstr(r.human, " ... ..."));
}
END_TEST

START_TEST(end_twice_is_harmless)
{
	struct audit_rec	r;

	audit_rec_begin(&r, 0, "x", "s");
	audit_rec_end(&r);
	audit_rec_end(&r);
	ck_assert_str_eq(r.json, "{\"ts\":\"1970-01-01T00:00:00.000Z\","
	    "\"event\":\"x\",\"session\":\"s\"}\n");
}
END_TEST

/* log_printable: what hopd echoes of a peer's strings (debug lines). */
START_TEST(printable_escapes_controls_and_truncates)
{
	char	out[8];

	log_printable("db1\r\n\x1b[2J", out, sizeof(out));
	ck_assert_str_eq(out, "db1\\x0d");	/* "\x0a" does not fit */
	log_printable("a\x7f\xff", out, sizeof(out));
	ck_assert_str_eq(out, "a\\x7f");
	log_printable("", out, sizeof(out));
	ck_assert_str_eq(out, "");
	log_printable("abcdefghij", out, 1);
	ck_assert_str_eq(out, "");
	out[0] = 'x';
	log_printable("abc", out, 0);		/* nothing written */
	ck_assert_int_eq(out[0], 'x');
}
END_TEST

static const struct {
	uint64_t	 ms;
	const char	*ts;
} ts_cases[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 5, "1970-01-01T00:00:00.005Z" },
	{ 1795464116123ULL, "2026-11-23T20:01:56.123Z" },
	{ 951868799999ULL, "2000-02-29T23:59:59.999Z" },
};

START_TEST(ts_is_rfc3339_utc_with_ms)
{
	char	buf[64];

	audit_format_ts(ts_cases[_i].ms, buf, sizeof(buf));
	ck_assert_str_eq(buf, ts_cases[_i].ts);
}
END_TEST

START_TEST(ts_small_buffer_terminated)
{
	char	buf[8];

	memset(buf, 'x', sizeof(buf));
	audit_format_ts(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01");
	audit_format_ts(0, buf, 0);
}
END_TEST

START_TEST(now_ms_is_realtime)
{
	uint64_t	now = (uint64_t)time(NULL) * 1000, t = audit_now_ms();

	ck_assert_uint_ge(t + 2000, now);
	ck_assert_uint_le(t, now + 2000);
}
END_TEST

static char	tmpdir[64];

static void
tmpdir_setup(void)
{
	quiet_log();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_audit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmpdir_teardown(void)
{
	char	cmd[128];

	audit_thread_buffered(false);
	audit_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "check_audit: could not remove %s\n", tmpdir);
}

/* Reads path into buf; returns the length. */
static size_t
slurp(const char *path, char *buf, size_t len)
{
	FILE	*f;
	size_t	 n;

	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void
emit_simple(const char *event)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), event, "s");
	audit_emit(&r);		/* ends the record itself */
}

static int
count_lines(const char *buf, const char *needle)
{
	int	n = 0;

	for (; (buf = strstr(buf, needle)) != NULL; buf++)
		n++;
	return n;
}

START_TEST(emit_appends_lines_mode_0640)
{
	char		path[128], buf[4096];
	struct stat	st;

	umask(022);
	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	emit_simple("one");
	emit_simple("two");
	audit_close();
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	slurp(path, buf, sizeof(buf));
	ck_assert_int_eq(count_lines(buf, "\n"), 2);
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"one\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"two\""));

	/* Opening again appends. */
	ck_assert_int_eq(audit_open(path), 0);
	emit_simple("three");
	audit_close();
	slurp(path, buf, sizeof(buf));
	ck_assert_int_eq(count_lines(buf, "\n"), 3);
	ck_assert_int_eq(count_lines(buf, "{\"ts\":"), 3);
}
END_TEST

START_TEST(reopen_follows_rotation)
{
	char	path[128], old[128], buf[4096];

	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	snprintf(old, sizeof(old), "%s/audit.log.1", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	emit_simple("before");
	ck_assert_int_eq(rename(path, old), 0);
	emit_simple("rotated");		/* still the old file */
	ck_assert_int_eq(audit_reopen(), 0);
	emit_simple("after");
	slurp(old, buf, sizeof(buf));
	ck_assert_int_eq(count_lines(buf, "\n"), 2);
	ck_assert_ptr_nonnull(strstr(buf, "\"rotated\""));
	slurp(path, buf, sizeof(buf));
	ck_assert_int_eq(count_lines(buf, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(buf, "\"after\""));
}
END_TEST

START_TEST(failed_reopen_keeps_old_file)
{
	char	path[128], old[128], buf[4096];

	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	snprintf(old, sizeof(old), "%s/audit.log.1", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);	/* cannot be opened */
	ck_assert_int_eq(audit_reopen(), -1);
	emit_simple("kept");
	slurp(old, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "\"kept\""));
}
END_TEST

START_TEST(open_failure_and_none)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/no/such/dir/audit.log", tmpdir);
	ck_assert_int_eq(audit_open(path), -1);
	ck_assert_int_eq(audit_open("none"), 0);
	emit_simple("nowhere");
	ck_assert_int_eq(audit_reopen(), 0);
	ck_assert_int_eq(audit_open(NULL), 0);
	emit_simple("nowhere");
}
END_TEST

/* A full disk: the write fails, is logged, nothing crashes. */
START_TEST(write_failure_does_not_crash)
{
	if (access("/dev/full", W_OK) != 0)
		return;
	ck_assert_int_eq(audit_open("/dev/full"), 0);
	emit_simple("lost");
	emit_simple("lost again");
	audit_thread_buffered(true);
	emit_simple("lost from the queue");
	audit_flush();
	audit_thread_buffered(false);
	audit_close();
}
END_TEST

#define EMIT_THREADS	4
#define EMIT_PER_THREAD	300

static void *
emit_many(void *arg)
{
	struct audit_rec	r;
	char			pad[600];
	int			i;

	memset(pad, 'a' + (int)(intptr_t)arg, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < EMIT_PER_THREAD; i++) {
		audit_rec_begin(&r, audit_now_ms(), "load", "s");
		audit_rec_str(&r, "pad", pad);
		audit_rec_u64(&r, "i", (uint64_t)i);
		audit_emit(&r);
	}
	return NULL;
}

START_TEST(concurrent_emits_never_interleave)
{
	char		 path[128], *buf, *line, *nl;
	pthread_t	 t[EMIT_THREADS];
	struct json_rec	*rec;
	size_t		 len, cap = EMIT_THREADS * EMIT_PER_THREAD * 1024;
	int		 i, n = 0;

	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	for (i = 0; i < EMIT_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, emit_many,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < EMIT_THREADS; i++)
		pthread_join(t[i], NULL);
	audit_close();
	buf = malloc(cap);
	rec = malloc(sizeof(*rec));
	ck_assert(buf != NULL && rec != NULL);
	len = slurp(path, buf, cap);
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_eq(json_line_parse(line, nl - line + 1, rec), 0);
		n++;
	}
	ck_assert_int_eq(n, EMIT_THREADS * EMIT_PER_THREAD);
	free(rec);
	free(buf);
}
END_TEST

/*
 * Queued records.  Each record names its thread (session "tN") and its
 * number in that thread (seq); the files are read back in the order they
 * were current and every thread's records must come 0, 1, 2, ... intact.
 */
#define ORDER_THREADS	2

struct order {
	long	next[ORDER_THREADS];	/* the seq expected next, per thread */
	long	lines;
};

/* The whole of path, NUL-terminated (empty when there is none). */
static char *
slurp_all(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf;

	if (stat(path, &st) == -1) {
		ck_assert_int_eq(errno, ENOENT);
		*len = 0;
		buf = calloc(1, 1);
		ck_assert_ptr_nonnull(buf);
		return buf;
	}
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	*len = slurp(path, buf, (size_t)st.st_size + 1);
	ck_assert_uint_eq(*len, (size_t)st.st_size);
	return buf;
}

static void
order_check_file(struct order *o, const char *path)
{
	struct json_rec	*rec;
	const char	*line, *nl, *sess, *seq;
	char		*buf;
	size_t		 len;
	int		 t;

	buf = slurp_all(path, &len);
	rec = malloc(sizeof(*rec));
	ck_assert_ptr_nonnull(rec);
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = memchr(line, '\n', buf + len - line);
		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(json_line_parse(line, nl - line + 1, rec) == 0,
		    "%s: line %ld is not one JSON record", path, o->lines + 1);
		sess = json_field(rec, "session");
		seq = json_field(rec, "seq");
		ck_assert(sess != NULL && seq != NULL && sess[0] == 't');
		t = atoi(sess + 1);
		ck_assert(t >= 0 && t < ORDER_THREADS);
		ck_assert_msg(atol(seq) == o->next[t], "%s: thread %d: seq %s "
		    "where %ld was next", path, t, seq, o->next[t]);
		o->next[t]++;
		o->lines++;
	}
	free(rec);
	free(buf);
}

struct emitter {
	pthread_t	 thread;
	int		 id;
	unsigned	 seed;
	long		 max;		/* 0: until emit_stop */
	long		 count;		/* atomic: records emitted */
};

static int	emit_stop;		/* atomic */

/* One record of thread id, number seq, with a pad of padlen bytes. */
static size_t
emit_seq(int id, long seq, size_t padlen)
{
	struct audit_rec	r;
	char			pad[AUDIT_VALUE_MAX + 1], sess[16], num[24];

	ck_assert_uint_lt(padlen, sizeof(pad));
	memset(pad, 'a' + id, padlen);
	pad[padlen] = '\0';
	snprintf(sess, sizeof(sess), "t%d", id);
	snprintf(num, sizeof(num), "%ld", seq);
	audit_rec_begin(&r, audit_now_ms(), "load", sess);
	audit_rec_str(&r, "seq", num);
	audit_rec_str(&r, "pad", pad);
	audit_emit(&r);
	return r.jlen;
}

/*
 * A worker's life: queue, flush at random points (one time in eight),
 * yield now and then.  Thread 0 stops queueing itself; the others leave
 * their last records to the thread's exit.
 */
static void *
emit_buffered(void *arg)
{
	struct emitter	*e = arg;
	long		 n;

	audit_thread_buffered(true);
	for (n = 0; e->max == 0 ? !__atomic_load_n(&emit_stop,
	    __ATOMIC_ACQUIRE) : n < e->max; n++) {
		emit_seq(e->id, n, rand_r(&e->seed) % AUDIT_VALUE_MAX);
		__atomic_store_n(&e->count, n + 1, __ATOMIC_RELEASE);
		switch (rand_r(&e->seed) % 64) {
		case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
			audit_flush();
			break;
		case 8:
			sched_yield();
			break;
		}
	}
	if (e->id == 0)
		audit_thread_buffered(false);
	return NULL;
}

static void
emitters_start(struct emitter *e, long max)
{
	int	i;

	__atomic_store_n(&emit_stop, 0, __ATOMIC_RELEASE);
	for (i = 0; i < ORDER_THREADS; i++) {
		e[i].id = i;
		e[i].seed = (unsigned)time(NULL) + (unsigned)i;
		e[i].max = max;
		e[i].count = 0;
		ck_assert_int_eq(pthread_create(&e[i].thread, NULL,
		    emit_buffered, &e[i]), 0);
	}
}

static void
emitters_join(struct emitter *e)
{
	int	i;

	__atomic_store_n(&emit_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < ORDER_THREADS; i++)
		pthread_join(e[i].thread, NULL);
}

/* Waits (2 s at most) until the emitters made n more records. */
static void
emitters_progress(struct emitter *e, long n)
{
	long	start = 0, now;
	int	i, ms;

	for (i = 0; i < ORDER_THREADS; i++)
		start += __atomic_load_n(&e[i].count, __ATOMIC_ACQUIRE);
	for (ms = 0; ms < 2000; ms++) {
		for (now = 0, i = 0; i < ORDER_THREADS; i++)
			now += __atomic_load_n(&e[i].count, __ATOMIC_ACQUIRE);
		if (now - start >= n)
			return;
		usleep(1000);
	}
	ck_abort_msg("the emitters made no progress");
}

START_TEST(queued_records_of_threads_all_written_in_order)
{
	struct emitter	e[ORDER_THREADS];
	struct order	o;
	char		path[128];
	int		i;

	memset(&o, 0, sizeof(o));
	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	emitters_start(e, 3000);
	emitters_join(e);
	audit_close();
	order_check_file(&o, path);
	for (i = 0; i < ORDER_THREADS; i++)
		ck_assert_int_eq(o.next[i], 3000);
	ck_assert_int_eq(o.lines, ORDER_THREADS * 3000);
}
END_TEST

/*
 * Three rotations (rename, SIGUSR1) and a reload to another file while
 * the threads queue and flush: each record is in the file that was
 * current when its thread flushed it, so reading the files in the order
 * they were current gives every record, in order.
 */
START_TEST(reopen_while_threads_queue_loses_nothing)
{
	struct emitter	e[ORDER_THREADS];
	struct order	o;
	char		path[128], other[128], rotated[160];
	int		i;

	memset(&o, 0, sizeof(o));
	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	snprintf(other, sizeof(other), "%s/other.log", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	emitters_start(e, 0);
	for (i = 1; i <= 3; i++) {
		emitters_progress(e, 500);
		snprintf(rotated, sizeof(rotated), "%s.%d", path, i);
		ck_assert_int_eq(rename(path, rotated), 0);
		ck_assert_int_eq(audit_reopen(), 0);
	}
	emitters_progress(e, 500);
	ck_assert_int_eq(audit_open(other), 0);
	emitters_progress(e, 500);
	emitters_join(e);
	audit_close();

	for (i = 1; i <= 3; i++) {
		snprintf(rotated, sizeof(rotated), "%s.%d", path, i);
		order_check_file(&o, rotated);
	}
	order_check_file(&o, path);
	order_check_file(&o, other);
	for (i = 0; i < ORDER_THREADS; i++)
		ck_assert_int_eq(o.next[i], e[i].count);
	ck_assert_int_eq(o.lines, e[0].count + e[1].count);
}
END_TEST

static off_t
file_size(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/*
 * Records wait in the queue until a flush; one that does not fit first
 * writes the queue, so the file always holds the oldest records, in order.
 */
START_TEST(full_queue_is_written_first_in_order)
{
	struct order	o;
	char		path[128];
	size_t		total = 0;
	long		i, n = 3 * AUDIT_QUEUE_BYTES / 500;

	memset(&o, 0, sizeof(o));
	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	audit_thread_buffered(true);
	total += emit_seq(0, 0, 500);
	ck_assert_int_eq(file_size(path), 0);
	for (i = 1; i < n; i++) {
		total += emit_seq(0, i, 500);
		ck_assert_int_le(file_size(path), total);
		ck_assert_int_ge(file_size(path) + AUDIT_QUEUE_BYTES, total);
	}
	ck_assert_int_gt(file_size(path), 0);
	order_check_file(&o, path);
	ck_assert_int_gt(o.next[0], 0);
	ck_assert_int_lt(o.next[0], n);

	audit_flush();
	ck_assert_int_eq(file_size(path), total);
	memset(&o, 0, sizeof(o));
	order_check_file(&o, path);
	ck_assert_int_eq(o.next[0], n);
	audit_thread_buffered(false);
}
END_TEST

/*
 * A queued record goes to the file current at the flush: the new one after
 * a reopen, the old one when records were turned off since (not lost).
 */
START_TEST(queued_records_follow_reopen_and_outlive_audit_off)
{
	char	path[128], old[128], buf[4096];

	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	snprintf(old, sizeof(old), "%s/audit.log.1", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	audit_thread_buffered(true);
	emit_simple("flushed");
	audit_flush();
	emit_simple("queued");
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(audit_reopen(), 0);
	audit_flush();
	emit_simple("before off");
	ck_assert_int_eq(audit_open("none"), 0);
	audit_flush();
	emit_simple("while off");
	audit_flush();
	audit_thread_buffered(false);

	slurp(old, buf, sizeof(buf));
	ck_assert_int_eq(count_lines(buf, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(buf, "\"flushed\""));
	slurp(path, buf, sizeof(buf));
	ck_assert_int_eq(count_lines(buf, "\n"), 2);
	ck_assert_ptr_nonnull(strstr(buf, "\"queued\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"before off\""));
	ck_assert(strstr(buf, "\"queued\"") < strstr(buf, "\"before off\""));
}
END_TEST

/* A thread that ends with records queued: its exit writes them. */
static void *
emit_and_exit(void *arg)
{
	audit_thread_buffered(true);
	emit_simple("left at exit");
	return NULL;
}

START_TEST(thread_exit_writes_its_queue)
{
	char		path[128], buf[4096];
	pthread_t	t;

	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	ck_assert_int_eq(audit_open(path), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, emit_and_exit, NULL), 0);
	pthread_join(t, NULL);
	slurp(path, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "\"left at exit\""));
}
END_TEST

Suite *
audit_suite(void)
{
	Suite	*s = suite_create("audit");
	TCase	*tc;

	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, quiet_log, NULL);
	tcase_add_loop_test(tc, json_checker_rejects_invalid_records, 0,
	    sizeof(json_checker_rejects) / sizeof(json_checker_rejects[0]));
	tcase_add_test(tc, json_checker_accepts_valid_record);
	tcase_add_loop_test(tc, json_escapes_each_kind, 0,
	    sizeof(json_escapes) / sizeof(json_escapes[0]));
	tcase_add_test(tc, json_valid_strings_round_trip);
	tcase_add_test(tc, hostile_hostname_stays_one_string);
	tcase_add_test(tc, record_has_ts_event_session_first);
	tcase_add_test(tc, null_value_is_json_null_and_left_out_of_human_line);
	tcase_add_test(tc, u64_and_strv_fields);
	tcase_add_test(tc, long_value_cut_with_marker);
	tcase_add_test(tc, value_of_exactly_max_not_cut);
	tcase_add_test(tc, cut_on_utf8_boundary);
	tcase_add_test(tc, long_invalid_utf8_cut_and_valid);
	tcase_add_test(tc, overflow_sets_full_drops_field_and_stays_valid);
	tcase_add_test(tc, end_twice_is_harmless);
	suite_add_tcase(s, tc);

	tc = tcase_create("human");
	tcase_add_checked_fixture(tc, quiet_log, NULL);
	tcase_add_loop_test(tc, human_line_escapes_each_kind, 0,
	    sizeof(human_escapes) / sizeof(human_escapes[0]));
	tcase_add_test(tc, hostile_event_and_session_quoted_in_human_line);
	tcase_add_test(tc, human_line_overflow_marked_once);
	tcase_add_test(tc, printable_escapes_controls_and_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, quiet_log, NULL);
	tcase_add_test(tc, journal_fields_one_per_field_in_order);
	tcase_add_test(tc, journal_value_is_raw_bytes_and_cut_as_json);
	tcase_add_loop_test(tc, journal_priority_notice_for_denials_and_failures,
	    0, sizeof(notices) / sizeof(notices[0]));
	tcase_add_test(tc, journal_fields_overflow_drops_whole_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, ts_is_rfc3339_utc_with_ms, 0,
	    sizeof(ts_cases) / sizeof(ts_cases[0]));
	tcase_add_test(tc, ts_small_buffer_terminated);
	tcase_add_test(tc, now_ms_is_realtime);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, emit_appends_lines_mode_0640);
	tcase_add_test(tc, reopen_follows_rotation);
	tcase_add_test(tc, failed_reopen_keeps_old_file);
	tcase_add_test(tc, open_failure_and_none);
	tcase_add_test(tc, write_failure_does_not_crash);
	tcase_add_test(tc, concurrent_emits_never_interleave);
	tcase_add_test(tc, queued_records_of_threads_all_written_in_order);
	tcase_add_test(tc, reopen_while_threads_queue_loses_nothing);
	tcase_add_test(tc, full_queue_is_written_first_in_order);
	tcase_add_test(tc, queued_records_follow_reopen_and_outlive_audit_off);
	tcase_add_test(tc, thread_exit_writes_its_queue);
	suite_add_tcase(s, tc);
	return s;
}
