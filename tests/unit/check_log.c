/*
 * Unit tests of log.c: what a peer's bytes become in a log line and in
 * log_printable() (each class that could break or disguise a line escaped
 * as \xNN, other UTF-8 kept), and the UTF-8 decoder both log.c and audit.c
 * rely on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

Suite	*log_suite(void);

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*name;
	const char	*in;
	const char	*out;	/* log_printable with room to spare */
} escape_cases[] = {
	{ "ascii_unchanged", "db1.internal:22", "db1.internal:22" },
	{ "backslash_unchanged", "a\\b", "a\\b" },
	{ "newline_as_hex", "a\nb", "a\\x0ab" },
	{ "cr_as_hex", "a\rb", "a\\x0db" },
	{ "tab_as_hex", "\t", "\\x09" },
	{ "esc_as_hex", "\x1b[2J", "\\x1b[2J" },
	{ "del_as_hex", "\x7f", "\\x7f" },
	{ "latin1_letter_kept", "J\xc3\xbcrgen \xc3\xa9",
	    "J\xc3\xbcrgen \xc3\xa9" },
	{ "cjk_kept", "\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87" },
	{ "emoji_kept", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	{ "nbsp_kept", "\xc2\xa0", "\xc2\xa0" },
	{ "c1_csi_as_hex", "\xc2\x9b" "31m", "\\xc2\\x9b31m" },
	{ "c1_first_as_hex", "\xc2\x80", "\\xc2\\x80" },
	{ "c1_last_as_hex", "\xc2\x9f", "\\xc2\\x9f" },
	{ "line_separator_as_hex", "a\xe2\x80\xa8" "b", "a\\xe2\\x80\\xa8b" },
	{ "paragraph_separator_as_hex", "\xe2\x80\xa9", "\\xe2\\x80\\xa9" },
	{ "arabic_letter_mark_as_hex", "\xd8\x9c", "\\xd8\\x9c" },
	{ "lrm_as_hex", "\xe2\x80\x8e", "\\xe2\\x80\\x8e" },
	{ "rlm_as_hex", "\xe2\x80\x8f", "\\xe2\\x80\\x8f" },
	{ "lre_as_hex", "\xe2\x80\xaa", "\\xe2\\x80\\xaa" },
	{ "rlo_as_hex", "evil\xe2\x80\xaegpj.exe",
	    "evil\\xe2\\x80\\xaegpj.exe" },
	{ "lri_as_hex", "\xe2\x81\xa6", "\\xe2\\x81\\xa6" },
	{ "pdi_as_hex", "\xe2\x81\xa9", "\\xe2\\x81\\xa9" },
	{ "zwj_kept", "\xe2\x80\x8d", "\xe2\x80\x8d" },
	{ "u202f_kept", "\xe2\x80\xaf", "\xe2\x80\xaf" },
	{ "lone_continuation_as_hex", "a\x9b" "b", "a\\x9bb" },
	{ "overlong_slash_as_hex", "\xc0\xaf", "\\xc0\\xaf" },
	{ "overlong_csi_as_hex", "\xc1\x9b", "\\xc1\\x9b" },
	{ "overlong_3byte_as_hex", "\xe0\x80\xaf", "\\xe0\\x80\\xaf" },
	{ "overlong_4byte_rlo_as_hex", "\xf0\x82\x80\xae",
	    "\\xf0\\x82\\x80\\xae" },
	{ "surrogate_as_hex", "\xed\xa0\x80", "\\xed\\xa0\\x80" },
	{ "above_u10ffff_as_hex", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },
	{ "byte_ff_as_hex", "\xff", "\\xff" },
	{ "truncated_at_end_as_hex", "a\xe2\x80", "a\\xe2\\x80" },
	{ "truncated_before_ascii", "\xe2\x80z", "\\xe2\\x80z" },
	{ "truncated_before_valid", "\xf0\x9f\xc3\xa9", "\\xf0\\x9f\xc3\xa9" },
	{ "truncated_c1_lead", "\xc2", "\\xc2" },
};

START_TEST(printable_escapes_each_kind)
{
	char	out[256];

	log_printable(escape_cases[_i].in, out, sizeof(out));
	ck_assert_msg(strcmp(out, escape_cases[_i].out) == 0,
	    "%s: got [%s], want [%s]", escape_cases[_i].name, out,
	    escape_cases[_i].out);
}
END_TEST

/* Cut before what does not fit whole: never half an escape or character. */
START_TEST(printable_cuts_at_whole_units)
{
	char	out[8];

	log_printable("ab\xe2\x80\xae", out, 6);
	ck_assert_str_eq(out, "ab");		/* 12 bytes of escape */
	log_printable("abcd\xc3\xa9", out, 6);
	ck_assert_str_eq(out, "abcd");		/* 2 bytes, 1 left */
	log_printable("abc\xc3\xa9", out, 6);
	ck_assert_str_eq(out, "abc\xc3\xa9");
	log_printable("\x01\x02", out, 5);
	ck_assert_str_eq(out, "\\x01");
	log_printable("\x01\x02", out, 4);
	ck_assert_str_eq(out, "");
	log_printable("x", out, 1);
	ck_assert_str_eq(out, "");
	out[0] = 'q';
	log_printable("x", out, 0);
	ck_assert_int_eq(out[0], 'q');
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;
	uint32_t	 cp;
} decode_cases[] = {
	{ "A", 1, 0x41 },
	{ "", 1, 0 },
	{ "\xc2\x80", 2, 0x80 },
	{ "\xc2\x9b", 2, 0x9b },
	{ "\xdf\xbf", 2, 0x7ff },
	{ "\xd8\x9c", 2, 0x61c },
	{ "\xe0\xa0\x80", 3, 0x800 },
	{ "\xe2\x80\xae", 3, 0x202e },
	{ "\xe2\x81\xa9", 3, 0x2069 },
	{ "\xef\xbf\xbf", 3, 0xffff },
	{ "\xf0\x90\x80\x80", 4, 0x10000 },
	{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	{ "\x80", 0, 0 },
	{ "\xc0\x80", 0, 0 },
	{ "\xc1\xbf", 0, 0 },
	{ "\xe0\x9f\xbf", 0, 0 },		/* overlong U+07FF */
	{ "\xed\xa0\x80", 0, 0 },		/* surrogate */
	{ "\xf0\x8f\xbf\xbf", 0, 0 },		/* overlong U+FFFF */
	{ "\xf4\x90\x80\x80", 0, 0 },		/* U+110000 */
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "\xe2\x80", 0, 0 },			/* truncated by the NUL */
	{ "\xe2\x80" "A", 0, 0 },
	{ "\xf0\x9f\x98", 0, 0 },
};

START_TEST(utf8_decode_values)
{
	uint32_t	cp = 0xdeadbeef;
	size_t		n;

	n = log_utf8_decode(decode_cases[_i].in, &cp);
	ck_assert_msg(n == decode_cases[_i].len, "case %d: length %zu", _i,
	    n);
	if (n > 0)
		ck_assert_msg(cp == decode_cases[_i].cp,
		    "case %d: U+%04X", _i, (unsigned)cp);
}
END_TEST

START_TEST(hidden_code_points_and_their_edges)
{
	static const uint32_t	hidden[] = {
		0x80, 0x9b, 0x9f, 0x61c, 0x200e, 0x200f, 0x2028, 0x2029,
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067,
		0x2068, 0x2069,
	};
	static const uint32_t	shown[] = {
		0x7e, 0xa0, 0xe9, 0x61b, 0x61d, 0x200d, 0x2010, 0x2027,
		0x202f, 0x2065, 0x206a, 0x4e2d, 0x1f600,
	};
	size_t			i;

	for (i = 0; i < nitems(hidden); i++)
		ck_assert_msg(log_hidden_cp(hidden[i]), "U+%04X",
		    (unsigned)hidden[i]);
	for (i = 0; i < nitems(shown); i++)
		ck_assert_msg(!log_hidden_cp(shown[i]), "U+%04X",
		    (unsigned)shown[i]);
}
END_TEST

/* The line on stderr: one line whatever the arguments held. */
START_TEST(log_line_escapes_peer_bytes)
{
	char	 path[] = "/tmp/check_log.XXXXXX", buf[1024];
	FILE	*fp;
	size_t	 n;
	int	 fd, saved;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	fflush(stderr);
	ck_assert_int_ne(dup2(fd, STDERR_FILENO), -1);
	log_init(LOG_LEVEL_INFO, true, false);
	log_info("user %s asked %s", "al\xe2\x80\xaeice\n",
	    "db\xc2\x9b" "1\xe2\x80\xa8:22 \xc3\xa9\xe4\xb8\xad \xc0\xaf");
	log_debug("not shown at info");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(buf, " hopd: user al\\xe2\\x80\\xaeice"
	    "\\x0a asked db\\xc2\\x9b1\\xe2\\x80\\xa8:22 \xc3\xa9\xe4\xb8\xad "
	    "\\xc0\\xaf\n"));
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1);
}
END_TEST

Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("escape");

	tcase_add_loop_test(tc, printable_escapes_each_kind, 0,
	    nitems(escape_cases));
	tcase_add_test(tc, printable_cuts_at_whole_units);
	tcase_add_loop_test(tc, utf8_decode_values, 0, nitems(decode_cases));
	tcase_add_test(tc, hidden_code_points_and_their_edges);
	tcase_add_test(tc, log_line_escapes_peer_bytes);
	suite_add_tcase(s, tc);
	return s;
}
