# hopd — SSH jump host daemon.
# Targets: all run check unit sanitize fuzz bench install clean deb deps.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=

CC       ?= cc
PKGS     := libssh libuv inih libsystemd libcrypto
BUILD    ?= build
OPTFLAGS ?= -O2 -g
SANFLAGS ?=
CPPFLAGS += -D_GNU_SOURCE
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
            -fno-strict-aliasing $(OPTFLAGS) $(SANFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

DAEMON_SRCS := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
DAEMON_OBJS := $(DAEMON_SRCS:daemon/%.c=$(BUILD)/%.o)
HEADERS     := $(wildcard daemon/*.h)
UNIT_SRCS   := $(wildcard tests/unit/*.c)
CHECK_BIN   := $(BUILD)/tests/check_hopd
INTEG_TESTS := $(sort $(wildcard tests/integration/*.sh))

.PHONY: all run check unit sanitize fuzz bench install clean deb deps

all: $(BUILD)/hopd

$(BUILD)/%.o: daemon/%.c $(HEADERS) | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libhopd.a: $(DAEMON_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/hopd: $(BUILD)/main.o $(BUILD)/libhopd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# One Check binary: every suite of tests/unit/ (a file defines
# `Suite *NAME_suite(void)` at the start of a line; the list is generated)
# and the integration suite, which runs each tests/integration/*.sh.
$(BUILD)/tests/suites.inc: $(UNIT_SRCS) tests/unit/gen-suites.sh | $(BUILD)/tests
	sh tests/unit/gen-suites.sh $(UNIT_SRCS) > $@.tmp && mv $@.tmp $@

$(CHECK_BIN): $(UNIT_SRCS) $(BUILD)/tests/suites.inc $(BUILD)/libhopd.a \
    $(HEADERS) $(wildcard tests/unit/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Idaemon -I$(BUILD)/tests \
	    $(shell pkg-config --cflags check) $(LDFLAGS) -o $@ $(UNIT_SRCS) \
	    $(BUILD)/libhopd.a $(LDLIBS) $(shell pkg-config --libs check)

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

# Installs what a fresh Debian 12 lacks to build, run and test hopd.
deps:
	@sh tests/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@sh conf/demo.sh $(BUILD)/hopd

# HOPD_TESTS="tests/integration/a.sh ..." selects integration scripts (an
# empty selection is an error: `make unit` runs the unit suites alone);
# CK_RUN_SUITE=NAME one suite.
check: all $(CHECK_BIN)
	@tests="$${HOPD_TESTS-$(INTEG_TESTS)}"; \
	if [ -z "$$(echo $$tests)" ]; then \
		echo "make check: HOPD_TESTS selects no integration" \
		    "script (make unit runs the unit tests alone)" >&2; \
		exit 1; \
	fi; \
	HOPD=$(abspath $(BUILD)/hopd) HOPD_TESTS="$$tests" \
	    HOPD_TEST_LOGS=$(abspath $(BUILD))/tests/logs $(CHECK_BIN)

unit: $(CHECK_BIN)
	@HOPD_TESTS= $(CHECK_BIN)

# Sanitizer builds hold freed memory in quarantine: RSS bounds get slack.
sanitize:
	@ASAN_OPTIONS=quarantine_size_mb=16:detect_leaks=1 \
	    HOPD_RSS_SLACK_KB=131072 \
	    $(MAKE) --no-print-directory BUILD=build/san CC=clang \
	    OPTFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    check

fuzz:
	@sh tests/fuzz/run.sh

bench: all
	@sh bench/run.sh $(BENCHFLAGS)

# The unit and the example config name the installed paths, whatever
# PREFIX and SYSCONFDIR are (hopd.ini names hopd.cases relative to itself);
# an existing hopd.ini or hopd.cases is never overwritten.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/hopd \
	    $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/hopd $(DESTDIR)$(SBINDIR)/hopd
	install -m 644 daemon/hopd.8 $(DESTDIR)$(MANDIR)/man8/hopd.8
	install -m 644 daemon/hopd.ini.5 $(DESTDIR)$(MANDIR)/man5/hopd.ini.5
	sed -e 's|/usr/sbin/hopd|$(SBINDIR)/hopd|g' \
	    -e 's|/etc/hopd/|$(SYSCONFDIR)/hopd/|g' systemd/hopd.service \
	    > $(DESTDIR)$(UNITDIR)/hopd.service.tmp
	chmod 644 $(DESTDIR)$(UNITDIR)/hopd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/hopd.service.tmp $(DESTDIR)$(UNITDIR)/hopd.service
	install -m 644 systemd/hopd.socket $(DESTDIR)$(UNITDIR)/hopd.socket
	test -e $(DESTDIR)$(SYSCONFDIR)/hopd/hopd.ini || \
	    install -m 644 conf/hopd.ini $(DESTDIR)$(SYSCONFDIR)/hopd/hopd.ini
	test -e $(DESTDIR)$(SYSCONFDIR)/hopd/hopd.cases || \
	    install -m 644 conf/hopd.cases \
	    $(DESTDIR)$(SYSCONFDIR)/hopd/hopd.cases

# The Debian package, built from a copy of the committed tree plus the
# work tree's changes (so a clean clone works, and no build/ leaks in);
# the .deb and its .buildinfo/.changes land in build/.
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/hopd
	tar -cf - --exclude=./build --exclude=./.git --exclude=./demo . | \
	    tar -xf - -C $(BUILD)/deb/hopd
	cp -r packaging/debian $(BUILD)/deb/hopd/debian
	cd $(BUILD)/deb/hopd && dpkg-buildpackage -us -uc -b
	mv $(BUILD)/deb/hopd_* $(BUILD)/deb/hopd-dbgsym_* $(BUILD)/

clean:
	rm -rf build
