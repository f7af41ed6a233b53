/*
 * Unit tests of cert.c: plain keys, certificates and signatures.  The
 * fixtures were made once with ssh-keygen (OpenSSH 9.2); the expected
 * fingerprints and fields are what ssh-keygen -l and -L printed for them.
 * Signatures by user keys are made here with OpenSSL.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "cert.h"
#include "wire.h"

Suite	*cert_suite(void);

#define CA_ED \
	"AAAAC3NzaC1lZDI1NTE5AAAAIDoKttl5iAJyU/7+d+0DPLmRSieZy1N88wP7" \
	"9ejMpQ1v"
#define CA_P256 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBMIJJ9Q" \
	"ox7Ozs+YVtdN6g2wWD+9gQVKx0Gf/Ba98SnJxR6+ta1cuiKAlxg1CAubI4Tm" \
	"tlUb7Ntq9Zxwh1wk1gc="
#define CA_P384 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKQyYZBN" \
	"CPf5q3fkCAFCUF9fQwibWphVZBhUITNlaA6jvtP/vou52DEyyaPk6fRY09qt" \
	"rXMMaAU0kGSAm7d0P2twbRLL2j1DqXOZdTTDKIoWx/lGGOtP0uzYd8CkVncX" \
	"tw=="
#define CA_P521 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAFx1GKG" \
	"mUis9nVR2OALRzGBdzv3BeRdlkF+oWHsi1FZs9KS2n4JcKa/pWm3PKd44pY9" \
	"ZJoXbmNDzRQkC8dJvKMIMQGwBR4+0yOR+HowIM9R1G4rjJlP/6+u4U/lt4SR" \
	"SKLY4Zic0ul5cNQhT194Bv4tvUsD2BrsiL0LRE4Gf9xBkwZKtQ=="
#define CA_RSA \
	"AAAAB3NzaC1yc2EAAAADAQABAAABAQCQ3xYUVm4ojC5lKzH/5Aba7dASvfl2" \
	"fHPzAxh3WlKcHVRM3lJSwJffkuD0uNwq5P7MmZ5R9KfXyGWdOGYnuZPnt1iz" \
	"OkEaT/8/BpQkXvruKwJV8WLTcP22DO5YUg6ed4nqDXV9BjJFnMTkhFHbC0dZ" \
	"o5EN5x7TGt2TFOpWVgHeDszQz1/T8ntssuOxM+d9uoh3bHhTb+g0dWayXaP9" \
	"CRmabBgPLubRRAKhA1Ovot3DLYMUF5duaDG58I9I20l3kd1nf0+JL5rPI3Fh" \
	"rQR/B9dCPmjdXqLmOgS4LQHGWKkFt67pegx4tSTFAMnebs5oQFOe5ryheBKu" \
	"JwFvXqNTP2aj"
#define U_ED \
	"AAAAC3NzaC1lZDI1NTE5AAAAIGeVz1ycWiE7CGARFlPtMat4OlN5fprPdViu" \
	"0WboO6T+"
#define U_P256 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBD/NkWzk" \
	"Yhu/vd6C1iQ387yRrNXsvyWYtKxSWpj7E1Wxwb6YUpltXeCgXrJip3MmRhBy" \
	"WRHLkh7FG2WKbdmWMOE="
#define U_P384 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIsvtyjx" \
	"96SutJX97Lcc77ifdBH9gI0AeEuIXkPOJTD7nXO1j+b5qG1abIy7XsRSDlvk" \
	"Fn0N6jyYO0ykqP6NmY4Px17BmdJtkDHVLBck7KThSjhUhzWBPp7XYvHetQlL" \
	"1A=="
#define U_P521 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHUD4SY" \
	"aA1xoHmjiw6CCD5fOQRhd+taBj4i6mEOaZxBufmQ7GbjDFsFcu4jvQnzHE4I" \
	"IJESEAi5RdKckSNjeXrsgQBHmcjTSEnUq2GyPqlTXwR/Yy6HRTt62lKi9tPE" \
	"jRHG/tJnGc7U1QKd0AuECk070SovNm53B1HlaDSDnnnGMeiaAA=="
#define U_RSA \
	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHVJTXtxqDvEylACT0xnx20ox4nabh" \
	"rvoCT9WLjI17NrkiOK3nXI8zkRtOUmc4J52vMEUUz1um3TInK3zC7iUgF5bL" \
	"xzTfrfakyFTwqwPWogRTyfTvZPBY4hxKhv2lvpwiCRCIDLfzBt7jaVu/uyFa" \
	"kIxIudJz6B4Q+dzQqmQAfQ=="
#define CERT1 \
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAINboTsWI" \
	"1hGMu885RAp6tPUBvwUwcsq9+2ExrXQKf1LJAAAAIGeVz1ycWiE7CGARFlPt" \
	"Mat4OlN5fprPdViu0WboO6T+AAAAAAAAACoAAAABAAAACmFsaWNlQGNvcnAA" \
	"AAAQAAAABWFsaWNlAAAAA2JvYgAAAABlkgCAAAAAAHpDK4AAAABVAAAADWZv" \
	"cmNlLWNvbW1hbmQAAAAQAAAADC9iaW4vZWNobyBoaQAAAA5zb3VyY2UtYWRk" \
	"cmVzcwAAABoAAAAWMTAuMC4wLjAvOCwxOTIuMTY4LjEuMQAAAIIAAAAVcGVy" \
	"bWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2Fy" \
	"ZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVy" \
	"bWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAAL" \
	"c3NoLWVkMjU1MTkAAAAgOgq22XmIAnJT/v537QM8uZFKJ5nLU3zzA/v16Myl" \
	"DW8AAABTAAAAC3NzaC1lZDI1NTE5AAAAQOYNhMhZtbHAotDiE1OFR/HooP/V" \
	"cqI8GP5JKHY+uuVxfQD6lhuIJ1dviy6GGjXNzJzf+2eY772luGq8LH866AA="
#define CERT2 \
	"AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20A" \
	"AAAg3U4UEKSAjYTnf50FP7TiMCp932+9JoJTLwosZt17fg0AAAAIbmlzdHAy" \
	"NTYAAABBBD/NkWzkYhu/vd6C1iQ387yRrNXsvyWYtKxSWpj7E1Wxwb6YUplt" \
	"XeCgXrJip3MmRhByWRHLkh7FG2WKbdmWMOEAAAAAAAAAAQAAAAEAAAAHcDI1" \
	"Ni1pZAAAAAkAAAAFYWxpY2UAAAAAAAAAAP//////////AAAAAAAAAIIAAAAV" \
	"cGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9y" \
	"d2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAK" \
	"cGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAAGgA" \
	"AAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAEEEEwgkn1Cj" \
	"Hs7Oz5hW103qDbBYP72BBUrHQZ/8Fr3xKcnFHr61rVy6IoCXGDUIC5sjhOa2" \
	"VRvs22r1nHCHXCTWBwAAAGQAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAEkA" \
	"AAAhAPkRJlwjZZTZ7k3UvEm940T+qrz6Ok9Gx1huQWVfoPqIAAAAIFRoNPYG" \
	"m2Oc3FsAgXa/uPnAEkv7umxUdEQK7fv957x5"
#define CERT3 \
	"AAAAKGVjZHNhLXNoYTItbmlzdHAzODQtY2VydC12MDFAb3BlbnNzaC5jb20A" \
	"AAAgfRDbzKSFfcqN/g9rrz57ae56oY0jtjdOb+EdQi1qhVsAAAAIbmlzdHAz" \
	"ODQAAABhBIsvtyjx96SutJX97Lcc77ifdBH9gI0AeEuIXkPOJTD7nXO1j+b5" \
	"qG1abIy7XsRSDlvkFn0N6jyYO0ykqP6NmY4Px17BmdJtkDHVLBck7KThSjhU" \
	"hzWBPp7XYvHetQlL1AAAAAAAAAADAAAAAQAAAAdwMzg0LWlkAAAACQAAAAVj" \
	"YXJvbAAAAAAAAAAA//////////8AAAAeAAAAD2Zvb0BleGFtcGxlLmNvbQAA" \
	"AAcAAAADYmFyAAAAZAAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAA" \
	"F3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAA" \
	"AAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAiAAAABNlY2RzYS1zaGEy" \
	"LW5pc3RwMzg0AAAACG5pc3RwMzg0AAAAYQSkMmGQTQj3+at35AgBQlBfX0MI" \
	"m1qYVWQYVCEzZWgOo77T/76LudgxMsmj5On0WNPara1zDGgFNJBkgJu3dD9r" \
	"cG0Sy9o9Q6lzmXU0wyiKFsf5RhjrT9Ls2HfApFZ3F7cAAACDAAAAE2VjZHNh" \
	"LXNoYTItbmlzdHAzODQAAABoAAAAMEZ6FUKioAVYY5mcC5yiLb5+xefrXYTg" \
	"RZZsQawOpzhXPCxtdu8/vLCOGyWejI6e3AAAADBNUAyV2KCk1JErRPy8EuXM" \
	"6ArMJpZMHXfwbVXDu7XQxqxXqSNP8xLY5tzihHVxX1k="
#define CERT4 \
	"AAAAKGVjZHNhLXNoYTItbmlzdHA1MjEtY2VydC12MDFAb3BlbnNzaC5jb20A" \
	"AAAgJT6yJXC6UN7UwazMFn7R+KPfhsRrkY0M8euzCnvd1LUAAAAIbmlzdHA1" \
	"MjEAAACFBAHUD4SYaA1xoHmjiw6CCD5fOQRhd+taBj4i6mEOaZxBufmQ7Gbj" \
	"DFsFcu4jvQnzHE4IIJESEAi5RdKckSNjeXrsgQBHmcjTSEnUq2GyPqlTXwR/" \
	"Yy6HRTt62lKi9tPEjRHG/tJnGc7U1QKd0AuECk070SovNm53B1HlaDSDnnnG" \
	"MeiaAP//////////AAAAAQAAAAdwNTIxLWlkAAAACAAAAARkYXZlAAAAAAAA" \
	"AAD//////////wAAAAAAAAA/AAAAEmN1c3RvbUBleGFtcGxlLmNvbQAAAAcA" \
	"AAADdmFsAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAAAAAAAKwA" \
	"AAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQAAAIUEAXHUYoaZ" \
	"SKz2dVHY4AtHMYF3O/cF5F2WQX6hYeyLUVmz0pLafglwpr+labc8p3jilj1k" \
	"mhduY0PNFCQLx0m8owgxAbAFHj7TI5H4ejAgz1HUbiuMmU//r67hT+W3hJFI" \
	"otjhmJzS6Xlw1CFPX3gG/i29SwPYGuyIvQtETgZ/3EGTBkq1AAAApgAAABNl" \
	"Y2RzYS1zaGEyLW5pc3RwNTIxAAAAiwAAAEIBv6+Xa8ksBq/RVsbqANhBQ24I" \
	"llTfqE59Gtk048cdjle3Fm/sXHqOtRI6aa3D7wjz47bgPD+pi7KM/fGWA147" \
	"/JkAAABBPgA7xNsQePnK2MMk89QDpZZUHMYOyQbGRtEzv8JdY5N7eetgcKsl" \
	"iK0/DogekvxtxUwGLAopqxuV0yvcqNdms5s="
#define CERT5 \
	"AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgBAjHsjRUFXxm" \
	"ljCyNN1WYj4D5ekKFOYfWcvbWyA9uosAAAADAQABAAAAgQDHVJTXtxqDvEyl" \
	"ACT0xnx20ox4nabhrvoCT9WLjI17NrkiOK3nXI8zkRtOUmc4J52vMEUUz1um" \
	"3TInK3zC7iUgF5bLxzTfrfakyFTwqwPWogRTyfTvZPBY4hxKhv2lvpwiCRCI" \
	"DLfzBt7jaVu/uyFakIxIudJz6B4Q+dzQqmQAfQAAAAAAAAAFAAAAAQAAAAZy" \
	"c2E1MTIAAAAIAAAABGVyaW4AAAAAAAAAAP//////////AAAAAAAAAIIAAAAV" \
	"cGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9y" \
	"d2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAK" \
	"cGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAARcA" \
	"AAAHc3NoLXJzYQAAAAMBAAEAAAEBAJDfFhRWbiiMLmUrMf/kBtrt0BK9+XZ8" \
	"c/MDGHdaUpwdVEzeUlLAl9+S4PS43Crk/syZnlH0p9fIZZ04Zie5k+e3WLM6" \
	"QRpP/z8GlCRe+u4rAlXxYtNw/bYM7lhSDp53ieoNdX0GMkWcxOSEUdsLR1mj" \
	"kQ3nHtMa3ZMU6lZWAd4OzNDPX9Pye2yy47Ez5326iHdseFNv6DR1ZrJdo/0J" \
	"GZpsGA8u5tFEAqEDU6+i3cMtgxQXl25oMbnwj0jbSXeR3Wd/T4kvms8jcWGt" \
	"BH8H10I+aN1eouY6BLgtAcZYqQW3rul6DHi1JMUAyd5uzmhAU57mvKF4Eq4n" \
	"AW9eo1M/ZqMAAAEUAAAADHJzYS1zaGEyLTUxMgAAAQB2M34ijw/EvVuZitrd" \
	"lsTs7kUVV0mqQkfQmOu0x+rRayhoNszmeXkBztUAl3mSMfU0slhqFNR56UBY" \
	"zoDRVz4cnGK0A0NeNuGE+/vw4KggzjbqdDqkWG3e0SZtCFbHANML+T6ejkmt" \
	"tfVMdB/m99PF3D4hLHDFhSYzPhOgS1xHBIGSDb8UTs26zpg46hHKQ9nzhudu" \
	"crOhzz8uNo2HsyVTQLmBEunQ2SJ/ZXzTP31yIiCPW/qZm2cFzNA4KbWLpvLv" \
	"MvPqqHiAE6e5srh9BgYWhqW/OC43rFvwA/zw6cJkm0eJC184SjO1qRVszyr1" \
	"hD0TjLNv/Rlz8uXVREjL1M6m"
#define CERT6 \
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIC1rzGWG" \
	"cOT8FPmlzm6FB9CJIYdqofLbxs2PJRoTYqYlAAAAIGeVz1ycWiE7CGARFlPt" \
	"Mat4OlN5fprPdViu0WboO6T+AAAAAAAAAAYAAAABAAAABnJzYTI1NgAAAAkA" \
	"AAAFZnJhbmsAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgx" \
	"MS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAA" \
	"AAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0" \
	"eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAARcAAAAHc3NoLXJz" \
	"YQAAAAMBAAEAAAEBAJDfFhRWbiiMLmUrMf/kBtrt0BK9+XZ8c/MDGHdaUpwd" \
	"VEzeUlLAl9+S4PS43Crk/syZnlH0p9fIZZ04Zie5k+e3WLM6QRpP/z8GlCRe" \
	"+u4rAlXxYtNw/bYM7lhSDp53ieoNdX0GMkWcxOSEUdsLR1mjkQ3nHtMa3ZMU" \
	"6lZWAd4OzNDPX9Pye2yy47Ez5326iHdseFNv6DR1ZrJdo/0JGZpsGA8u5tFE" \
	"AqEDU6+i3cMtgxQXl25oMbnwj0jbSXeR3Wd/T4kvms8jcWGtBH8H10I+aN1e" \
	"ouY6BLgtAcZYqQW3rul6DHi1JMUAyd5uzmhAU57mvKF4Eq4nAW9eo1M/ZqMA" \
	"AAEUAAAADHJzYS1zaGEyLTI1NgAAAQAYcO/pcyucfQHiex7PyIdrC8K/z5BI" \
	"xI7pssTJb2PzOMGovMu1jN2MFmReFdoFzQDn78FCXlPDJSvYNU8V0C54phXc" \
	"pBcWTQcqAVmMc1kqAGam27MqzDfKSPu9LSvHDJZCX49f63EWEt00GcS/Altc" \
	"PfVWAgFK+oU2MWSqgJ52mc8gskmupcCpJcoy9e7GaqioIbHo83hEarb91eF8" \
	"KoDbOBsxzGDGK7zRjf2vkbytoZYnblRZ3xaJ9K9FdM99ycw8NtJS/+q+Vpsp" \
	"pziZ5YBOSbDtzpZQzSBgDjELfwig1wjUXdqFe5KBYgKGdudQicbmf6s/Lu1w" \
	"UC2uKn1Dpa0Z"
#define CERT7 \
	"AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20A" \
	"AAAgTu2KybLlgM8RlwJS0gTElRouUxTWs/T1GGBgfOtVpHYAAAAIbmlzdHAy" \
	"NTYAAABBBD/NkWzkYhu/vd6C1iQ387yRrNXsvyWYtKxSWpj7E1Wxwb6YUplt" \
	"XeCgXrJip3MmRhByWRHLkh7FG2WKbdmWMOEAAAAAAAAABwAAAAEAAAAEc2hh" \
	"MQAAAAgAAAAEZ2luYQAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJt" \
	"aXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJk" \
	"aW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJt" \
	"aXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAABFwAAAAdz" \
	"c2gtcnNhAAAAAwEAAQAAAQEAkN8WFFZuKIwuZSsx/+QG2u3QEr35dnxz8wMY" \
	"d1pSnB1UTN5SUsCX35Lg9LjcKuT+zJmeUfSn18hlnThmJ7mT57dYszpBGk//" \
	"PwaUJF767isCVfFi03D9tgzuWFIOnneJ6g11fQYyRZzE5IRR2wtHWaORDece" \
	"0xrdkxTqVlYB3g7M0M9f0/J7bLLjsTPnfbqId2x4U2/oNHVmsl2j/QkZmmwY" \
	"Dy7m0UQCoQNTr6Ldwy2DFBeXbmgxufCPSNtJd5HdZ39PiS+azyNxYa0EfwfX" \
	"Qj5o3V6i5joEuC0BxlipBbeu6XoMeLUkxQDJ3m7OaEBTnua8oXgSricBb16j" \
	"Uz9mowAAAQ8AAAAHc3NoLXJzYQAAAQBGeeIoFJtAucUhX4kIG1VRNz6riIJn" \
	"S3kDAlIgYX5JJs1tKqmtbOU34pfznm2ES5O8gC7enP5TVwtIB3IBXMOlGvqA" \
	"OGPILVGD9ixJTwguYN6WbcS/V8p32zkujzPClYa3EAF8P/yliDHnbIEuec7Q" \
	"v5cquen5S3fXEfsyUPMsJ0laAKAVfD9Lp/3kAgNeV5pocQDuLtoRmG66SymX" \
	"0YX2RJsexggBFhwlgBP0/eiBf+8Z0d98L0+LYvmpYzhbERLl97aTnLnKjqcQ" \
	"yko7SBnBLJ5xZAwJzj+9NuYau/4ZAKK5xM8FGcQQHn4rK33kFIlEuxV7zeue" \
	"BB5F/oZotJtL"
#define CERT8 \
	"AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIJpdmsh2" \
	"iy7DbNI1N0Qu4/Dl4pYvipfF0rUpaiMupTy6AAAAIGeVz1ycWiE7CGARFlPt" \
	"Mat4OlN5fprPdViu0WboO6T+AAAAAAAAAAgAAAACAAAABWhvc3QxAAAAIAAA" \
	"ABBob3N0LmV4YW1wbGUuY29tAAAACDEwLjEuMi4zAAAAAGd0hYAAAAAAaVW5" \
	"AAAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgOgq22XmIAnJT" \
	"/v537QM8uZFKJ5nLU3zzA/v16MylDW8AAABTAAAAC3NzaC1lZDI1NTE5AAAA" \
	"QN4S8ztZmGdZ5XOS4Z6s0Waan8u7B1wJv9wlLUxSsszEY+XifK2y/l4id5EH" \
	"RULVYTvT5Eckxb1KZF9GzOK6UQ8="
#define CERT9 \
	"AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgtv0uhY+jQSTT" \
	"XO+0WP6/GxzBGuHpXggAwBdyACQ/eIQAAAADAQABAAAAgQDHVJTXtxqDvEyl" \
	"ACT0xnx20ox4nabhrvoCT9WLjI17NrkiOK3nXI8zkRtOUmc4J52vMEUUz1um" \
	"3TInK3zC7iUgF5bLxzTfrfakyFTwqwPWogRTyfTvZPBY4hxKhv2lvpwiCRCI" \
	"DLfzBt7jaVu/uyFakIxIudJz6B4Q+dzQqmQAfQAAAAAAAAAJAAAAAQAAAAVj" \
	"cm9zcwAAAAkAAAAFYWxpY2UAAAAAAAAAAP//////////AAAAAAAAAIIAAAAV" \
	"cGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9y" \
	"d2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAK" \
	"cGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMA" \
	"AAALc3NoLWVkMjU1MTkAAAAgOgq22XmIAnJT/v537QM8uZFKJ5nLU3zzA/v1" \
	"6MylDW8AAABTAAAAC3NzaC1lZDI1NTE5AAAAQPCHigG2HWz+LSqsUg9+5c+j" \
	"1oBkIje/VTLKXZTSm9DK/hmbFqTAyWprvUU7h19GKmpDO5W24XhVBd1bEzTm" \
	"XQQ="

#define FP_CA_ED	"SHA256:pxyArQuDbH0Sx7PutrIp9hDYBTZn/JIZRrqkYQQc7Mc"
#define FP_CA_P256	"SHA256:YX/kwB4mqOVAhL0dtKpj7lrerpVcnGL+gWiSk+nBC1E"
#define FP_CA_P384	"SHA256:d/RJ8TWnfehp5yUC8Qu9EPZXMAIITeNBxDJVFDTrcGU"
#define FP_CA_P521	"SHA256:2sVOXy+kL3IdBzHXH2Slr//EhlXQKmsRU78TXobpNNc"
#define FP_CA_RSA	"SHA256:76VmnlT4mY4iJ3H16FnDcqYRAHbVFbdoirhbG+Dxtmk"
#define FP_U_ED		"SHA256:cBL1ichW553C4ZoG42jWiYmwLNRS/T8dpQWXbC+1+v4"
#define FP_U_P256	"SHA256:v6d9EDnbZ7k+txz/nDJyy6bgLi/TEmWle9+C7LOfkE8"
#define FP_U_P384	"SHA256:xDgwmFceIGRZm5mFAmBEKlXvDfmteHkUGNh56nWcu0g"
#define FP_U_P521	"SHA256:jUWqo8AI4ssR3unmJwMl0B6yQ9j8F6J9dxt8PIt1HsI"
#define FP_U_RSA	"SHA256:tjbWb4sDfLBluLu+6H8BAyW2JetruiDdWRHaY9lJiNE"

static const struct {
	const char		*name;
	const char		*b64;
	enum pubkey_type	 type;
	const char		*fp;
} plain_keys[] = {
	{ "ca_ed25519", CA_ED, PUBKEY_ED25519, FP_CA_ED },
	{ "ca_p256", CA_P256, PUBKEY_ECDSA_P256, FP_CA_P256 },
	{ "ca_p384", CA_P384, PUBKEY_ECDSA_P384, FP_CA_P384 },
	{ "ca_p521", CA_P521, PUBKEY_ECDSA_P521, FP_CA_P521 },
	{ "ca_rsa2048", CA_RSA, PUBKEY_RSA, FP_CA_RSA },
	{ "user_ed25519", U_ED, PUBKEY_ED25519, FP_U_ED },
	{ "user_p256", U_P256, PUBKEY_ECDSA_P256, FP_U_P256 },
	{ "user_p384", U_P384, PUBKEY_ECDSA_P384, FP_U_P384 },
	{ "user_p521", U_P521, PUBKEY_ECDSA_P521, FP_U_P521 },
	{ "user_rsa1024", U_RSA, PUBKEY_RSA, FP_U_RSA },
};
#define NPLAIN	(sizeof(plain_keys) / sizeof(plain_keys[0]))

#define T_2024	1704067200ULL	/* 2024-01-01T00:00:00Z */
#define T_2025	1735689600ULL
#define T_2026	1767225600ULL
#define T_2035	2051222400ULL

/* What ssh-keygen -L printed for each certificate. */
static const struct cert_case {
	const char		*name;
	const char		*b64;
	int			 nkey;		/* key fields after the nonce */
	enum pubkey_type	 key_type;
	const char		*key_fp;
	enum pubkey_type	 ca_type;
	const char		*ca_fp;
	const char		*sig_alg;
	uint64_t		 serial;
	uint32_t		 cert_type;
	const char		*key_id;
	const char		*principals;	/* comma separated */
	uint64_t		 valid_after, valid_before;
	const char		*force_command;
	const char		*source_address;
	const char		*unknown_critical;
	bool			 port_forwarding;
	bool			 ca_verifies;
} certs[] = {
	{ "ed25519_by_ed25519_with_options", CERT1, 1, PUBKEY_ED25519,
	    FP_U_ED, PUBKEY_ED25519, FP_CA_ED, "ssh-ed25519", 42,
	    CERT_TYPE_USER, "alice@corp", "alice,bob", T_2024, T_2035,
	    "/bin/echo hi", "10.0.0.0/8,192.168.1.1", NULL, true, true },
	{ "p256_by_p256", CERT2, 2, PUBKEY_ECDSA_P256, FP_U_P256,
	    PUBKEY_ECDSA_P256, FP_CA_P256, "ecdsa-sha2-nistp256", 1,
	    CERT_TYPE_USER, "p256-id", "alice", 0, CERT_FOREVER, NULL, NULL,
	    NULL, true, true },
	{ "p384_by_p384_unknown_critical", CERT3, 2, PUBKEY_ECDSA_P384,
	    FP_U_P384, PUBKEY_ECDSA_P384, FP_CA_P384, "ecdsa-sha2-nistp384",
	    3, CERT_TYPE_USER, "p384-id", "carol", 0, CERT_FOREVER, NULL,
	    NULL, "foo@example.com", false, true },
	{ "p521_by_p521_max_serial", CERT4, 2, PUBKEY_ECDSA_P521, FP_U_P521,
	    PUBKEY_ECDSA_P521, FP_CA_P521, "ecdsa-sha2-nistp521", UINT64_MAX,
	    CERT_TYPE_USER, "p521-id", "dave", 0, CERT_FOREVER, NULL, NULL,
	    NULL, true, true },
	{ "rsa_by_rsa_sha512", CERT5, 2, PUBKEY_RSA, FP_U_RSA, PUBKEY_RSA,
	    FP_CA_RSA, "rsa-sha2-512", 5, CERT_TYPE_USER, "rsa512", "erin", 0,
	    CERT_FOREVER, NULL, NULL, NULL, true, true },
	{ "ed25519_by_rsa_sha256", CERT6, 1, PUBKEY_ED25519, FP_U_ED,
	    PUBKEY_RSA, FP_CA_RSA, "rsa-sha2-256", 6, CERT_TYPE_USER,
	    "rsa256", "frank", 0, CERT_FOREVER, NULL, NULL, NULL, true,
	    true },
	{ "p256_by_rsa_sha1", CERT7, 2, PUBKEY_ECDSA_P256, FP_U_P256,
	    PUBKEY_RSA, FP_CA_RSA, "ssh-rsa", 7, CERT_TYPE_USER, "sha1",
	    "gina", 0, CERT_FOREVER, NULL, NULL, NULL, true, false },
	{ "ed25519_host_cert", CERT8, 1, PUBKEY_ED25519, FP_U_ED,
	    PUBKEY_ED25519, FP_CA_ED, "ssh-ed25519", 8, CERT_TYPE_HOST,
	    "host1", "host.example.com,10.1.2.3", T_2025, T_2026, NULL, NULL,
	    NULL, false, true },
	{ "rsa_by_ed25519", CERT9, 2, PUBKEY_RSA, FP_U_RSA, PUBKEY_ED25519,
	    FP_CA_ED, "ssh-ed25519", 9, CERT_TYPE_USER, "cross", "alice", 0,
	    CERT_FOREVER, NULL, NULL, NULL, true, true },
};
#define NCERTS	(sizeof(certs) / sizeof(certs[0]))

/* Field numbers after the key fields: add a certificate's nkey. */
enum {
	K_SERIAL = 2, K_TYPE, K_KEY_ID, K_PRINCIPALS, K_VALID_AFTER,
	K_VALID_BEFORE, K_CRITICAL, K_EXTENSIONS, K_RESERVED, K_CA, K_SIG,
	K_END
};

struct buf {
	uint8_t	*p;
	size_t	 len;
};

static uint8_t *
decode(const char *b64, size_t *len)
{
	uint8_t	*p = wire_b64_decode(b64, strlen(b64), len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n + 1);
	ck_assert_ptr_nonnull(b->p);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	uint8_t	be[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_put(b, be, 4);
}

static void
buf_string(struct buf *b, const void *p, size_t n)
{
	buf_u32(b, (uint32_t)n);
	buf_put(b, p, n);
}

static void
buf_cstring(struct buf *b, const char *s)
{
	buf_string(b, s, strlen(s));
}

/* An mpint of the big-endian magnitude p (leading zeros dropped). */
static void
buf_mpint(struct buf *b, const uint8_t *p, size_t n)
{
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n > 0 && (p[0] & 0x80) != 0) {
		buf_u32(b, (uint32_t)n + 1);
		buf_put(b, "", 1);
		buf_put(b, p, n);
	} else
		buf_string(b, p, n);
}

/* Offsets of the fields of a certificate blob, and off[K_END + nkey]. */
static void
cert_fields(const uint8_t *blob, size_t len, int nkey, size_t *off)
{
	struct wire	 w;
	const uint8_t	*p;
	size_t		 n;
	uint64_t	 v;
	int		 i, k;

	wire_init(&w, blob, len);
	for (i = 0; i < K_END + nkey; i++) {
		off[i] = len - w.len;
		k = i - nkey;
		if (k == K_SERIAL || k == K_VALID_AFTER || k == K_VALID_BEFORE)
			ck_assert_int_eq(wire_u64(&w, &v), 0);
		else if (k == K_TYPE)
			ck_assert_int_eq(wire_u32(&w, (uint32_t *)&n), 0);
		else
			ck_assert_int_eq(wire_string(&w, &p, &n), 0);
	}
	off[K_END + nkey] = len - w.len;
	ck_assert(wire_done(&w));
}

/*
 * The certificate with field nkey + k replaced: by the string of content
 * for a string field, by content itself for a number.
 */
static struct buf
cert_replace(const struct cert_case *cc, int k, const void *content,
    size_t clen)
{
	struct buf	 b = { NULL, 0 };
	uint8_t		*blob;
	size_t		 len, off[K_END + 3];
	int		 i = cc->nkey + k;

	blob = decode(cc->b64, &len);
	cert_fields(blob, len, cc->nkey, off);
	buf_put(&b, blob, off[i]);
	if (k == K_SERIAL || k == K_TYPE || k == K_VALID_AFTER ||
	    k == K_VALID_BEFORE)
		buf_put(&b, content, clen);
	else
		buf_string(&b, content, clen);
	buf_put(&b, blob + off[i + 1], len - off[i + 1]);
	free(blob);
	return b;
}

/* The payload of string field nkey + k of a certificate, copied. */
static struct buf
cert_field(const struct cert_case *cc, int k)
{
	struct buf	 b = { NULL, 0 };
	uint8_t		*blob;
	size_t		 len, off[K_END + 3];
	int		 i = cc->nkey + k;

	blob = decode(cc->b64, &len);
	cert_fields(blob, len, cc->nkey, off);
	buf_put(&b, blob + off[i] + 4, off[i + 1] - off[i] - 4);
	free(blob);
	return b;
}

static const struct cert_case *
cert_case(const char *name)
{
	size_t	i;

	for (i = 0; i < NCERTS; i++)
		if (strcmp(certs[i].name, name) == 0)
			return &certs[i];
	ck_abort_msg("no fixture %s", name);
	return NULL;
}

/* cert_parse() of a buffer of exactly len bytes, so ASan sees overreads. */
static int
parse_exact(const uint8_t *p, size_t len, struct cert *c, char *err,
    size_t errlen)
{
	uint8_t	*copy = malloc(len > 0 ? len : 1);
	int	 rc;

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = cert_parse(copy, len, c, err, errlen);
	free(copy);
	return rc;
}

/* Asserts that cert_parse() refuses b, with err containing why. */
static void
assert_refused(struct buf *b, const char *why)
{
	struct cert	c;
	char		err[256];

	ck_assert_int_eq(parse_exact(b->p, b->len, &c, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, why) != NULL, "error \"%s\", want \"%s\"",
	    err, why);
	ck_assert_ptr_null(c.blob);
	free(b->p);
	b->p = NULL;
}

static void
parse_ok(struct buf *b, struct cert *c)
{
	char	err[256] = "";

	ck_assert_msg(parse_exact(b->p, b->len, c, err, sizeof(err)) == 0,
	    "refused: %s", err);
	free(b->p);
	b->p = NULL;
}

/* A signature blob: string alg, string sig. */
static struct buf
sig_blob(const char *alg, const void *sig, size_t siglen)
{
	struct buf	b = { NULL, 0 };

	buf_cstring(&b, alg);
	buf_string(&b, sig, siglen);
	return b;
}

/* Splits a signature blob of a fixture into its algorithm and payload. */
static void
sig_split(const struct buf *sig, char *alg, size_t alglen, struct buf *s)
{
	struct wire	 w;
	const uint8_t	*a, *p;
	size_t		 alen, plen;

	wire_init(&w, sig->p, sig->len);
	ck_assert_int_eq(wire_string(&w, &a, &alen), 0);
	ck_assert_int_eq(wire_string(&w, &p, &plen), 0);
	ck_assert(wire_done(&w));
	ck_assert_uint_lt(alen, alglen);
	memcpy(alg, a, alen);
	alg[alen] = '\0';
	s->p = NULL;
	s->len = 0;
	buf_put(s, p, plen);
}

START_TEST(plain_keys_parse_with_ssh_keygen_fingerprints)
{
	struct pubkey	 k;
	uint8_t		*blob;
	size_t		 len;
	char		 err[128] = "";

	blob = decode(plain_keys[_i].b64, &len);
	ck_assert_msg(pubkey_parse(blob, len, &k, err, sizeof(err)) == 0,
	    "%s: %s", plain_keys[_i].name, err);
	ck_assert_int_eq(k.type, plain_keys[_i].type);
	ck_assert_str_eq(k.fp, plain_keys[_i].fp);
	ck_assert_ptr_nonnull(k.pkey);
	ck_assert_uint_eq(k.blob_len, len);
	ck_assert_mem_eq(k.blob, blob, len);
	pubkey_free(&k);
	ck_assert_ptr_null(k.blob);
	ck_assert_ptr_null(k.pkey);
	free(blob);
}
END_TEST

START_TEST(plain_key_truncated_at_every_length_refused)
{
	struct pubkey	 k;
	uint8_t		*blob, *copy;
	size_t		 len, n;

	blob = decode(plain_keys[_i].b64, &len);
	for (n = 0; n < len; n++) {
		copy = malloc(n > 0 ? n : 1);
		memcpy(copy, blob, n);
		ck_assert_msg(pubkey_parse(copy, n, &k, NULL, 0) == -1,
		    "%s accepted at %zu bytes", plain_keys[_i].name, n);
		ck_assert_ptr_null(k.pkey);
		free(copy);
	}
	free(blob);
}
END_TEST

START_TEST(plain_key_trailing_byte_refused)
{
	struct pubkey	 k;
	struct buf	 b = { NULL, 0 };
	uint8_t		*blob;
	size_t		 len;
	char		 err[128];

	blob = decode(plain_keys[_i].b64, &len);
	buf_put(&b, blob, len);
	buf_put(&b, "", 1);
	ck_assert_int_eq(pubkey_parse(b.p, b.len, &k, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "trailing bytes after the key");
	free(b.p);
	free(blob);
}
END_TEST

/* A plain key blob of the given name and string fields. */
static struct buf
key_blob(const char *name, const void *f1, size_t l1, const void *f2,
    size_t l2)
{
	struct buf	b = { NULL, 0 };

	buf_cstring(&b, name);
	buf_string(&b, f1, l1);
	if (f2 != NULL)
		buf_string(&b, f2, l2);
	return b;
}

static void
assert_key_refused(struct buf *b, const char *why)
{
	struct pubkey	k;
	char		err[128];

	ck_assert_int_eq(pubkey_parse(b->p, b->len, &k, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, why) != NULL, "error \"%s\", want \"%s\"",
	    err, why);
	ck_assert_ptr_null(k.blob);
	free(b->p);
	b->p = NULL;
}

START_TEST(unsupported_key_types_refused)
{
	struct buf	b;
	uint8_t		z[32] = { 0 };

	b = key_blob("ssh-dss", z, 20, z, 20);
	assert_key_refused(&b, "DSA keys are not supported");
	b = key_blob("sk-ssh-ed25519@openssh.com", z, 32, "ssh:", 4);
	assert_key_refused(&b, "security key type sk-ssh-ed25519@openssh.com");
	b = key_blob("sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 8, z,
	    32);
	assert_key_refused(&b, "security key type");
	b = key_blob("ssh-ed448", z, 32, NULL, 0);
	assert_key_refused(&b, "unsupported key type \"ssh-ed448\"");
	b = key_blob("ssh-\001\n", z, 32, NULL, 0);
	assert_key_refused(&b, "unsupported key type \"ssh-??\"");
	b = key_blob("ssh-ed25519-cert-v01@openssh.com", z, 32, z, 32);
	assert_key_refused(&b, "a certificate, not a plain key");
	b = key_blob("SSH-ED25519", z, 32, NULL, 0);
	assert_key_refused(&b, "unsupported key type");
}
END_TEST

START_TEST(certificate_blob_is_not_a_plain_key)
{
	struct pubkey	 k;
	uint8_t		*blob;
	size_t		 len;
	char		 err[128];

	blob = decode(CERT1, &len);
	ck_assert_int_eq(pubkey_parse(blob, len, &k, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "a certificate, not a plain key");
	free(blob);
}
END_TEST

START_TEST(ed25519_key_of_wrong_length_refused)
{
	struct buf	b;
	uint8_t		z[33] = { 0 };

	b = key_blob("ssh-ed25519", z, 31, NULL, 0);
	assert_key_refused(&b, "Ed25519 key of 31 bytes, not 32");
	b = key_blob("ssh-ed25519", z, 33, NULL, 0);
	assert_key_refused(&b, "not 32");
}
END_TEST

/*
 * The third field of a fixture key blob, copied: the point of an ECDSA
 * key (after type and curve), the modulus of an RSA key (after type and e).
 */
static struct buf
third_field(const char *b64)
{
	struct buf	 q = { NULL, 0 };
	struct wire	 w;
	const uint8_t	*p;
	uint8_t		*blob;
	size_t		 len, n;

	blob = decode(b64, &len);
	wire_init(&w, blob, len);
	(void)wire_string(&w, &p, &n);
	(void)wire_string(&w, &p, &n);
	ck_assert_int_eq(wire_string(&w, &p, &n), 0);
	buf_put(&q, p, n);
	free(blob);
	return q;
}

START_TEST(ecdsa_curve_name_must_match_type)
{
	struct buf	b, q = third_field(U_P256);

	b = key_blob("ecdsa-sha2-nistp256", "nistp384", 8, q.p, q.len);
	assert_key_refused(&b, "curve \"nistp384\" in a ecdsa-sha2-nistp256");
	b = key_blob("ecdsa-sha2-nistp384", "nistp256", 8, q.p, q.len);
	assert_key_refused(&b, "curve \"nistp256\"");
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, q.p, q.len);
	{
		struct pubkey	k;

		ck_assert_int_eq(pubkey_parse(b.p, b.len, &k, NULL, 0), 0);
		ck_assert_str_eq(k.fp, FP_U_P256);
		pubkey_free(&k);
		free(b.p);
	}
	free(q.p);
}
END_TEST

START_TEST(ecdsa_point_off_curve_or_compressed_refused)
{
	struct buf	b, q = third_field(U_P256);
	uint8_t		inf = 0;

	q.p[q.len - 1] ^= 1;
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, q.p, q.len);
	assert_key_refused(&b, "not on curve nistp256");
	q.p[q.len - 1] ^= 1;
	/* The compressed form of the same point. */
	q.p[0] = 0x02 | (q.p[q.len - 1] & 1);
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, q.p, 33);
	assert_key_refused(&b, "not an uncompressed nistp256 point");
	q.p[0] = 0x04;
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, q.p, q.len - 1);
	assert_key_refused(&b, "not an uncompressed");
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, &inf, 1);
	assert_key_refused(&b, "not an uncompressed");
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, &inf, 0);
	assert_key_refused(&b, "not an uncompressed");
	/* All zero coordinates: well formed, not a point of the curve. */
	memset(q.p + 1, 0, q.len - 1);
	b = key_blob("ecdsa-sha2-nistp256", "nistp256", 8, q.p, q.len);
	assert_key_refused(&b, "not on curve");
	free(q.p);
}
END_TEST


static struct buf
rsa_blob(const void *e, size_t elen, const void *n, size_t nlen)
{
	return key_blob("ssh-rsa", e, elen, n, nlen);
}

START_TEST(rsa_key_checks)
{
	struct buf	 b, n = third_field(U_RSA), big = { NULL, 0 };
	struct pubkey	 k;
	const uint8_t	 e65537[] = { 1, 0, 1 }, e3[] = { 3 }, e1[] = { 1 };
	const uint8_t	 even[] = { 1, 0, 0 }, zero_e[] = { 0, 1, 0, 1 };
	const uint8_t	 neg[] = { 0x81 }, e9[] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t		 top;

	ck_assert_int_eq(n.p[0], 0);	/* 1024 bits: top bit set */
	b = rsa_blob(e65537, 3, n.p, n.len);
	ck_assert_int_eq(pubkey_parse(b.p, b.len, &k, NULL, 0), 0);
	ck_assert_str_eq(k.fp, FP_U_RSA);
	pubkey_free(&k);
	free(b.p);
	b = rsa_blob(e3, 1, n.p, n.len);
	ck_assert_int_eq(pubkey_parse(b.p, b.len, &k, NULL, 0), 0);
	pubkey_free(&k);
	free(b.p);

	b = rsa_blob(e1, 1, n.p, n.len);
	assert_key_refused(&b, "RSA exponent is not odd");
	b = rsa_blob(even, 3, n.p, n.len);
	assert_key_refused(&b, "RSA exponent is not odd");
	b = rsa_blob(e9, 9, n.p, n.len);
	assert_key_refused(&b, "RSA exponent");
	b = rsa_blob(NULL, 0, n.p, n.len);
	assert_key_refused(&b, "RSA exponent");
	b = rsa_blob(zero_e, 4, n.p, n.len);
	assert_key_refused(&b, "non-canonical RSA exponent");
	b = rsa_blob(neg, 1, n.p, n.len);
	assert_key_refused(&b, "negative RSA exponent");
	/* Without the zero byte the modulus reads as negative. */
	b = rsa_blob(e65537, 3, n.p + 1, n.len - 1);
	assert_key_refused(&b, "negative RSA modulus");
	/* One more zero byte is not canonical. */
	buf_put(&big, "", 1);
	buf_put(&big, n.p, n.len);
	b = rsa_blob(e65537, 3, big.p, big.len);
	assert_key_refused(&b, "non-canonical RSA modulus");
	free(big.p);
	/* 1023 bits. */
	top = n.p[1];
	n.p[1] = 0x7f;
	b = rsa_blob(e65537, 3, n.p + 1, n.len - 1);
	assert_key_refused(&b, "RSA modulus of 1023 bits (1024 to 16384");
	n.p[1] = top;
	n.p[n.len - 1] &= 0xfe;
	b = rsa_blob(e65537, 3, n.p, n.len);
	assert_key_refused(&b, "even RSA modulus");
	free(n.p);

	/* 16385 bits. */
	big.p = NULL;
	big.len = 0;
	buf_put(&big, "\001", 1);
	while (big.len < 2049)
		buf_put(&big, "\377", 1);
	b = rsa_blob(e65537, 3, big.p, big.len);
	assert_key_refused(&b, "RSA modulus of 16385 bits");
	free(big.p);
}
END_TEST

/* Every field of each certificate, as ssh-keygen -L printed it. */
START_TEST(cert_fields_match_ssh_keygen)
{
	const struct cert_case	*cc = &certs[_i];
	struct cert		 c;
	uint8_t			*blob;
	size_t			 len, i, off[K_END + 3];
	char			 err[256] = "", *list, *p, *save;
	char			 ca_fp[WIRE_FP_LEN];

	blob = decode(cc->b64, &len);
	ck_assert_msg(cert_parse(blob, len, &c, err, sizeof(err)) == 0,
	    "%s: %s", cc->name, err);
	ck_assert_uint_eq(c.blob_len, len);
	ck_assert_mem_eq(c.blob, blob, len);
	ck_assert_ptr_ne(c.blob, blob);
	ck_assert_int_eq(c.key.type, cc->key_type);
	ck_assert_str_eq(c.key.fp, cc->key_fp);
	ck_assert_int_eq(c.ca.type, cc->ca_type);
	ck_assert_str_eq(c.ca.fp, cc->ca_fp);
	ck_assert_int_eq(wire_fingerprint(c.ca.blob, c.ca.blob_len, ca_fp,
	    sizeof(ca_fp)), 0);
	ck_assert_str_eq(ca_fp, cc->ca_fp);
	ck_assert(c.serial == cc->serial);
	ck_assert_uint_eq(c.cert_type, cc->cert_type);
	ck_assert_str_eq(c.key_id, cc->key_id);
	ck_assert(c.valid_after == cc->valid_after);
	ck_assert(c.valid_before == cc->valid_before);
	if (cc->force_command == NULL)
		ck_assert_ptr_null(c.force_command);
	else
		ck_assert_str_eq(c.force_command, cc->force_command);
	if (cc->source_address == NULL)
		ck_assert_ptr_null(c.source_address);
	else
		ck_assert_str_eq(c.source_address, cc->source_address);
	if (cc->unknown_critical == NULL)
		ck_assert_ptr_null(c.unknown_critical);
	else
		ck_assert_str_eq(c.unknown_critical, cc->unknown_critical);
	ck_assert_int_eq(c.permit_port_forwarding, cc->port_forwarding);

	list = strdup(cc->principals);
	for (i = 0, p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save), i++) {
		ck_assert_uint_lt(i, c.nprincipals);
		ck_assert_str_eq(c.principals[i], p);
		ck_assert(cert_has_principal(&c, p));
	}
	ck_assert_uint_eq(i, c.nprincipals);
	free(list);
	ck_assert(!cert_has_principal(&c, "mallory"));
	ck_assert(!cert_has_principal(&c, ""));

	/* The signed part ends right before the signature field. */
	cert_fields(blob, len, cc->nkey, off);
	ck_assert_uint_eq(c.signed_len, off[cc->nkey + K_SIG]);
	ck_assert_ptr_eq(c.sig, c.blob + c.signed_len + 4);
	ck_assert_uint_eq(c.sig_len, len - c.signed_len - 4);
	ck_assert_uint_gt(c.sig_len, 4 + strlen(cc->sig_alg));
	ck_assert_mem_eq(c.sig + 4, cc->sig_alg, strlen(cc->sig_alg));

	cert_free(&c);
	ck_assert_ptr_null(c.blob);
	cert_free(&c);
	free(blob);
}
END_TEST

START_TEST(certified_key_blob_is_the_plain_key)
{
	struct cert	 c;
	struct pubkey	 k;
	uint8_t		*blob, *plain;
	size_t		 len, plen, i;

	for (i = 0; i < NCERTS; i++) {
		blob = decode(certs[i].b64, &len);
		ck_assert_int_eq(cert_parse(blob, len, &c, NULL, 0), 0);
		ck_assert_int_eq(pubkey_parse(c.key.blob, c.key.blob_len, &k,
		    NULL, 0), 0);
		ck_assert_str_eq(k.fp, c.key.fp);
		ck_assert_int_eq(EVP_PKEY_eq(k.pkey, c.key.pkey), 1);
		pubkey_free(&k);
		cert_free(&c);
		free(blob);
	}
	/* Byte for byte what ssh-keygen wrote as the user's key. */
	blob = decode(CERT5, &len);
	plain = decode(U_RSA, &plen);
	ck_assert_int_eq(cert_parse(blob, len, &c, NULL, 0), 0);
	ck_assert_uint_eq(c.key.blob_len, plen);
	ck_assert_mem_eq(c.key.blob, plain, plen);
	cert_free(&c);
	free(blob);
	free(plain);
}
END_TEST

START_TEST(ca_signature_verifies_for_each_ca_type)
{
	const struct cert_case	*cc = &certs[_i];
	struct cert		 c;
	uint8_t			*blob;
	size_t			 len;
	char			 err[256] = "";
	int			 rc;

	blob = decode(cc->b64, &len);
	ck_assert_int_eq(cert_parse(blob, len, &c, NULL, 0), 0);
	free(blob);
	rc = cert_verify_ca(&c, err, sizeof(err));
	if (cc->ca_verifies)
		ck_assert_msg(rc == 0, "%s: %s", cc->name, err);
	else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, "CA signature: ssh-rsa signatures "
		    "(SHA-1) are refused");
	}
	cert_free(&c);
}
END_TEST

/* Whether the certificate in p is accepted: parsed and signed by its CA. */
static bool
cert_accepted(const uint8_t *p, size_t len)
{
	struct cert	c;
	bool		ok;

	if (parse_exact(p, len, &c, NULL, 0) == -1) {
		ck_assert_ptr_null(c.blob);
		return false;
	}
	ok = cert_verify_ca(&c, NULL, 0) == 0;
	cert_free(&c);
	return ok;
}

START_TEST(flipped_bit_anywhere_refused)
{
	const struct cert_case	*cc = &certs[_i];
	uint8_t			*blob;
	size_t			 len, i;
	uint8_t			 bit;

	blob = decode(cc->b64, &len);
	for (i = 0; i < len; i++) {
		bit = (uint8_t)(1u << (i % 8));
		blob[i] ^= bit;
		ck_assert_msg(!cert_accepted(blob, len), "%s: accepted with "
		    "byte %zu ^ 0x%02x", cc->name, i, bit);
		blob[i] ^= bit;
	}
	ck_assert_int_eq(cert_accepted(blob, len), cc->ca_verifies);
	free(blob);
}
END_TEST

START_TEST(truncated_at_every_length_refused)
{
	const struct cert_case	*cc = &certs[_i];
	uint8_t			*blob;
	size_t			 len, n;
	struct cert		 c;
	char			 err[256];

	blob = decode(cc->b64, &len);
	for (n = 0; n < len; n++) {
		ck_assert_msg(parse_exact(blob, n, &c, err, sizeof(err)) == -1,
		    "%s: accepted at %zu of %zu bytes", cc->name, n, len);
		ck_assert_ptr_null(c.blob);
		ck_assert_ptr_null(c.key_id);
		ck_assert_ptr_null(c.principals);
	}
	free(blob);
}
END_TEST

START_TEST(trailing_byte_refused)
{
	const struct cert_case	*cc = &certs[_i];
	struct buf		 b = { NULL, 0 };
	uint8_t			*blob;
	size_t			 len;

	blob = decode(cc->b64, &len);
	buf_put(&b, blob, len);
	buf_put(&b, "\0", 1);
	assert_refused(&b, "trailing bytes after the signature");
	free(blob);
}
END_TEST

/* The certificate with its signature replaced by sig. */
static struct buf
with_sig(const struct cert_case *cc, const struct buf *sig)
{
	return cert_replace(cc, K_SIG, sig->p, sig->len);
}

static void
assert_ca_refused(struct buf *b, const char *why)
{
	struct cert	c;
	char		err[256];

	parse_ok(b, &c);
	ck_assert_int_eq(cert_verify_ca(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, why) != NULL, "error \"%s\", want \"%s\"",
	    err, why);
	cert_free(&c);
}

START_TEST(wrong_ca_signature_algorithm_refused)
{
	static const struct {
		const char	*cert;
		const char	*alg;
		const char	*why;
	} cases[] = {
		{ "rsa_by_rsa_sha512", "rsa-sha2-256", "bad rsa-sha2-256" },
		{ "ed25519_by_rsa_sha256", "rsa-sha2-512", "bad rsa-sha2-512" },
		{ "ed25519_by_rsa_sha256", "ssh-rsa", "(SHA-1) are refused" },
		{ "ed25519_by_rsa_sha256", "ssh-ed25519",
		    "ssh-ed25519 signature by an RSA key" },
		{ "ed25519_by_rsa_sha256", "rsa-sha2-256-cert-v01@openssh.com",
		    "by an RSA key" },
		{ "ed25519_by_ed25519_with_options", "ecdsa-sha2-nistp256",
		    "ecdsa-sha2-nistp256 signature by an Ed25519 key" },
		{ "p256_by_p256", "ecdsa-sha2-nistp384",
		    "ecdsa-sha2-nistp384 signature by a ecdsa-sha2-nistp256" },
		{ "p384_by_p384_unknown_critical", "ecdsa-sha2-nistp256",
		    "signature by a ecdsa-sha2-nistp384" },
		{ "p521_by_p521_max_serial", "ssh-ed25519", "signature by a" },
	};
	const struct cert_case	*cc;
	struct buf		 sig, s, b;
	char			 alg[64];
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc = cert_case(cases[i].cert);
		sig = cert_field(cc, K_SIG);
		sig_split(&sig, alg, sizeof(alg), &s);
		free(sig.p);
		sig = sig_blob(cases[i].alg, s.p, s.len);
		b = with_sig(cc, &sig);
		assert_ca_refused(&b, cases[i].why);
		free(sig.p);
		free(s.p);
	}
}
END_TEST

START_TEST(malformed_ca_signatures_refused)
{
	const struct cert_case	*cc;
	struct buf		 sig, s, b, inner = { NULL, 0 };
	struct wire		 w;
	const uint8_t		*r, *ss;
	size_t			 rlen, slen;
	char			 alg[64];

	/* Trailing byte inside the signature blob. */
	cc = cert_case("p256_by_p256");
	sig = cert_field(cc, K_SIG);
	buf_put(&sig, "", 1);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "trailing bytes after the signature");
	free(sig.p);

	/* ECDSA: trailing byte after s; r with a needless zero byte. */
	sig = cert_field(cc, K_SIG);
	sig_split(&sig, alg, sizeof(alg), &s);
	free(sig.p);
	buf_put(&s, "", 1);
	sig = sig_blob(alg, s.p, s.len);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "trailing bytes in the ECDSA signature");
	free(sig.p);
	s.len--;
	wire_init(&w, s.p, s.len);
	ck_assert_int_eq(wire_string(&w, &r, &rlen), 0);
	ck_assert_int_eq(wire_string(&w, &ss, &slen), 0);
	buf_u32(&inner, (uint32_t)rlen + 1);
	buf_put(&inner, "", 1);
	buf_put(&inner, r, rlen);
	buf_string(&inner, ss, slen);
	sig = sig_blob(alg, inner.p, inner.len);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "non-canonical ECDSA r");
	free(sig.p);
	free(inner.p);
	/* r = 0. */
	inner.p = NULL;
	inner.len = 0;
	buf_string(&inner, NULL, 0);
	buf_string(&inner, ss, slen);
	sig = sig_blob(alg, inner.p, inner.len);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "ECDSA signature values out of range");
	free(sig.p);
	free(inner.p);
	free(s.p);

	/* Ed25519: 63 bytes. */
	cc = cert_case("ed25519_host_cert");
	sig = cert_field(cc, K_SIG);
	sig_split(&sig, alg, sizeof(alg), &s);
	free(sig.p);
	sig = sig_blob(alg, s.p, s.len - 1);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "Ed25519 signature of 63 bytes, not 64");
	free(sig.p);
	free(s.p);

	/* RSA: longer than the modulus, even with a zero byte first. */
	cc = cert_case("rsa_by_rsa_sha512");
	sig = cert_field(cc, K_SIG);
	sig_split(&sig, alg, sizeof(alg), &s);
	free(sig.p);
	inner.p = NULL;
	inner.len = 0;
	buf_put(&inner, "", 1);
	buf_put(&inner, s.p, s.len);
	sig = sig_blob(alg, inner.p, inner.len);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "RSA signature of 257 bytes for a 256-byte");
	free(sig.p);
	sig = sig_blob(alg, NULL, 0);
	b = with_sig(cc, &sig);
	assert_ca_refused(&b, "RSA signature of 0 bytes");
	free(sig.p);
	free(inner.p);
	free(s.p);
}
END_TEST

START_TEST(inner_key_not_matching_cert_type_refused)
{
	const struct cert_case	*cc;
	struct buf		 b;
	struct cert		 c;
	char			 err[256];
	uint8_t			*blob;
	size_t			 len;

	/* A P-256 certificate whose key names curve nistp384. */
	cc = cert_case("p256_by_p256");
	b = cert_replace(cc, 2 - cc->nkey, "nistp384", 8);
	assert_refused(&b, "certified key: curve \"nistp384\"");

	/* An Ed25519 body under other certificate type names. */
	cc = cert_case("ed25519_by_ed25519_with_options");
	b = cert_replace(cc, -cc->nkey, "ecdsa-sha2-nistp256-cert-v01@"
	    "openssh.com", 40);
	ck_assert_int_eq(parse_exact(b.p, b.len, &c, err, sizeof(err)), -1);
	free(b.p);
	b = cert_replace(cc, -cc->nkey, "ssh-rsa-cert-v01@openssh.com", 28);
	ck_assert_int_eq(parse_exact(b.p, b.len, &c, err, sizeof(err)), -1);
	free(b.p);
	b = cert_replace(cc, -cc->nkey, "ssh-ed25519", 11);
	assert_refused(&b, "a plain key, not a certificate");
	b = cert_replace(cc, -cc->nkey, "ssh-dss-cert-v01@openssh.com", 28);
	assert_refused(&b, "DSA keys are not supported");
	b = cert_replace(cc, -cc->nkey, "sk-ssh-ed25519-cert-v01@openssh.com",
	    35);
	assert_refused(&b, "security key type");
	b = cert_replace(cc, -cc->nkey, "ssh-ed25519-cert-v00@openssh.com",
	    32);
	assert_refused(&b, "unsupported key type");

	/* A plain key is not a certificate. */
	blob = decode(U_ED, &len);
	ck_assert_int_eq(cert_parse(blob, len, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "a plain key, not a certificate");
	free(blob);
}
END_TEST

START_TEST(ca_key_that_is_a_cert_refused)
{
	const struct cert_case	*cc = cert_case("p256_by_p256");
	struct buf		 b;
	uint8_t			*ca;
	size_t			 len;
	uint8_t			 z[32] = { 0 };

	ca = decode(CERT1, &len);
	b = cert_replace(cc, K_CA, ca, len);
	assert_refused(&b, "CA key: a certificate, not a plain key");
	free(ca);
	ca = decode(CA_ED, &len);
	b = cert_replace(cc, K_CA, ca, len - 1);
	assert_refused(&b, "CA key: truncated key");
	free(ca);
	b = key_blob("ssh-dss", z, 20, z, 20);
	{
		struct buf	b2 = cert_replace(cc, K_CA, b.p, b.len);

		assert_refused(&b2, "CA key: DSA keys are not supported");
	}
	free(b.p);
	b = cert_replace(cc, K_CA, NULL, 0);
	assert_refused(&b, "CA key: truncated key");
}
END_TEST

START_TEST(text_fields_checked)
{
	const struct cert_case	*cc = cert_case("p256_by_p256");
	struct buf		 b, list = { NULL, 0 };
	struct cert		 c;
	char			 big[CERT_KEY_ID_MAX + 1];
	uint32_t		 type;
	size_t			 i;

	b = cert_replace(cc, K_KEY_ID, "a\0b", 3);
	assert_refused(&b, "NUL byte in key id");
	memset(big, 'k', sizeof(big));
	b = cert_replace(cc, K_KEY_ID, big, CERT_KEY_ID_MAX + 1);
	assert_refused(&b, "key id longer than 1024 bytes");
	b = cert_replace(cc, K_KEY_ID, big, CERT_KEY_ID_MAX);
	parse_ok(&b, &c);
	ck_assert_uint_eq(strlen(c.key_id), CERT_KEY_ID_MAX);
	ck_assert_int_eq(cert_verify_ca(&c, NULL, 0), -1);
	cert_free(&c);
	b = cert_replace(cc, K_KEY_ID, NULL, 0);
	parse_ok(&b, &c);
	ck_assert_str_eq(c.key_id, "");
	cert_free(&c);

	buf_cstring(&list, "alice");
	buf_string(&list, "b\0b", 3);
	b = cert_replace(cc, K_PRINCIPALS, list.p, list.len);
	assert_refused(&b, "NUL byte in principal");
	free(list.p);

	list.p = NULL;
	list.len = 0;
	buf_string(&list, big, CERT_PRINCIPAL_MAX + 1);
	b = cert_replace(cc, K_PRINCIPALS, list.p, list.len);
	assert_refused(&b, "principal longer than 256 bytes");
	free(list.p);

	/* A principal list cut inside a string. */
	list.p = NULL;
	list.len = 0;
	buf_cstring(&list, "alice");
	buf_u32(&list, 10);
	buf_put(&list, "bob", 3);
	b = cert_replace(cc, K_PRINCIPALS, list.p, list.len);
	assert_refused(&b, "truncated principal");
	free(list.p);

	/* 256 principals are fine, 257 are not. */
	list.p = NULL;
	list.len = 0;
	for (i = 0; i < CERT_PRINCIPALS_MAX; i++)
		buf_string(&list, big, i % 7);
	b = cert_replace(cc, K_PRINCIPALS, list.p, list.len);
	parse_ok(&b, &c);
	ck_assert_uint_eq(c.nprincipals, CERT_PRINCIPALS_MAX);
	ck_assert(cert_has_principal(&c, "kkkkkk"));
	cert_free(&c);
	buf_cstring(&list, "one-too-many");
	b = cert_replace(cc, K_PRINCIPALS, list.p, list.len);
	assert_refused(&b, "more than 256 principals");
	free(list.p);

	/* No principals: valid for nobody. */
	b = cert_replace(cc, K_PRINCIPALS, NULL, 0);
	parse_ok(&b, &c);
	ck_assert_uint_eq(c.nprincipals, 0);
	ck_assert(!cert_has_principal(&c, "alice"));
	cert_free(&c);

	type = htobe32(3);
	b = cert_replace(cc, K_TYPE, &type, 4);
	assert_refused(&b, "unknown certificate type 3");
	type = 0;
	b = cert_replace(cc, K_TYPE, &type, 4);
	assert_refused(&b, "unknown certificate type 0");
}
END_TEST

static void
opt_flag(struct buf *b, const char *name)
{
	buf_cstring(b, name);
	buf_string(b, NULL, 0);
}

static void
opt_value(struct buf *b, const char *name, const char *value)
{
	struct buf	data = { NULL, 0 };

	buf_cstring(&data, value);
	buf_cstring(b, name);
	buf_string(b, data.p, data.len);
	free(data.p);
}

START_TEST(critical_options_read_as_sshd_does)
{
	const struct cert_case	*cc = cert_case("p256_by_p256");
	const struct cert_case	*host = cert_case("ed25519_host_cert");
	struct buf		 b, o = { NULL, 0 };
	struct cert		 c;
	size_t			 i;
	char			 name[32];

	/* Out of order (sshd does not check) and values read. */
	opt_value(&o, "source-address", "192.0.2.0/24");
	opt_value(&o, "force-command", "internal-sftp");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert_str_eq(c.source_address, "192.0.2.0/24");
	ck_assert_str_eq(c.force_command, "internal-sftp");
	ck_assert_ptr_null(c.unknown_critical);
	cert_free(&c);

	/* In a host certificate no critical option is known. */
	b = cert_replace(host, K_CRITICAL, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert_str_eq(c.unknown_critical, "source-address");
	ck_assert_ptr_null(c.source_address);
	ck_assert_ptr_null(c.force_command);
	cert_free(&c);

	/* A second force-command or source-address is an error. */
	opt_value(&o, "force-command", "/bin/true");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "multiple force-command options");
	free(o.p);
	o.p = NULL;
	o.len = 0;
	opt_value(&o, "source-address", "192.0.2.0/24");
	opt_value(&o, "source-address", "0.0.0.0/0");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "multiple source-address options");
	free(o.p);

	/* Unknown ones: the first is named; verify-required is unknown. */
	o.p = NULL;
	o.len = 0;
	opt_flag(&o, "verify-required");
	opt_value(&o, "zzz@example.com", "x");
	opt_value(&o, "force-command", "/bin/true");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert_str_eq(c.unknown_critical, "verify-required");
	ck_assert_str_eq(c.force_command, "/bin/true");
	cert_free(&c);
	free(o.p);

	/* The value is a string inside the data, and nothing more. */
	o.p = NULL;
	o.len = 0;
	buf_cstring(&o, "force-command");
	buf_cstring(&o, "/bin/true");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "truncated force-command");
	free(o.p);
	o.p = NULL;
	o.len = 0;
	{
		struct buf	data = { NULL, 0 };

		buf_cstring(&data, "/bin/true");
		buf_put(&data, "x", 1);
		buf_cstring(&o, "force-command");
		buf_string(&o, data.p, data.len);
		free(data.p);
	}
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "extra data in option force-command");
	free(o.p);
	o.p = NULL;
	o.len = 0;
	opt_value(&o, "force-command", "/bin/\001");
	((uint8_t *)o.p)[o.len - 1] = '\0';
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "NUL byte in force-command");
	free(o.p);

	/* Malformed: a name without data, a NUL in a name. */
	o.p = NULL;
	o.len = 0;
	buf_cstring(&o, "force-command");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "truncated option");
	free(o.p);
	o.p = NULL;
	o.len = 0;
	buf_string(&o, "a\0b", 3);
	buf_string(&o, NULL, 0);
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "malformed option name");
	free(o.p);

	/* At most CERT_OPTIONS_MAX of them. */
	o.p = NULL;
	o.len = 0;
	for (i = 0; i < CERT_OPTIONS_MAX; i++) {
		snprintf(name, sizeof(name), "x%02zu@example.com", i);
		opt_flag(&o, name);
	}
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert_str_eq(c.unknown_critical, "x00@example.com");
	cert_free(&c);
	opt_flag(&o, "y@example.com");
	b = cert_replace(cc, K_CRITICAL, o.p, o.len);
	assert_refused(&b, "more than 64 critical options");
	free(o.p);
}
END_TEST

START_TEST(extensions_read_as_sshd_does)
{
	const struct cert_case	*cc = cert_case("rsa_by_ed25519");
	const struct cert_case	*host = cert_case("ed25519_host_cert");
	struct buf		 b, o = { NULL, 0 };
	struct cert		 c;
	size_t			 i;
	char			 name[32];

	/* Unknown extensions with data are ignored; repeats are fine. */
	opt_value(&o, "zz@example.com", "data");
	opt_flag(&o, "permit-port-forwarding");
	opt_flag(&o, "permit-port-forwarding");
	b = cert_replace(cc, K_EXTENSIONS, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert(c.permit_port_forwarding);
	cert_free(&c);
	free(o.p);

	b = cert_replace(cc, K_EXTENSIONS, NULL, 0);
	parse_ok(&b, &c);
	ck_assert(!c.permit_port_forwarding);
	cert_free(&c);

	/* A known flag carrying data is corrupt. */
	o.p = NULL;
	o.len = 0;
	opt_value(&o, "permit-pty", "yes");
	b = cert_replace(cc, K_EXTENSIONS, o.p, o.len);
	assert_refused(&b, "extra data in extension permit-pty");
	free(o.p);
	o.p = NULL;
	o.len = 0;
	opt_value(&o, "permit-port-forwarding", "");
	b = cert_replace(cc, K_EXTENSIONS, o.p, o.len);
	assert_refused(&b, "extra data in extension permit-port-forwarding");

	/* Host certificates define no extension: all are ignored. */
	b = cert_replace(host, K_EXTENSIONS, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert(!c.permit_port_forwarding);
	cert_free(&c);
	free(o.p);

	/* A critical option name among the extensions means nothing. */
	o.p = NULL;
	o.len = 0;
	opt_value(&o, "force-command", "/bin/true");
	b = cert_replace(cc, K_EXTENSIONS, o.p, o.len);
	parse_ok(&b, &c);
	ck_assert_ptr_null(c.force_command);
	ck_assert_ptr_null(c.unknown_critical);
	cert_free(&c);
	free(o.p);

	o.p = NULL;
	o.len = 0;
	buf_cstring(&o, "permit-pty");
	buf_u32(&o, 5);
	b = cert_replace(cc, K_EXTENSIONS, o.p, o.len);
	assert_refused(&b, "truncated extension");
	free(o.p);

	o.p = NULL;
	o.len = 0;
	for (i = 0; i <= CERT_OPTIONS_MAX; i++) {
		snprintf(name, sizeof(name), "x%02zu@example.com", i);
		opt_flag(&o, name);
	}
	b = cert_replace(cc, K_EXTENSIONS, o.p, o.len);
	assert_refused(&b, "more than 64 extensions");
	free(o.p);
}
END_TEST

START_TEST(validity_window)
{
	struct cert	 c;
	uint8_t		*blob;
	size_t		 len;

	blob = decode(CERT8, &len);
	ck_assert_int_eq(cert_parse(blob, len, &c, NULL, 0), 0);
	ck_assert(!cert_valid_at(&c, T_2025 - 1));
	ck_assert(cert_valid_at(&c, T_2025));
	ck_assert(cert_valid_at(&c, T_2026 - 1));
	ck_assert(!cert_valid_at(&c, T_2026));
	cert_free(&c);
	free(blob);

	blob = decode(CERT2, &len);
	ck_assert_int_eq(cert_parse(blob, len, &c, NULL, 0), 0);
	ck_assert(cert_valid_at(&c, 0));
	ck_assert(cert_valid_at(&c, UINT64_MAX - 1));
	cert_free(&c);
	free(blob);
}
END_TEST

START_TEST(cert_type_names)
{
	ck_assert(cert_type_name("ssh-ed25519-cert-v01@openssh.com"));
	ck_assert(cert_type_name("rsa-sha2-512-cert-v01@openssh.com"));
	ck_assert(cert_type_name("ssh-dss-cert-v01@openssh.com"));
	ck_assert(cert_type_name("sk-ssh-ed25519-cert-v01@openssh.com"));
	ck_assert(!cert_type_name("ssh-ed25519"));
	ck_assert(!cert_type_name("rsa-sha2-512"));
	ck_assert(!cert_type_name("-cert-v01@openssh.co"));
	ck_assert(!cert_type_name(""));
	ck_assert(!cert_type_name(NULL));
	ck_assert_str_eq(pubkey_type_name(PUBKEY_ECDSA_P384),
	    "ecdsa-sha2-nistp384");
	ck_assert_str_eq(pubkey_type_name(PUBKEY_RSA), "ssh-rsa");
}
END_TEST

START_TEST(free_is_safe_on_zeroed_structs)
{
	struct cert	c;
	struct pubkey	k;

	memset(&c, 0, sizeof(c));
	memset(&k, 0, sizeof(k));
	cert_free(&c);
	cert_free(NULL);
	pubkey_free(&k);
	pubkey_free(NULL);
	ck_assert_int_eq(cert_verify_ca(&c, NULL, 0), -1);
	ck_assert_int_eq(pubkey_verify(&k, NULL, 0, NULL, 0, NULL, 0), -1);
	ck_assert(!cert_has_principal(&c, "alice"));
}
END_TEST

/*
 * Signatures by user keys made here: a fresh key of each type, its SSH
 * blob, and SSH signatures over data.
 */
struct signer {
	EVP_PKEY	*pkey;
	struct pubkey	 pub;
	const char	*ssh_name;
};

static void
signer_new(struct signer *s, enum pubkey_type type)
{
	struct buf	 b = { NULL, 0 };
	uint8_t		 raw[32], q[133];
	size_t		 n;
	BIGNUM		*bn_n = NULL, *bn_e = NULL;
	uint8_t		 nb[256], eb[8];
	char		 err[128] = "";

	s->ssh_name = pubkey_type_name(type);
	switch (type) {
	case PUBKEY_ED25519:
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		ck_assert_ptr_nonnull(s->pkey);
		n = sizeof(raw);
		ck_assert_int_eq(EVP_PKEY_get_raw_public_key(s->pkey, raw,
		    &n), 1);
		buf_cstring(&b, s->ssh_name);
		buf_string(&b, raw, n);
		break;
	case PUBKEY_ECDSA_P256:
	case PUBKEY_ECDSA_P384:
	case PUBKEY_ECDSA_P521:
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    type == PUBKEY_ECDSA_P256 ? "P-256" :
		    type == PUBKEY_ECDSA_P384 ? "P-384" : "P-521");
		ck_assert_ptr_nonnull(s->pkey);
		ck_assert_int_eq(EVP_PKEY_get_octet_string_param(s->pkey,
		    OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &n), 1);
		buf_cstring(&b, s->ssh_name);
		buf_cstring(&b, s->ssh_name + strlen("ecdsa-sha2-"));
		buf_string(&b, q, n);
		break;
	case PUBKEY_RSA:
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		ck_assert_ptr_nonnull(s->pkey);
		ck_assert_int_eq(EVP_PKEY_get_bn_param(s->pkey,
		    OSSL_PKEY_PARAM_RSA_N, &bn_n), 1);
		ck_assert_int_eq(EVP_PKEY_get_bn_param(s->pkey,
		    OSSL_PKEY_PARAM_RSA_E, &bn_e), 1);
		buf_cstring(&b, s->ssh_name);
		n = (size_t)BN_bn2bin(bn_e, eb);
		buf_mpint(&b, eb, n);
		n = (size_t)BN_bn2bin(bn_n, nb);
		buf_mpint(&b, nb, n);
		BN_free(bn_n);
		BN_free(bn_e);
		break;
	}
	ck_assert_msg(pubkey_parse(b.p, b.len, &s->pub, err, sizeof(err)) == 0,
	    "%s", err);
	free(b.p);
}

static void
signer_free(struct signer *s)
{
	EVP_PKEY_free(s->pkey);
	pubkey_free(&s->pub);
}

/* An SSH signature blob by s over data, of algorithm alg. */
static struct buf
signer_sign(struct signer *s, const char *alg, const void *data,
    size_t len)
{
	EVP_MD_CTX		*mctx;
	const EVP_MD		*md = NULL;
	ECDSA_SIG		*es;
	const BIGNUM		*r, *ss;
	const unsigned char	*dp;
	struct buf		 inner = { NULL, 0 }, out;
	uint8_t			 raw[512], rb[66], sb[66];
	size_t			 n = sizeof(raw);

	if (strcmp(alg, "rsa-sha2-256") == 0 ||
	    strcmp(alg, "ecdsa-sha2-nistp256") == 0)
		md = EVP_sha256();
	else if (strcmp(alg, "rsa-sha2-512") == 0 ||
	    strcmp(alg, "ecdsa-sha2-nistp521") == 0)
		md = EVP_sha512();
	else if (strcmp(alg, "ecdsa-sha2-nistp384") == 0)
		md = EVP_sha384();
	else if (strcmp(alg, "ssh-rsa") == 0)
		md = EVP_sha1();
	mctx = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestSignInit(mctx, NULL, md, NULL, s->pkey),
	    1);
	ck_assert_int_eq(EVP_DigestSign(mctx, raw, &n, data, len), 1);
	EVP_MD_CTX_free(mctx);
	if (s->pub.type >= PUBKEY_ECDSA_P256 &&
	    s->pub.type <= PUBKEY_ECDSA_P521) {
		dp = raw;
		es = d2i_ECDSA_SIG(NULL, &dp, (long)n);
		ck_assert_ptr_nonnull(es);
		ECDSA_SIG_get0(es, &r, &ss);
		n = (size_t)BN_bn2bin(r, rb);
		buf_mpint(&inner, rb, n);
		n = (size_t)BN_bn2bin(ss, sb);
		buf_mpint(&inner, sb, n);
		ECDSA_SIG_free(es);
	} else
		buf_put(&inner, raw, n);
	out = sig_blob(alg, inner.p, inner.len);
	free(inner.p);
	return out;
}

static const struct {
	enum pubkey_type	 type;
	const char		*alg;
} user_sigs[] = {
	{ PUBKEY_ED25519, "ssh-ed25519" },
	{ PUBKEY_ECDSA_P256, "ecdsa-sha2-nistp256" },
	{ PUBKEY_ECDSA_P384, "ecdsa-sha2-nistp384" },
	{ PUBKEY_ECDSA_P521, "ecdsa-sha2-nistp521" },
	{ PUBKEY_RSA, "rsa-sha2-256" },
	{ PUBKEY_RSA, "rsa-sha2-512" },
};

START_TEST(user_signature_verifies_and_tampering_refused)
{
	struct signer	 s;
	struct buf	 sig, bad = { NULL, 0 };
	uint8_t		 data[] = "session id and userauth request";
	char		 err[128] = "";
	size_t		 i;

	signer_new(&s, user_sigs[_i].type);
	sig = signer_sign(&s, user_sigs[_i].alg, data, sizeof(data));
	ck_assert_msg(pubkey_verify(&s.pub, sig.p, sig.len, data,
	    sizeof(data), err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pubkey_check_alg(&s.pub, false, user_sigs[_i].alg,
	    sig.p, sig.len, err, sizeof(err)), 0);

	data[0] ^= 1;
	ck_assert_int_eq(pubkey_verify(&s.pub, sig.p, sig.len, data,
	    sizeof(data), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "bad ") != NULL, "%s", err);
	data[0] ^= 1;
	ck_assert_int_eq(pubkey_verify(&s.pub, sig.p, sig.len, data,
	    sizeof(data) - 1, NULL, 0), -1);

	/* Every bit of the signature blob matters. */
	for (i = 0; i < sig.len * 8; i += 7) {
		sig.p[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(pubkey_verify(&s.pub, sig.p, sig.len, data,
		    sizeof(data), NULL, 0) == -1, "bit %zu", i);
		sig.p[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (i = 0; i < sig.len; i++)
		ck_assert_int_eq(pubkey_verify(&s.pub, sig.p, i, data,
		    sizeof(data), NULL, 0), -1);
	buf_put(&bad, sig.p, sig.len);
	buf_put(&bad, "", 1);
	ck_assert_int_eq(pubkey_verify(&s.pub, bad.p, bad.len, data,
	    sizeof(data), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "trailing bytes after the signature");
	free(bad.p);
	free(sig.p);
	signer_free(&s);
}
END_TEST

START_TEST(rsa_sha1_user_signature_refused)
{
	struct signer	s;
	struct buf	sig;
	uint8_t		data[] = "data";
	char		err[128] = "";

	signer_new(&s, PUBKEY_RSA);
	sig = signer_sign(&s, "ssh-rsa", data, sizeof(data));
	ck_assert_int_eq(pubkey_verify(&s.pub, sig.p, sig.len, data,
	    sizeof(data), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "ssh-rsa signatures (SHA-1) are refused");
	ck_assert_int_eq(pubkey_check_alg(&s.pub, false, "ssh-rsa", sig.p,
	    sig.len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "algorithm ssh-rsa (SHA-1) is refused");
	free(sig.p);
	signer_free(&s);
}
END_TEST

START_TEST(rsa_signature_without_leading_zero_padded)
{
	struct signer	 s;
	struct buf	 sig, inner, shortened;
	uint8_t		 data[64];
	char		 alg[32], err[128] = "";
	size_t		 tries;

	/* Sign until a signature starts with a zero byte (1 in 256). */
	signer_new(&s, PUBKEY_RSA);
	for (tries = 0; tries < 4096; tries++) {
		memset(data, 0, sizeof(data));
		memcpy(data, &tries, sizeof(tries));
		sig = signer_sign(&s, "rsa-sha2-256", data, sizeof(data));
		sig_split(&sig, alg, sizeof(alg), &inner);
		free(sig.p);
		if (inner.p[0] == 0)
			break;
		free(inner.p);
	}
	ck_assert_uint_lt(tries, 4096);
	shortened = sig_blob(alg, inner.p + 1, inner.len - 1);
	ck_assert_msg(pubkey_verify(&s.pub, shortened.p, shortened.len, data,
	    sizeof(data), err, sizeof(err)) == 0, "%s", err);
	free(shortened.p);
	free(inner.p);
	signer_free(&s);
}
END_TEST

START_TEST(userauth_algorithm_checked)
{
	struct cert	 c;
	struct signer	 s;
	struct buf	 sig;
	uint8_t		*blob;
	size_t		 len;
	char		 err[128] = "";

	/* An RSA certificate's key, with each algorithm name. */
	blob = decode(CERT5, &len);
	ck_assert_int_eq(cert_parse(blob, len, &c, NULL, 0), 0);
	free(blob);
	ck_assert_int_eq(pubkey_check_alg(&c.key, true,
	    "rsa-sha2-512-cert-v01@openssh.com", NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(pubkey_check_alg(&c.key, true,
	    "rsa-sha2-256-cert-v01@openssh.com", NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(pubkey_check_alg(&c.key, true,
	    "ssh-rsa-cert-v01@openssh.com", NULL, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "algorithm ssh-rsa-cert-v01@openssh.com "
	    "(SHA-1) is refused");
	ck_assert_int_eq(pubkey_check_alg(&c.key, false, "rsa-sha2-512",
	    NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(pubkey_check_alg(&c.key, true, "rsa-sha2-512",
	    NULL, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "algorithm rsa-sha2-512 for a certificate");
	ck_assert_int_eq(pubkey_check_alg(&c.key, false,
	    "rsa-sha2-512-cert-v01@openssh.com", NULL, 0, NULL, 0), -1);
	ck_assert_int_eq(pubkey_check_alg(&c.key, true,
	    "ssh-ed25519-cert-v01@openssh.com", NULL, 0, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "algorithm ssh-ed25519-cert-v01@openssh.com "
	    "for a ssh-rsa key");
	cert_free(&c);

	/* The signature's algorithm is the one the request named. */
	signer_new(&s, PUBKEY_RSA);
	sig = signer_sign(&s, "rsa-sha2-512", "x", 1);
	ck_assert_int_eq(pubkey_check_alg(&s.pub, false, "rsa-sha2-512",
	    sig.p, sig.len, NULL, 0), 0);
	ck_assert_int_eq(pubkey_check_alg(&s.pub, false, "rsa-sha2-256",
	    sig.p, sig.len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "signature algorithm does not match "
	    "rsa-sha2-256");
	ck_assert_int_eq(pubkey_check_alg(&s.pub, false, "rsa-sha2-256",
	    sig.p, 3, NULL, 0), -1);
	free(sig.p);
	signer_free(&s);

	signer_new(&s, PUBKEY_ECDSA_P384);
	ck_assert_int_eq(pubkey_check_alg(&s.pub, true,
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com", NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(pubkey_check_alg(&s.pub, true,
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com", NULL, 0, NULL, 0),
	    -1);
	ck_assert_int_eq(pubkey_check_alg(&s.pub, false, "ssh-ed25519",
	    NULL, 0, NULL, 0), -1);
	signer_free(&s);
}
END_TEST

Suite *
cert_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("cert");

	tc = tcase_create("pubkey");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, plain_keys_parse_with_ssh_keygen_fingerprints,
	    0, NPLAIN);
	tcase_add_loop_test(tc, plain_key_truncated_at_every_length_refused,
	    0, NPLAIN);
	tcase_add_loop_test(tc, plain_key_trailing_byte_refused, 0, NPLAIN);
	tcase_add_test(tc, unsupported_key_types_refused);
	tcase_add_test(tc, certificate_blob_is_not_a_plain_key);
	tcase_add_test(tc, ed25519_key_of_wrong_length_refused);
	tcase_add_test(tc, ecdsa_curve_name_must_match_type);
	tcase_add_test(tc, ecdsa_point_off_curve_or_compressed_refused);
	tcase_add_test(tc, rsa_key_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("signature");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, user_signature_verifies_and_tampering_refused,
	    0, sizeof(user_sigs) / sizeof(user_sigs[0]));
	tcase_add_test(tc, rsa_sha1_user_signature_refused);
	tcase_add_test(tc, rsa_signature_without_leading_zero_padded);
	tcase_add_test(tc, userauth_algorithm_checked);
	suite_add_tcase(s, tc);

	tc = tcase_create("cert");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, cert_fields_match_ssh_keygen, 0, NCERTS);
	tcase_add_test(tc, certified_key_blob_is_the_plain_key);
	tcase_add_loop_test(tc, ca_signature_verifies_for_each_ca_type, 0,
	    NCERTS);
	tcase_add_loop_test(tc, flipped_bit_anywhere_refused, 0, NCERTS);
	tcase_add_loop_test(tc, truncated_at_every_length_refused, 0, NCERTS);
	tcase_add_loop_test(tc, trailing_byte_refused, 0, NCERTS);
	tcase_add_test(tc, wrong_ca_signature_algorithm_refused);
	tcase_add_test(tc, malformed_ca_signatures_refused);
	tcase_add_test(tc, inner_key_not_matching_cert_type_refused);
	tcase_add_test(tc, ca_key_that_is_a_cert_refused);
	tcase_add_test(tc, text_fields_checked);
	tcase_add_test(tc, critical_options_read_as_sshd_does);
	tcase_add_test(tc, extensions_read_as_sshd_does);
	tcase_add_test(tc, validity_window);
	tcase_add_test(tc, cert_type_names);
	tcase_add_test(tc, free_is_safe_on_zeroed_structs);
	suite_add_tcase(s, tc);
	return s;
}
