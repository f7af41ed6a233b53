/*
 * Unit tests of krl.c: KRLs made once by ssh-keygen 9.2 (-k with serial,
 * range, id, key, sha1, sha256 and hash specs, an any-CA section and
 * serials dense and sparse enough for every encoding), the list-of-keys
 * form, and malformed inputs built by hand or by cutting and flipping.
 * Keys are read by cert.c: these pin what krl.c does with what it accepts
 * and refuses.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cert.h"
#include "krl.h"
#include "wire.h"

Suite	*krl_suite(void);

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * ca, ca2 (ECDSA P-256): CAs.  u1-cert: u1 signed by ca, serial 42, id
 * alice-laptop.  u2-cert: u2 (ECDSA P-384) by ca2, serial 7, id bob.
 * u3: RSA 2048, k4: RSA 1024, the others Ed25519 or ECDSA P-256.
 *
 * KRL_FULL, in the order ssh-keygen -k -u added them:
 *   ca:     serial 5, 1000, 123456789012, 2000-3000, 100-400 step 3,
 *           18446744073709551615; id alice-laptop, "with space id"
 *   any CA: serial 77; id wild-id
 *   ca2:    serial 5-6, u2-cert (serial 7); id bob-other
 *   key: k1 and k4 (explicit), sha1: k2, sha256: k3, hash: k5
 * KRL_BIG (ca2): 1-3, 10002-16000 step 2 (a bitmap), 50000-60000,
 *   70000-70100, 1000000 + i * 7919000 for i in 1..40 (a list).
 * KRL_EMPTY: a header, no section.
 */

static const char KRL_FULL_B64[] =
    "U1NIS1JMCgAAAAABAAAAAAAAAAQAAAAAaxL5TgAAAAAAAAAAAAAAAAAAAAABAAAA"
    "3AAAADMAAAALc3NoLWVkMjU1MTkAAAAgb7qzACL+eq39S1LqCungrBbrTbU1dd4k"
    "upCjpJmE4gYAAAAAIAAAAAgAAAAAAAAABSIAAAAyAAAAAAAAAGQAAAAmEkkkkkkk"
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkgAAAACAAAAAAAAAPoIQAA"
    "ABAAAAAAAAAH0AAAAAAAAAu4IAAAABAAAAAcvpkaFP//////////IwAAACEAAAAM"
    "YWxpY2UtbGFwdG9wAAAADXdpdGggc3BhY2UgaWQBAAAAJQAAAAAAAAAAIAAAAAgA"
    "AAAAAAAATSMAAAALAAAAB3dpbGQtaWQBAAAAlAAAAGgAAAATZWNkc2Etc2hhMi1u"
    "aXN0cDI1NgAAAAhuaXN0cDI1NgAAAEEEg8kvz6iE5EK+k6k+MN5Y89PaoONAasw9"
    "81xLM/a5Jzl9DG6SLcjhRXrrz6YThCaHU7+F86SftNyfn/yQmtcoCgAAAAAiAAAA"
    "DQAAAAAAAAAFAAAAAQcjAAAADQAAAAlib2Itb3RoZXICAAAA0gAAAJcAAAAHc3No"
    "LXJzYQAAAAMBAAEAAACBALenTpf8IL9A8bMLE2ruX4sXY1Tj0x7+iLxFP2knkzVB"
    "4CQkft29uNtdRyoWn10UGMsvklqBHZkbZSCA3B+d9ky1IHCW691Ve9OlxXDFpAcY"
    "C8DhNLUsF587eXM0Qqv0dpBm8kExYi8l8gN4eeqWvcN7pz2vFw10Gjmtou/u+udf"
    "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACBHmTNekYdtaz7iUE3QNWS/AyeqvWBmzNXJ"
    "eCtdh/GWiAMAAAAYAAAAFO5EUDXR1BiQzXlWD3cxfPJRuU8xBQAAAEgAAAAgdGGE"
    "EMa7T+HGgWXt+FbOqsfjVmZg+zHLP4ny6MST7SwAAAAgzeQ2yTqnPeAWkBAWrCt/"
    "/ZwWlJM6N3T9Vi8VEFvjLR4=";

static const char KRL_BIG_B64[] =
    "U1NIS1JMCgAAAAABAAAAAAAAAAkAAAAAaxL5XgAAAAAAAAAAAAAAAAAAAAABAAAE"
    "8AAAAGgAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAEEEg8kv"
    "z6iE5EK+k6k+MN5Y89PaoONAasw981xLM/a5Jzl9DG6SLcjhRXrrz6YThCaHU7+F"
    "86SftNyfn/yQmtcoCgAAAAAiAAAADQAAAAAAAAABAAAAAQciAAAC+gAAAAAAACcS"
    "AAAC7lVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVSEAAAAQAAAAAAAAw1AA"
    "AAAAAADqYCEAAAAQAAAAAAABEXAAAAAAAAER1CAAAAFAAAAAAACIF9gAAAAAAQDt"
    "cAAAAAABecMIAAAAAAHymKAAAAAAAmtuOAAAAAAC5EPQAAAAAANdGWgAAAAAA9Xv"
    "AAAAAAAETsSYAAAAAATHmjAAAAAABUBvyAAAAAAFuUVgAAAAAAYyGvgAAAAABqrw"
    "kAAAAAAHI8YoAAAAAAecm8AAAAAACBVxWAAAAAAIjkbwAAAAAAkHHIgAAAAACX/y"
    "IAAAAAAJ+Me4AAAAAApxnVAAAAAACupy6AAAAAALY0iAAAAAAAvcHhgAAAAADFTz"
    "sAAAAAAMzclIAAAAAA1GnuAAAAAADb90eAAAAAAOOEoQAAAAAA6xH6gAAAAADyn1"
    "QAAAAAAPosrYAAAAABAboHAAAAAAEJR2CAAAAAARDUugAAAAABGGITgAAAAAEf72"
    "0AAAAAASd8xoAAAAABLwogA=";

static const char KRL_EMPTY_B64[] =
    "U1NIS1JMCgAAAAABAAAAAAAAAAAAAAAAaxL5YwAAAAAAAAAAAAAAAAAAAAA=";

static const char CA_B64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIG+6swAi/nqt/UtS6grp4KwW6021NXXeJLqQo6SZ"
    "hOIG";

static const char CA2_B64[] =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIPJL8+ohORC"
    "vpOpPjDeWPPT2qDjQGrMPfNcSzP2uSc5fQxuki3I4UV668+mE4Qmh1O/hfOkn7Tc"
    "n5/8kJrXKAo=";

static const char U1_B64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAINcm762y6wnsorxR+2AfwPP6UZAvE9eK9zRQypim"
    "kgDz";

static const char U2_B64[] =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBHzB/JfTU+QS"
    "Tf9veslvur00gnAgkG+Vr9Hi1FRxPzk/LFMgHta8OmafYthDrRjDKklzDHuolOaL"
    "bwjelvqRX24CavcYUzt+GftiXmfSmIg2NOqB398Hq5b+Ct0kCtMxfA==";

static const char U3_B64[] =
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQCN02uqx8HHXXzuKKBT80P9/cwXxmC9LJ7B"
    "BDtQjDhKucTjKQ4HMomSEf1+AdcRa4WoL15TXPhYqGe8ktpwGtomZ7JZY0L101+a"
    "hhHKeg6q4EQ6Ob4UfM2E9AWgf2oKSyM02D4I/AksXq18Vc/oy74q1+Y/JqiDHpK1"
    "kKtlP1s3wWnmo4ZZuVm7v3sPt2xacYrrg6PvZY+XbcuemBhudHoScl/SkMOl1mpg"
    "/BaLCo9kT3AER8TfF0kJYNx8cpdZTNsFkBRssGxGVkOCjfwCKYBeyzuKfLhpWsma"
    "8WPeVA880II7/xJyX8VJpzmh88D6MAL4Bxz0NVaqP2uY8V+xS+Jr";

static const char K1_B64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIEeZM16Rh21rPuJQTdA1ZL8DJ6q9YGbM1cl4K12H"
    "8ZaI";

static const char K2_B64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIPM2Faj31ixrxa4VSIGaMKrPw1ha7UDnpfaGSX3J"
    "66ZX";

static const char K3_B64[] =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEjfUum33bnA"
    "eA4jBXoIuLaM0XuoBo5k5tpWb/atlkykJhXoGayDPD8RqUMfcyZBpmgNvYdLUYB4"
    "zprRR5FR3ew=";

static const char K4_B64[] =
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC3p06X/CC/QPGzCxNq7l+LF2NU49Me/oi8"
    "RT9pJ5M1QeAkJH7dvbjbXUcqFp9dFBjLL5JagR2ZG2UggNwfnfZMtSBwluvdVXvT"
    "pcVwxaQHGAvA4TS1LBefO3lzNEKr9HaQZvJBMWIvJfIDeHnqlr3De6c9rxcNdBo5"
    "raLv7vrnXw==";

static const char K5_B64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAILKetmZLTB4hbq65VX4UdeVVfR1aDrVZW1kp5WGI"
    "E1dh";

/* ssh-dss 1024, made by ssh-keygen 9.2 -t dsa: a type hopd never takes. */
static const char DSA_B64[] =
    "AAAAB3NzaC1kc3MAAACBAIyeTWEecmFu+vxLjHEhNk8z1SRnsrfRmVfhLH9EHjPa"
    "wfevZ78Gr+KtfPGt8W3sFYbhBkNteCZRoX6p+DBqvou2KvCLgyXTV/bivD+z060S"
    "4QDI+IRMXo3CJH6UVwy9lYJo6LR19JcnMoHVHkcXpQGW6HMnNVt1wNKe0uDO6Kd7"
    "AAAAFQCaZ5pw/cczIIaI1uRqkWxa9iPa9QAAAIBmocubnBUPa9GuybTcd/9oTBFx"
    "ALbgmCd16kDFFVamYS5yJmp9LhaKX2Kpw9wzNCiBg4FmAZipR5xYi2HQXw8e4wYE"
    "DeFlJB4E4KF8qXssfmNceL5iNy3WPTlMPj3dGUYSAI3L3iqwqS96reLHsTo3Iwl+"
    "xZYekRxNTHkOQac5WAAAAIAdEjRjcIAGpJZ4X/JX41N+zSesn0ZkkdQ9wjvGCJnr"
    "Vfbzw+/yRLqbN4+FeOOj7KXEGm8EKq7DqMHWuDgEFLVXxptljNcQMHUmqD53Q72Z"
    "MgaPQwX7n4rwWoHT4BhNTvofFbQXDlSVKepeoEXkK6FPl206fddfx6fMihZI9iyi"
    "Lw==";

/* ssh-ed25519-cert-v01@openssh.com */
static const char U1_CERT_B64[] =
    "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIKheZ8hTKpoh"
    "BpNtONzZZb0p2q0+Nr0KBYS9lmkVelccAAAAINcm762y6wnsorxR+2AfwPP6UZAv"
    "E9eK9zRQypimkgDzAAAAAAAAACoAAAABAAAADGFsaWNlLWxhcHRvcAAAAAkAAAAF"
    "YWxpY2UAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3"
    "YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVy"
    "bWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVy"
    "bWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgb7qzACL+"
    "eq39S1LqCungrBbrTbU1dd4kupCjpJmE4gYAAABTAAAAC3NzaC1lZDI1NTE5AAAA"
    "QJnMgjL1aBqJxgVZLswjIKLBOamAkTEmZfOfZarZvvTk+uUwhfoudeS2mcG57+Ag"
    "kGvDdZWNIFpyePbuWsMVRQM=";

/* ecdsa-sha2-nistp384-cert-v01@openssh.com */
static const char U2_CERT_B64[] =
    "AAAAKGVjZHNhLXNoYTItbmlzdHAzODQtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg"
    "UKdBws371xZ9qnY0YlkD9bM3NcpW3aybqH3hURxUXn4AAAAIbmlzdHAzODQAAABh"
    "BHzB/JfTU+QSTf9veslvur00gnAgkG+Vr9Hi1FRxPzk/LFMgHta8OmafYthDrRjD"
    "KklzDHuolOaLbwjelvqRX24CavcYUzt+GftiXmfSmIg2NOqB398Hq5b+Ct0kCtMx"
    "fAAAAAAAAAAHAAAAAQAAAANib2IAAAAHAAAAA2JvYgAAAAAAAAAA//////////8A"
    "AAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1h"
    "Z2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAA"
    "AAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAA"
    "aAAAABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQSDyS/PqITk"
    "Qr6TqT4w3ljz09qg40BqzD3zXEsz9rknOX0MbpItyOFFeuvPphOEJodTv4XzpJ+0"
    "3J+f/JCa1ygKAAAAZQAAABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAASgAAACEA6WYB"
    "9JrY91KZ6Hk6Ra6Oq6s1ET+VdHAp1AX4U8Xq0lcAAAAhAPDio5C87M04sNNN5In5"
    "hUokjrAN78/ukNTQYym1wMB/";


struct blob {
	uint8_t	*p;
	size_t	 len;
};

static struct blob
b64(const char *s)
{
	struct blob	b;

	b.p = wire_b64_decode(s, strlen(s), &b.len);
	ck_assert_ptr_nonnull(b.p);
	return b;
}

static struct krl *
parse_b64(const char *s)
{
	struct blob	 b = b64(s);
	struct krl	*krl;
	char		 err[256];

	krl = krl_parse(b.p, b.len, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	free(b.p);
	return krl;
}

static bool
key_revoked(const struct krl *krl, const char *key, const char *want_why)
{
	struct blob	 b = b64(key);
	const char	*why = NULL;
	bool		 r;

	r = krl_key_revoked(krl, b.p, b.len, &why);
	free(b.p);
	if (r && want_why != NULL)
		ck_assert_str_eq(why, want_why);
	return r;
}

static bool
cert_revoked(const struct krl *krl, const char *ca, uint64_t serial,
    const char *id)
{
	struct blob	b = b64(ca);
	bool		r;

	r = krl_cert_revoked(krl, b.p, b.len, serial, id, NULL);
	free(b.p);
	return r;
}

/* A growing buffer to build KRLs by hand. */
struct buf {
	uint8_t	*p;
	size_t	 len;
};

static void
put(struct buf *b, const void *p, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	ck_assert_ptr_nonnull(b->p);
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
put_u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t	n[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, n, 4);
}

static void
put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

static void
put_string(struct buf *b, const void *p, size_t len)
{
	put_u32(b, (uint32_t)len);
	put(b, p, len);
}

static void
put_buf(struct buf *b, const struct buf *s)
{
	put_string(b, s->p, s->len);
}

static void
put_header(struct buf *b, uint32_t version)
{
	put(b, "SSHKRL\n\0", 8);
	put_u32(b, version);
	put_u64(b, 1);			/* krl_version */
	put_u64(b, 1700000000);		/* generated_date */
	put_u64(b, 0);			/* flags */
	put_string(b, NULL, 0);		/* reserved */
	put_string(b, "c", 1);		/* comment */
}

/* A KRL of one certificate section: CA (b64, or NULL: any CA), subs. */
static struct buf
cert_krl(const char *ca, const struct buf *subs)
{
	struct buf	 k = { NULL, 0 }, sect = { NULL, 0 };
	struct blob	 cab = { NULL, 0 };

	if (ca != NULL)
		cab = b64(ca);
	put_header(&k, 1);
	put_string(&sect, cab.p, cab.len);
	put_string(&sect, NULL, 0);
	put(&sect, subs->p, subs->len);
	put_u8(&k, 1);
	put_buf(&k, &sect);
	free(sect.p);
	free(cab.p);
	return k;
}

static void
sub_serials(struct buf *subs, uint8_t type, const uint64_t *v, size_t n)
{
	struct buf	s = { NULL, 0 };
	size_t		i;

	for (i = 0; i < n; i++)
		put_u64(&s, v[i]);
	put_u8(subs, type);
	put_buf(subs, &s);
	free(s.p);
}

static struct krl *
parse_buf(const struct buf *b, char *err, size_t errlen)
{
	return krl_parse(b->p, b->len, err, errlen);
}

START_TEST(serial_list_range_and_bitmap_revoke_under_their_ca)
{
	struct krl	*krl = parse_b64(KRL_FULL_B64);
	static const uint64_t yes[] = { 5, 1000, 123456789012ULL, 2000,
	    2001, 2500, 3000, 100, 103, 250, 400, UINT64_MAX };
	static const uint64_t no[] = { 1, 4, 6, 999, 1001, 1999, 3001, 99,
	    101, 102, 401, 403, 123456789011ULL, 123456789013ULL,
	    UINT64_MAX - 1 };
	size_t		 i;

	for (i = 0; i < NITEMS(yes); i++)
		ck_assert_msg(cert_revoked(krl, CA_B64, yes[i], "x"),
		    "serial %llu", (unsigned long long)yes[i]);
	for (i = 0; i < NITEMS(no); i++)
		ck_assert_msg(!cert_revoked(krl, CA_B64, no[i], "x"),
		    "serial %llu", (unsigned long long)no[i]);
	krl_free(krl);
}
END_TEST

START_TEST(same_serial_of_another_ca_not_revoked)
{
	struct krl	*krl = parse_b64(KRL_FULL_B64);

	ck_assert(!cert_revoked(krl, CA2_B64, 1000, "x"));
	ck_assert(!cert_revoked(krl, CA2_B64, 2500, "x"));
	ck_assert(!cert_revoked(krl, U3_B64, 5, "x"));
	/* ca2's own: 5-6 and u2-cert's 7, as a bitmap. */
	ck_assert(cert_revoked(krl, CA2_B64, 5, "x"));
	ck_assert(cert_revoked(krl, CA2_B64, 7, "x"));
	ck_assert(!cert_revoked(krl, CA2_B64, 4, "x"));
	ck_assert(!cert_revoked(krl, CA2_B64, 8, "x"));
	ck_assert(!cert_revoked(krl, CA_B64, 7, "x"));
	krl_free(krl);
}
END_TEST

START_TEST(key_id_revoked_under_its_ca_only)
{
	struct krl	*krl = parse_b64(KRL_FULL_B64);
	struct blob	 ca = b64(CA_B64);
	const char	*why = NULL;

	ck_assert(krl_cert_revoked(krl, ca.p, ca.len, 42, "alice-laptop",
	    &why));
	ck_assert_str_eq(why, "key id");
	ck_assert(cert_revoked(krl, CA_B64, 0, "with space id"));
	ck_assert(!cert_revoked(krl, CA2_B64, 42, "alice-laptop"));
	ck_assert(!cert_revoked(krl, CA_B64, 42, "alice-laptop2"));
	ck_assert(!cert_revoked(krl, CA_B64, 42, "alice"));
	ck_assert(!cert_revoked(krl, CA_B64, 42, ""));
	ck_assert(cert_revoked(krl, CA2_B64, 42, "bob-other"));
	ck_assert(!cert_revoked(krl, CA2_B64, 42, "bob"));
	ck_assert(!cert_revoked(krl, CA_B64, 42, "bob-other"));
	free(ca.p);
	krl_free(krl);
}
END_TEST

START_TEST(any_ca_section_revokes_for_every_ca)
{
	struct krl	*krl = parse_b64(KRL_FULL_B64);
	struct blob	 ca = b64(U3_B64);
	const char	*why = NULL;

	ck_assert(krl_cert_revoked(krl, ca.p, ca.len, 9, "wild-id", &why));
	ck_assert_str_eq(why, "key id (any CA)");
	ck_assert(krl_cert_revoked(krl, ca.p, ca.len, 77, "x", &why));
	ck_assert_str_eq(why, "serial (any CA)");
	ck_assert(cert_revoked(krl, CA_B64, 77, "x"));
	ck_assert(cert_revoked(krl, CA2_B64, 0, "wild-id"));
	ck_assert(!cert_revoked(krl, U3_B64, 76, "wild"));
	/* The any-CA section is not found by an empty CA blob. */
	ck_assert(!krl_cert_revoked(krl, (const uint8_t *)"", 0, 76, "x",
	    NULL));
	free(ca.p);
	krl_free(krl);
}
END_TEST

START_TEST(serial_zero_never_looked_up)
{
	struct buf	 subs = { NULL, 0 }, k;
	struct krl	*krl;
	char		 err[256];
	static const uint64_t range[] = { 1, UINT64_MAX };

	/* Every serial revoked, for any CA: still not serial 0. */
	sub_serials(&subs, 0x21, range, 2);
	k = cert_krl(NULL, &subs);
	krl = parse_buf(&k, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(!cert_revoked(krl, CA_B64, 0, "x"));
	ck_assert(cert_revoked(krl, CA_B64, 1, "x"));
	ck_assert(cert_revoked(krl, CA_B64, UINT64_MAX, "x"));
	krl_free(krl);
	free(k.p);
	free(subs.p);
}
END_TEST

START_TEST(bitmap_and_range_encodings_of_big_krl)
{
	struct krl	*krl = parse_b64(KRL_BIG_B64);
	uint64_t	 s;
	unsigned	 i;
	char		 desc[256];

	for (s = 1; s <= 3; s++)
		ck_assert(cert_revoked(krl, CA2_B64, s, "x"));
	ck_assert(!cert_revoked(krl, CA2_B64, 4, "x"));
	for (s = 9990; s <= 16010; s++)
		ck_assert_msg(cert_revoked(krl, CA2_B64, s, "x") ==
		    (s >= 10002 && s <= 16000 && s % 2 == 0), "serial %llu",
		    (unsigned long long)s);
	ck_assert(!cert_revoked(krl, CA2_B64, 49999, "x"));
	ck_assert(cert_revoked(krl, CA2_B64, 50000, "x"));
	ck_assert(cert_revoked(krl, CA2_B64, 60000, "x"));
	ck_assert(!cert_revoked(krl, CA2_B64, 60001, "x"));
	ck_assert(cert_revoked(krl, CA2_B64, 70050, "x"));
	ck_assert(!cert_revoked(krl, CA2_B64, 70101, "x"));
	for (i = 1; i <= 40; i++) {
		s = 1000000 + (uint64_t)i * 7919000;
		ck_assert(cert_revoked(krl, CA2_B64, s, "x"));
		ck_assert(!cert_revoked(krl, CA2_B64, s + 1, "x"));
		ck_assert(!cert_revoked(krl, CA2_B64, s - 1, "x"));
		ck_assert(!cert_revoked(krl, CA_B64, s, "x"));
	}
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_msg(strstr(desc, "KRL version 9") != NULL &&
	    strstr(desc, "2 bitmaps") != NULL, "%s", desc);
	krl_free(krl);
}
END_TEST

START_TEST(keys_revoked_explicitly_and_by_fingerprint)
{
	struct krl	*krl = parse_b64(KRL_FULL_B64);

	ck_assert(key_revoked(krl, K1_B64, "explicit key"));
	ck_assert(key_revoked(krl, K4_B64, "explicit key"));
	ck_assert(key_revoked(krl, K2_B64, "SHA-1 fingerprint"));
	ck_assert(key_revoked(krl, K3_B64, "SHA-256 fingerprint"));
	ck_assert(key_revoked(krl, K5_B64, "SHA-256 fingerprint"));
	ck_assert(!key_revoked(krl, U1_B64, NULL));
	ck_assert(!key_revoked(krl, U2_B64, NULL));
	ck_assert(!key_revoked(krl, U3_B64, NULL));
	ck_assert(!key_revoked(krl, CA_B64, NULL));
	ck_assert(!key_revoked(krl, CA2_B64, NULL));
	/* A certificate is looked up as its key (u1 is not revoked). */
	ck_assert(!key_revoked(krl, U1_CERT_B64, NULL));
	krl_free(krl);
}
END_TEST

START_TEST(certificate_login_checks_as_sshd)
{
	struct krl	*krl = parse_b64(KRL_FULL_B64);

	/* u1-cert: ca, 42, alice-laptop (revoked by id). */
	ck_assert(!key_revoked(krl, U1_B64, NULL) &&
	    cert_revoked(krl, CA_B64, 42, "alice-laptop"));
	/* u2-cert: ca2, 7, bob (revoked by serial). */
	ck_assert(cert_revoked(krl, CA2_B64, 7, "bob"));
	krl_free(krl);
}
END_TEST

START_TEST(empty_krl_revokes_nothing)
{
	struct krl	*krl = parse_b64(KRL_EMPTY_B64);
	char		 desc[256];

	ck_assert(!key_revoked(krl, K1_B64, NULL));
	ck_assert(!cert_revoked(krl, CA_B64, 5, "alice-laptop"));
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_str_eq(desc, "KRL version 0: 0 keys, 0 SHA-1 and 0 "
	    "SHA-256 fingerprints; 0 CAs: 0 serial ranges, 0 bitmaps, 0 key "
	    "ids");
	krl_free(krl);
}
END_TEST

/* sshd falls back to a list of keys, which revokes nothing when empty. */
START_TEST(empty_file_is_empty_list)
{
	struct krl	*krl;
	char		 err[64], desc[64];

	krl = krl_parse((const uint8_t *)"", 0, err, sizeof(err));
	ck_assert_ptr_nonnull(krl);
	ck_assert(!key_revoked(krl, K1_B64, NULL));
	ck_assert(!cert_revoked(krl, CA_B64, 5, "x"));
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_str_eq(desc, "list of 0 keys");
	krl_free(krl);
	krl = krl_parse(NULL, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(krl);
	krl_free(krl);
	krl = krl_parse((const uint8_t *)"# nothing\n\n  \t\n", 15, err,
	    sizeof(err));
	ck_assert_ptr_nonnull(krl);
	krl_free(krl);
}
END_TEST

static char *
text_list(void)
{
	static const char *const parts[] = {
		"# revoked keys\n\nssh-ed25519 ", K1_B64, " k1\n",
		"   \t# indented comment\n",
		"ecdsa-sha2-nistp384-cert-v01@openssh.com ", U2_CERT_B64,
		" u2 cert\n",
		"ecdsa-sha2-nistp256 ", K3_B64, " k3 crlf\r\n",
		"\tssh-rsa\t", K4_B64,
	};
	char	*s;
	size_t	 i, len = 1;

	for (i = 0; i < NITEMS(parts); i++)
		len += strlen(parts[i]);
	s = calloc(1, len);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < NITEMS(parts); i++)
		strcat(s, parts[i]);
	return s;
}

START_TEST(list_of_keys_revokes_equal_keys)
{
	char		*s = text_list(), err[256], desc[64];
	struct krl	*krl;

	krl = krl_parse((const uint8_t *)s, strlen(s), err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(key_revoked(krl, K1_B64, "listed key"));
	ck_assert(key_revoked(krl, K3_B64, "listed key"));
	ck_assert(key_revoked(krl, K4_B64, "listed key"));
	/* A certificate line revokes its key, and so its certificates. */
	ck_assert(key_revoked(krl, U2_B64, "listed key"));
	ck_assert(key_revoked(krl, U2_CERT_B64, "listed key"));
	ck_assert(!key_revoked(krl, K2_B64, NULL));
	ck_assert(!key_revoked(krl, CA2_B64, NULL));
	ck_assert(!key_revoked(krl, U1_CERT_B64, NULL));
	/* A list revokes no serial or key id. */
	ck_assert(!cert_revoked(krl, CA2_B64, 7, "bob"));
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_str_eq(desc, "list of 4 keys");
	krl_free(krl);
	free(s);
}
END_TEST

/* One list line: TYPE, then BLOB in base64. */
static struct buf
list_line(const char *type, const uint8_t *blob, size_t len)
{
	struct buf	 line = { NULL, 0 };
	char		*enc;

	enc = malloc(4 * ((len + 2) / 3) + 1);
	ck_assert_ptr_nonnull(enc);
	EVP_EncodeBlock((unsigned char *)enc, blob, (int)len);
	put(&line, type, strlen(type));
	put(&line, " ", 1);
	put(&line, enc, strlen(enc));
	put(&line, "\n", 1);
	free(enc);
	return line;
}

/* u3 (RSA) with a needless 0x00 before its modulus, which has one already. */
static struct buf
noncanonical_u3(void)
{
	struct blob	 k = b64(U3_B64);
	struct buf	 nc = { NULL, 0 };
	size_t		 elen, nlen;

	/* ssh-rsa, e, n: n (257 bytes, 0x00 first) gets another 0x00. */
	elen = 4 + 7 + 4 + ((size_t)k.p[11] << 24 | k.p[12] << 16 |
	    k.p[13] << 8 | k.p[14]);
	nlen = (size_t)k.p[elen] << 24 | k.p[elen + 1] << 16 |
	    k.p[elen + 2] << 8 | k.p[elen + 3];
	put(&nc, k.p, elen);
	put_u32(&nc, (uint32_t)nlen + 1);
	put_u8(&nc, 0);
	put(&nc, k.p + elen + 4, nlen);
	ck_assert_uint_eq(nc.len, k.len + 1);
	free(k.p);
	return nc;
}

/*
 * sshd reads a needless 0 by value and would revoke u3; pubkey_parse()
 * takes canonical numbers only, and skipping the line would miss that
 * revocation: the file is refused (fail closed).  It was read by value
 * when krl.c had its own reader.
 */
START_TEST(list_line_with_noncanonical_number_refused)
{
	struct buf	 nc = noncanonical_u3(), line;
	struct krl	*krl;
	char		 err[256];

	line = list_line("ssh-rsa", nc.p, nc.len);
	krl = krl_parse(line.p, line.len, err, sizeof(err));
	ck_assert_ptr_null(krl);
	ck_assert_msg(strncmp(err, "line 1: ", 8) == 0 &&
	    strstr(err, "non-canonical") != NULL, "%s", err);
	free(nc.p);
	free(line.p);
}
END_TEST

/*
 * A plain blob is compared as given: hopd hands in pubkey_parse()'s
 * canonical blobs, and a non-canonical one is no key hopd ever accepted.
 * (Before, krl.c read it again and found u3.)
 */
START_TEST(plain_blob_looked_up_as_given)
{
	struct blob	 k = b64(U3_B64);
	struct buf	 nc = noncanonical_u3(), line;
	struct krl	*krl;
	char		 err[256];

	line = list_line("ssh-rsa", k.p, k.len);
	krl = krl_parse(line.p, line.len, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(key_revoked(krl, U3_B64, "listed key"));
	ck_assert(!krl_key_revoked(krl, nc.p, nc.len, NULL));
	/* Nor is a blob that reads as no key at all "cannot tell". */
	ck_assert(!krl_key_revoked(krl, (const uint8_t *)"junk", 4, NULL));
	krl_free(krl);
	free(k.p);
	free(nc.p);
	free(line.p);
}
END_TEST

/*
 * A certificate handed in is reduced to its key by cert_parse(); one it
 * refuses (here: a byte after the signature) cannot be told, so it is
 * revoked, under every kind of file.  (Before, it was looked up as it
 * was, and was not revoked.)
 */
START_TEST(unreadable_certificate_revoked_as_cannot_tell)
{
	static const char *const files[] = { KRL_EMPTY_B64, KRL_FULL_B64 };
	struct blob	 c = b64(U1_CERT_B64);
	struct krl	*krl;
	const char	*why = NULL;
	uint8_t		*p;
	size_t		 i;

	p = malloc(c.len + 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, c.p, c.len);
	p[c.len] = 0;
	for (i = 0; i < NITEMS(files); i++) {
		krl = parse_b64(files[i]);
		ck_assert(!krl_key_revoked(krl, c.p, c.len, NULL));
		ck_assert(krl_key_revoked(krl, p, c.len + 1, &why));
		ck_assert_str_eq(why, "cannot tell (certificate not readable)");
		krl_free(krl);
	}
	krl = krl_parse((const uint8_t *)"", 0, NULL, 0);
	ck_assert_ptr_nonnull(krl);
	ck_assert(krl_key_revoked(krl, p, c.len + 1, NULL));
	krl_free(krl);
	free(p);
	free(c.p);
}
END_TEST

/* An sk-ssh-ed25519@openssh.com key blob (any 32 bytes, application). */
static struct buf
sk_ed25519_blob(const char *type)
{
	struct buf	b = { NULL, 0 };
	uint8_t		pk[32];

	memset(pk, 0x42, sizeof(pk));
	put_string(&b, type, strlen(type));
	put_string(&b, pk, sizeof(pk));
	put_string(&b, "ssh:", 4);
	return b;
}

/*
 * Explicit keys are stored as they are, as sshd compares them: a key of a
 * type pubkey_parse() refuses (DSA, a security key) or bytes that are no
 * key at all do not refuse the KRL, and can match only the same bytes.
 */
START_TEST(explicit_key_of_unread_type_kept)
{
	struct blob	 dsa = b64(DSA_B64), k1 = b64(K1_B64);
	struct buf	 sk = sk_ed25519_blob("sk-ssh-ed25519@openssh.com");
	struct buf	 k = { NULL, 0 }, sect = { NULL, 0 };
	struct krl	*krl;
	const char	*why = NULL;
	char		 err[256], desc[256];

	put_string(&sect, dsa.p, dsa.len);
	put_string(&sect, sk.p, sk.len);
	put_string(&sect, "junk", 4);
	put_string(&sect, k1.p, k1.len);
	put_header(&k, 1);
	put_u8(&k, 2);
	put_buf(&k, &sect);
	krl = parse_buf(&k, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(key_revoked(krl, K1_B64, "explicit key"));
	ck_assert(krl_key_revoked(krl, dsa.p, dsa.len, &why));
	ck_assert_str_eq(why, "explicit key");
	ck_assert(!key_revoked(krl, K2_B64, NULL));
	ck_assert(!key_revoked(krl, U1_CERT_B64, NULL));
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_msg(strstr(desc, ": 4 keys,") != NULL, "%s", desc);
	krl_free(krl);
	free(dsa.p);
	free(k1.p);
	free(sk.p);
	free(k.p);
	free(sect.p);
}
END_TEST

/*
 * sshd reads security keys in a list and hopd never accepts one: such a
 * line is kept as its bytes rather than refusing the file.  Its type
 * must still be its blob's.
 */
START_TEST(list_security_key_line_kept)
{
	struct buf	 sk = sk_ed25519_blob("sk-ssh-ed25519@openssh.com");
	struct buf	 b, line;
	struct krl	*krl;
	char		 err[256], desc[64];

	b = list_line("sk-ssh-ed25519@openssh.com", sk.p, sk.len);
	put(&b, "ssh-ed25519 ", 12);
	put(&b, K1_B64, strlen(K1_B64));
	krl = krl_parse(b.p, b.len, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(key_revoked(krl, K1_B64, "listed key"));
	ck_assert(!key_revoked(krl, K2_B64, NULL));
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_str_eq(desc, "list of 2 keys");
	krl_free(krl);

	line = list_line("sk-ecdsa-sha2-nistp256@openssh.com", sk.p, sk.len);
	ck_assert_ptr_null(krl_parse(line.p, line.len, err, sizeof(err)));
	ck_assert_msg(strstr(err, "does not match its blob") != NULL, "%s",
	    err);
	free(line.p);
	free(b.p);
	free(sk.p);
}
END_TEST

/*
 * A certificate line revokes its key whatever its CA signature: sshd's
 * reader checks it, but a bad one names the key all the same, and
 * cert_verify_ca() refuses SHA-1 signatures sshd takes there.
 */
START_TEST(list_certificate_line_not_checked_for_its_signature)
{
	struct blob	 c = b64(U2_CERT_B64);
	struct cert	 parsed;
	struct buf	 line;
	struct krl	*krl;
	char		 err[256];

	c.p[c.len - 1] ^= 1;		/* the last byte of ECDSA s */
	ck_assert_int_eq(cert_parse(c.p, c.len, &parsed, err, sizeof(err)),
	    0);
	ck_assert_int_eq(cert_verify_ca(&parsed, err, sizeof(err)), -1);
	cert_free(&parsed);
	line = list_line("ecdsa-sha2-nistp384-cert-v01@openssh.com", c.p,
	    c.len);
	krl = krl_parse(line.p, line.len, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(key_revoked(krl, U2_B64, "listed key"));
	krl_free(krl);
	free(line.p);

	/* One cert_parse() refuses refuses the file. */
	c.p = realloc(c.p, c.len + 1);
	ck_assert_ptr_nonnull(c.p);
	c.p[c.len] = 0;
	line = list_line("ecdsa-sha2-nistp384-cert-v01@openssh.com", c.p,
	    c.len + 1);
	ck_assert_ptr_null(krl_parse(line.p, line.len, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "line 1: ", 8) == 0, "%s", err);
	free(line.p);
	free(c.p);
}
END_TEST

/*
 * sshd skips an RSA key under 1024 bits in a list; pubkey_parse() refuses
 * it, and so does the file (fail closed).  Before, krl.c kept the key.
 */
START_TEST(list_rsa_key_under_1024_bits_refused)
{
	struct buf	 key = { NULL, 0 }, line;
	uint8_t		 n[127];
	char		 err[256];

	memset(n, 0x5b, sizeof(n));	/* 1015 bits, odd */
	put_string(&key, "ssh-rsa", 7);
	put_string(&key, "\x01\x00\x01", 3);
	put_string(&key, n, sizeof(n));
	line = list_line("ssh-rsa", key.p, key.len);
	ck_assert_ptr_null(krl_parse(line.p, line.len, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "line 1: ", 8) == 0 &&
	    strstr(err, "1015 bits") != NULL, "%s", err);
	free(line.p);
	free(key.p);
}
END_TEST

static const struct {
	const char	*name;
	const char	*prefix;	/* then a key's base64 */
	const char	*key;
	const char	*suffix;
} bad_lines[] = {
	{ "unknown_type", "ssh-foo ", K1_B64, "\n" },
	{ "options_not_allowed", "no-pty ssh-ed25519 ", K1_B64, "\n" },
	{ "type_only", "ssh-ed25519", "", "\n" },
	{ "type_and_blank", "ssh-ed25519 ", "", "\n" },
	{ "type_mismatch", "ssh-rsa ", K1_B64, "\n" },
	{ "cert_type_for_plain_blob",
	    "ssh-ed25519-cert-v01@openssh.com ", K1_B64, "\n" },
	{ "plain_type_for_cert_blob", "ssh-ed25519 ", U1_CERT_B64, "\n" },
	{ "curve_mismatch", "ecdsa-sha2-nistp384 ", K3_B64, "\n" },
	{ "bad_base64", "ssh-ed25519 !", K1_B64, "\n" },
	{ "unpadded_base64", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEeZM16R"
	    "h21rPuJQTdA1ZL8DJ6q9YGbM1cl4K12H8ZaI", "", "A\n" },
	/* sshd's sshkey_in_file sees "\r" as a key line: an error. */
	{ "crlf_blank_line", "\r\n", "", "" },
	{ "second_line_bad", "ssh-ed25519 ", K1_B64, "\nx y\n" },
	/* OpenSSH 10 refuses them (9.2 read them); so does pubkey_parse. */
	{ "dsa_key", "ssh-dss ", DSA_B64, "\n" },
};

START_TEST(malformed_list_refused)
{
	struct buf	 b = { NULL, 0 };
	struct krl	*krl;
	char		 err[256];

	put(&b, bad_lines[_i].prefix, strlen(bad_lines[_i].prefix));
	put(&b, bad_lines[_i].key, strlen(bad_lines[_i].key));
	put(&b, bad_lines[_i].suffix, strlen(bad_lines[_i].suffix));
	krl = krl_parse(b.p, b.len, err, sizeof(err));
	ck_assert_msg(krl == NULL, "%s accepted", bad_lines[_i].name);
	ck_assert_msg(strncmp(err, "line ", 5) == 0, "%s: %s",
	    bad_lines[_i].name, err);
	free(b.p);
}
END_TEST

/* A NUL ends a line's text, as C strings did in sshd's reader. */
START_TEST(nul_ends_line_text)
{
	struct buf	 b = { NULL, 0 };
	struct krl	*krl;
	char		 err[256];

	put(&b, "\0garbage\nssh-ed25519 ", 21);
	put(&b, K1_B64, strlen(K1_B64));
	put(&b, "\0 garbage", 9);
	krl = krl_parse(b.p, b.len, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(key_revoked(krl, K1_B64, NULL));
	krl_free(krl);
	free(b.p);
}
END_TEST

/* Offsets where a KRL could end: after its header or a section. */
static bool
krl_boundary(const uint8_t *p, size_t len, size_t at)
{
	size_t	off = 8 + 4 + 8 + 8 + 8, i, n;

	for (i = 0; i < 2; i++) {
		n = (size_t)p[off] << 24 | p[off + 1] << 16 |
		    p[off + 2] << 8 | p[off + 3];
		off += 4 + n;
	}
	while (off < len) {
		if (at == off)
			return true;
		n = (size_t)p[off + 1] << 24 | p[off + 2] << 16 |
		    p[off + 3] << 8 | p[off + 4];
		off += 5 + n;
	}
	return at == off;
}

static const char *const krl_fixtures[] = {
	KRL_FULL_B64, KRL_BIG_B64, KRL_EMPTY_B64
};

START_TEST(truncation_at_every_length_refused)
{
	struct blob	 b = b64(krl_fixtures[_i]);
	struct krl	*krl;
	char		 err[256];
	size_t		 n;

	for (n = 0; n < b.len; n++) {
		/* A fresh copy: ASan sees any read past the end. */
		uint8_t	*cut = malloc(n > 0 ? n : 1);

		ck_assert_ptr_nonnull(cut);
		memcpy(cut, b.p, n);
		krl = krl_parse(cut, n, err, sizeof(err));
		if (n == 0 || (n >= 8 && krl_boundary(b.p, b.len, n)))
			ck_assert_msg(krl != NULL, "length %zu: %s", n, err);
		else
			ck_assert_msg(krl == NULL, "length %zu accepted", n);
		krl_free(krl);
		free(cut);
	}
	free(b.p);
}
END_TEST

START_TEST(trailing_bytes_refused)
{
	struct blob	 b = b64(KRL_FULL_B64);
	struct krl	*krl;
	char		 err[256];
	uint8_t		*p;
	size_t		 extra;

	for (extra = 1; extra <= 4; extra++) {
		p = calloc(1, b.len + extra);
		ck_assert_ptr_nonnull(p);
		memcpy(p, b.p, b.len);
		p[b.len] = 2;
		krl = krl_parse(p, b.len + extra, err, sizeof(err));
		ck_assert_msg(krl == NULL, "%zu extra accepted", extra);
		free(p);
	}
	free(b.p);
}
END_TEST

/*
 * Every byte flipped: no crash, no leak; what still parses must stay a
 * KRL (the magic intact) or be refused.
 */
START_TEST(flipped_bytes_never_crash)
{
	struct blob	 b = b64(krl_fixtures[_i]);
	struct krl	*krl;
	char		 err[256], desc[256];
	size_t		 i;
	unsigned	 bit;
	uint8_t		*p = malloc(b.len);

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < b.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(p, b.p, b.len);
			p[i] ^= (uint8_t)(1u << bit);
			krl = krl_parse(p, b.len, err, sizeof(err));
			if (i < 8)
				ck_assert_msg(krl == NULL,
				    "bad magic byte %zu accepted", i);
			if (krl != NULL) {
				krl_describe(krl, desc, sizeof(desc));
				(void)key_revoked(krl, K1_B64, NULL);
				(void)cert_revoked(krl, CA_B64, 5, "x");
				krl_free(krl);
			}
		}
	}
	free(p);
	free(b.p);
}
END_TEST

START_TEST(bad_magic_and_version_refused)
{
	struct buf	 b = { NULL, 0 };
	struct krl	*krl;
	char		 err[256];

	put_header(&b, 2);
	krl = parse_buf(&b, err, sizeof(err));
	ck_assert_ptr_null(krl);
	ck_assert_msg(strstr(err, "version 2") != NULL, "%s", err);
	b.p[7] = 1;
	ck_assert_ptr_null(parse_buf(&b, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "line 1:", 7) == 0, "%s", err);
	free(b.p);
}
END_TEST

enum build {
	B_SERIAL_ZERO, B_RANGE_REVERSED, B_RANGE_FROM_ZERO, B_BITMAP_BIT_ZERO,
	B_BITMAP_WRAPS, B_BITMAP_NEGATIVE, B_BITMAP_TOO_LONG, B_SIGNATURE,
	B_UNKNOWN_SECTION, B_CRITICAL_EXTENSION, B_CRITICAL_CERT_EXTENSION,
	B_UNKNOWN_CERT_SUB, B_SHORT_SHA1, B_LONG_SHA256, B_RANGE_TRAILING,
	B_KEY_ID_NUL, B_CA_IS_CERT, B_CA_BAD_ED25519, B_CA_SHORT_RSA,
	B_CA_BAD_POINT, B_CA_DSA, B_CA_UNKNOWN_TYPE, B_SERIAL_LIST_PARTIAL,
	B_COMMENT_NUL, B_CA_TRAILING,
	B_BAD_COUNT,
	/* accepted from here on */
	B_OPTIONAL_EXTENSION = B_BAD_COUNT, B_OPTIONAL_CERT_EXTENSION,
	B_KEY_ID_TRAILING_NUL, B_BITMAP_EDGE, B_EMPTY_SECTIONS, B_DUP_CA,
	B_COUNT
};

static struct buf
build(enum build what)
{
	struct buf	 k = { NULL, 0 }, s = { NULL, 0 }, t = { NULL, 0 };
	struct blob	 kb;
	uint64_t	 v[2];
	uint8_t		 bits[2050];

	memset(bits, 0, sizeof(bits));
	switch (what) {
	case B_SERIAL_ZERO:
		v[0] = 0;
		sub_serials(&s, 0x20, v, 1);
		break;
	case B_RANGE_REVERSED:
		v[0] = 10;
		v[1] = 9;
		sub_serials(&s, 0x21, v, 2);
		break;
	case B_RANGE_FROM_ZERO:
		v[0] = 0;
		v[1] = 9;
		sub_serials(&s, 0x21, v, 2);
		break;
	case B_BITMAP_BIT_ZERO:
		put_u8(&s, 0x22);
		put_u64(&t, 0);
		put_string(&t, "\x01", 1);
		put_buf(&s, &t);
		break;
	case B_BITMAP_WRAPS:
		put_u8(&s, 0x22);
		put_u64(&t, UINT64_MAX - 6);
		put_string(&t, "\x7f\x00", 2);	/* bits 8..14 */
		put_buf(&s, &t);
		break;
	case B_BITMAP_NEGATIVE:
		put_u8(&s, 0x22);
		put_u64(&t, 1);
		put_string(&t, "\x80", 1);
		put_buf(&s, &t);
		break;
	case B_BITMAP_TOO_LONG:
		memset(bits, 1, sizeof(bits));
		put_u8(&s, 0x22);
		put_u64(&t, 1);
		put_string(&t, bits, 2049);
		put_buf(&s, &t);
		break;
	case B_SIGNATURE:
	case B_UNKNOWN_SECTION:
	case B_CRITICAL_EXTENSION:
	case B_OPTIONAL_EXTENSION:
	case B_SHORT_SHA1:
	case B_LONG_SHA256:
	case B_COMMENT_NUL:
	case B_EMPTY_SECTIONS:
		if (what == B_COMMENT_NUL) {
			put(&k, "SSHKRL\n\0\0\0\0\1", 12);
			put_u64(&k, 1);
			put_u64(&k, 1);
			put_u64(&k, 0);
			put_string(&k, NULL, 0);
			put_string(&k, "a\0b", 3);
			return k;
		}
		put_header(&k, 1);
		if (what == B_SIGNATURE) {
			kb = b64(CA_B64);
			put_u8(&k, 4);
			put_string(&k, kb.p, kb.len);
			put_string(&k, "sig", 3);
			free(kb.p);
		} else if (what == B_UNKNOWN_SECTION) {
			put_u8(&k, 6);
			put_string(&k, NULL, 0);
		} else if (what == B_SHORT_SHA1 || what == B_LONG_SHA256) {
			put_string(&t, bits, what == B_SHORT_SHA1 ? 19 : 33);
			put_u8(&k, what == B_SHORT_SHA1 ? 3 : 5);
			put_buf(&k, &t);
		} else if (what == B_EMPTY_SECTIONS) {
			/* Not 1: a CA and a reserved field are needed. */
			for (v[0] = 2; v[0] <= 5; v[0]++) {
				if (v[0] == 4)
					continue;
				put_u8(&k, (uint8_t)v[0]);
				put_string(&k, NULL, 0);
			}
		} else {
			put_string(&t, "x@example.org", 13);
			put_u8(&t, what == B_CRITICAL_EXTENSION);
			put_string(&t, "v", 1);
			put_u8(&k, 255);
			put_buf(&k, &t);
		}
		free(t.p);
		return k;
	case B_CRITICAL_CERT_EXTENSION:
	case B_OPTIONAL_CERT_EXTENSION:
		put_string(&t, "x@example.org", 13);
		put_u8(&t, what == B_CRITICAL_CERT_EXTENSION ? 2 : 0);
		put_string(&t, "", 0);
		put_u8(&s, 0x39);
		put_buf(&s, &t);
		break;
	case B_UNKNOWN_CERT_SUB:
		put_u8(&s, 0x24);
		put_string(&s, NULL, 0);
		break;
	case B_RANGE_TRAILING:
		put_u8(&s, 0x21);
		put_u64(&t, 1);
		put_u64(&t, 2);
		put_u8(&t, 0);
		put_buf(&s, &t);
		break;
	case B_KEY_ID_NUL:
	case B_KEY_ID_TRAILING_NUL:
		put_u8(&s, 0x23);
		if (what == B_KEY_ID_NUL)
			put_string(&t, "ab\0c", 4);
		else
			put_string(&t, "abc\0", 4);
		put_buf(&s, &t);
		break;
	case B_SERIAL_LIST_PARTIAL:
		put_u8(&s, 0x20);
		put_string(&s, "\0\0\0\0\0\0\0\1\0", 9);
		break;
	case B_BITMAP_EDGE:
		/* Bits 0 and 8 from UINT64_MAX - 8: its last serial. */
		put_u8(&s, 0x22);
		put_u64(&t, UINT64_MAX - 8);
		put_string(&t, "\x01\x01", 2);
		put_buf(&s, &t);
		break;
	case B_DUP_CA:
		v[0] = 11;
		sub_serials(&s, 0x20, v, 1);
		k = cert_krl(CA_B64, &s);
		free(s.p);
		s.p = NULL;
		s.len = 0;
		v[0] = 12;
		sub_serials(&s, 0x20, v, 1);
		t = cert_krl(CA_B64, &s);
		/* Append t's section (after its 45-byte header) to k. */
		put(&k, t.p + 45, t.len - 45);
		free(t.p);
		free(s.p);
		return k;
	case B_CA_IS_CERT:
	case B_CA_BAD_ED25519:
	case B_CA_SHORT_RSA:
	case B_CA_BAD_POINT:
	case B_CA_DSA:
	case B_CA_UNKNOWN_TYPE:
	default:
		break;
	}
	if (what >= B_CA_IS_CERT && what <= B_CA_UNKNOWN_TYPE) {
		struct buf	 ca = { NULL, 0 }, sect = { NULL, 0 };

		if (what == B_CA_IS_CERT) {
			kb = b64(U1_CERT_B64);
			put(&ca, kb.p, kb.len);
		} else if (what == B_CA_BAD_ED25519) {
			kb = b64(CA_B64);
			put(&ca, kb.p, kb.len);
			ca.p[18]--;		/* pk length 31 */
			ca.len--;
		} else if (what == B_CA_SHORT_RSA) {
			kb.p = NULL;
			put_string(&ca, "ssh-rsa", 7);
			put_string(&ca, "\x01\x00\x01", 3);
			memset(bits, 0x5a, 128);
			put_string(&ca, bits, 127);	/* 1015 bits */
		} else if (what == B_CA_BAD_POINT) {
			kb = b64(CA2_B64);
			put(&ca, kb.p, kb.len);
			ca.p[ca.len - 1] ^= 1;
		} else if (what == B_CA_DSA) {
			/* OpenSSH 10 refuses it (9.2 read it). */
			kb = b64(DSA_B64);
			put(&ca, kb.p, kb.len);
		} else {
			kb.p = NULL;
			put_string(&ca, "ssh-foo", 7);
		}
		free(kb.p);
		put_header(&k, 1);
		put_buf(&sect, &ca);
		put_string(&sect, NULL, 0);
		put_u8(&k, 1);
		put_buf(&k, &sect);
		free(ca.p);
		free(sect.p);
		return k;
	}
	if (what == B_CA_TRAILING) {
		struct buf	 ca = { NULL, 0 }, sect = { NULL, 0 };

		kb = b64(CA_B64);
		put(&ca, kb.p, kb.len);
		put_u8(&ca, 0);
		free(kb.p);
		put_header(&k, 1);
		put_buf(&sect, &ca);
		put_string(&sect, NULL, 0);
		put_u8(&k, 1);
		put_buf(&k, &sect);
		free(ca.p);
		free(sect.p);
		return k;
	}
	k = cert_krl(CA_B64, &s);
	free(s.p);
	free(t.p);
	return k;
}

START_TEST(malformed_krl_refused)
{
	struct buf	 k = build((enum build)_i);
	struct krl	*krl;
	char		 err[256] = "";

	krl = parse_buf(&k, err, sizeof(err));
	ck_assert_msg(krl == NULL, "case %d accepted", _i);
	ck_assert_msg(strncmp(err, "KRL offset ", 11) == 0, "case %d: %s",
	    _i, err);
	free(k.p);
}
END_TEST

START_TEST(odd_but_valid_krl_accepted)
{
	struct buf	 k = build((enum build)_i);
	struct krl	*krl;
	char		 err[256] = "";

	krl = parse_buf(&k, err, sizeof(err));
	ck_assert_msg(krl != NULL, "case %d: %s", _i, err);
	switch (_i) {
	case B_KEY_ID_TRAILING_NUL:
		ck_assert(cert_revoked(krl, CA_B64, 0, "abc"));
		ck_assert(!cert_revoked(krl, CA_B64, 0, "ab"));
		break;
	case B_BITMAP_EDGE:
		ck_assert(cert_revoked(krl, CA_B64, UINT64_MAX - 8, "x"));
		ck_assert(cert_revoked(krl, CA_B64, UINT64_MAX, "x"));
		ck_assert(!cert_revoked(krl, CA_B64, UINT64_MAX - 1, "x"));
		break;
	case B_DUP_CA:
		ck_assert(cert_revoked(krl, CA_B64, 11, "x"));
		ck_assert(cert_revoked(krl, CA_B64, 12, "x"));
		ck_assert(!cert_revoked(krl, CA_B64, 13, "x"));
		break;
	}
	krl_free(krl);
	free(k.p);
}
END_TEST

/*
 * A CA of a security key type, which sshd reads and hopd never trusts, is
 * kept as its bytes: the KRL is not refused, and those bytes alone find
 * its section.
 */
START_TEST(security_key_ca_kept_as_bytes)
{
	struct buf	 sk = sk_ed25519_blob("sk-ssh-ed25519@openssh.com");
	struct buf	 k = { NULL, 0 }, sect = { NULL, 0 };
	struct buf	 subs = { NULL, 0 };
	struct krl	*krl;
	char		 err[256], desc[256];
	static const uint64_t serial[] = { 5 };

	sub_serials(&subs, 0x20, serial, 1);
	put_buf(&sect, &sk);
	put_string(&sect, NULL, 0);
	put(&sect, subs.p, subs.len);
	put_header(&k, 1);
	put_u8(&k, 1);
	put_buf(&k, &sect);
	krl = parse_buf(&k, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(krl_cert_revoked(krl, sk.p, sk.len, 5, "x", NULL));
	ck_assert(!krl_cert_revoked(krl, sk.p, sk.len, 6, "x", NULL));
	ck_assert(!cert_revoked(krl, CA_B64, 5, "x"));
	krl_describe(krl, desc, sizeof(desc));
	ck_assert_msg(strstr(desc, "; 1 CAs: 1 serial ranges") != NULL, "%s",
	    desc);
	krl_free(krl);
	free(k.p);
	free(sect.p);
	free(subs.p);
	free(sk.p);
}
END_TEST

START_TEST(entries_over_cap_refused)
{
	struct buf	 subs = { NULL, 0 }, k, list;
	struct krl	*krl;
	char		 err[256];
	uint64_t	 i, v;
	size_t		 j;

	/* The CA counts as one entry: so KRL_ENTRIES_MAX - 1 serials. */
	list.len = (KRL_ENTRIES_MAX - 1) * 8;
	list.p = malloc(list.len + 8);
	ck_assert_ptr_nonnull(list.p);
	for (i = 1; i < KRL_ENTRIES_MAX; i++)
		for (v = i * 2, j = 0; j < 8; j++)
			list.p[(i - 1) * 8 + j] = (uint8_t)(v >> (56 - 8 * j));
	put_u8(&subs, 0x20);
	put_buf(&subs, &list);
	k = cert_krl(NULL, &subs);
	krl = parse_buf(&k, err, sizeof(err));
	ck_assert_msg(krl != NULL, "%s", err);
	ck_assert(cert_revoked(krl, CA_B64, 2 * (KRL_ENTRIES_MAX - 1), "x"));
	ck_assert(!cert_revoked(krl, CA_B64, 2 * KRL_ENTRIES_MAX - 1, "x"));
	krl_free(krl);
	free(k.p);
	free(subs.p);

	subs.p = NULL;
	subs.len = 0;
	put_u64(&list, 1);
	put_u8(&subs, 0x20);
	put_buf(&subs, &list);
	k = cert_krl(NULL, &subs);
	ck_assert_ptr_null(parse_buf(&k, err, sizeof(err)));
	ck_assert_msg(strstr(err, "entries") != NULL, "%s", err);
	free(k.p);
	free(subs.p);
	free(list.p);
}
END_TEST

Suite *
krl_suite(void)
{
	Suite	*s = suite_create("krl");
	TCase	*tc;

	tc = tcase_create("lookup");
	tcase_add_test(tc, serial_list_range_and_bitmap_revoke_under_their_ca);
	tcase_add_test(tc, same_serial_of_another_ca_not_revoked);
	tcase_add_test(tc, key_id_revoked_under_its_ca_only);
	tcase_add_test(tc, any_ca_section_revokes_for_every_ca);
	tcase_add_test(tc, serial_zero_never_looked_up);
	tcase_add_test(tc, bitmap_and_range_encodings_of_big_krl);
	tcase_add_test(tc, keys_revoked_explicitly_and_by_fingerprint);
	tcase_add_test(tc, certificate_login_checks_as_sshd);
	tcase_add_test(tc, empty_krl_revokes_nothing);
	tcase_add_test(tc, empty_file_is_empty_list);
	tcase_add_test(tc, list_of_keys_revokes_equal_keys);
	tcase_add_test(tc, plain_blob_looked_up_as_given);
	tcase_add_test(tc, unreadable_certificate_revoked_as_cannot_tell);
	tcase_add_test(tc, explicit_key_of_unread_type_kept);
	tcase_add_test(tc, list_security_key_line_kept);
	tcase_add_test(tc, list_certificate_line_not_checked_for_its_signature);
	tcase_add_test(tc, security_key_ca_kept_as_bytes);
	tcase_add_test(tc, nul_ends_line_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, malformed_list_refused, 0, NITEMS(bad_lines));
	tcase_add_loop_test(tc, truncation_at_every_length_refused, 0,
	    NITEMS(krl_fixtures));
	tcase_add_test(tc, trailing_bytes_refused);
	tcase_add_loop_test(tc, flipped_bytes_never_crash, 0,
	    NITEMS(krl_fixtures));
	tcase_add_test(tc, bad_magic_and_version_refused);
	tcase_add_test(tc, list_line_with_noncanonical_number_refused);
	tcase_add_test(tc, list_rsa_key_under_1024_bits_refused);
	tcase_add_loop_test(tc, malformed_krl_refused, 0, B_BAD_COUNT);
	tcase_add_loop_test(tc, odd_but_valid_krl_accepted, B_BAD_COUNT,
	    B_COUNT);
	tcase_add_test(tc, entries_over_cap_refused);
	suite_add_tcase(s, tc);
	return s;
}
