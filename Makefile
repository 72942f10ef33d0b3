# hearth - one Makefile for the library, the program, tests, fuzzing and benchmarks.
#
#   make            release build: build/libhearth.a, build/hearth, build/hearth-bench
#   make run        install missing Debian packages, build, serve the demo on 127.0.0.1:8090
#   make test       unit + integration tests, again under ASan+UBSan, a short fuzz run
#   make fuzz       run a fuzz target: make fuzz FUZZ_TARGET=http_parser FUZZ_SECONDS=600
#   make bench      side-by-side benchmark (see bench/README.md)
#   make install    PREFIX=/usr/local
#
# Every library comes through pkg-config. Sanitized objects live in
# build/asan/, fuzz objects in build/fuzz/, so the three never mix.

PREFIX ?= /usr/local
CC ?= cc
PKGS := libuv zlib libsodium sqlite3 libpcre2-8 libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Isrc $(WARN) $(PKG_CFLAGS) -pthread
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g -fno-omit-frame-pointer
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer $(SAN_FLAGS) -DHR_TEST_BUILD
LDLIBS := $(PKG_LIBS) -pthread -lm

FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)

B := build
LIB_SRCS := $(shell find src -name '*.c' ! -name main.c | sort)
HDRS := $(shell find src include -name '*.h')
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(B)/asan/obj/%.o)
UNIT_SRCS := $(shell find tests/unit -name '*_test.c' 2>/dev/null | sort)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
ASAN_UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/asan/tests/%)
FUZZ_SRCS := $(wildcard fuzz/*_fuzz.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(B)/fuzz/%)
BENCH_SRCS := $(wildcard bench/*.c)

.PHONY: all run test unit fuzz bench install clean deps asan fuzz-build check-deps
all: $(B)/libhearth.a $(B)/hearth $(B)/hearth-bench $(B)/hearth-testd

deps:
	@sh scripts/deps.sh run

$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(REL_CFLAGS) -c $< -o $@

$(B)/asan/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "CC [asan] $<"; $(CC) $(ASAN_CFLAGS) -c $< -o $@

$(B)/libhearth.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/asan/libhearth.a: $(ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/hearth: $(B)/obj/src/main.o $(B)/libhearth.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/asan/hearth: $(B)/asan/obj/src/main.o $(B)/asan/libhearth.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/hearth-bench: $(BENCH_SRCS) $(B)/libhearth.a include/hearth.h
	$(CC) $(REL_CFLAGS) -o $@ $(BENCH_SRCS) $(B)/libhearth.a $(LDLIBS)

$(B)/hearth-testd: tests/integration/testd.c $(B)/libhearth.a include/hearth.h
	$(CC) $(REL_CFLAGS) -o $@ $< $(B)/libhearth.a $(LDLIBS)

$(B)/asan/hearth-testd: tests/integration/testd.c $(B)/asan/libhearth.a include/hearth.h
	$(CC) $(ASAN_CFLAGS) -o $@ $< $(B)/asan/libhearth.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/harness/unit.c tests/harness/unit.h $(B)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests -o $@ $< tests/harness/unit.c $(B)/libhearth.a $(LDLIBS)

$(B)/asan/tests/%: tests/unit/%.c tests/harness/unit.c tests/harness/unit.h $(B)/asan/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests -o $@ $< tests/harness/unit.c $(B)/asan/libhearth.a $(LDLIBS)

$(B)/fuzz/%: fuzz/%.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS) -pthread -lm

asan: $(B)/asan/hearth $(B)/asan/hearth-testd $(ASAN_UNIT_BINS)
fuzz-build: $(FUZZ_BINS)

run: deps all
	@mkdir -p hearth_data
	./$(B)/hearth serve --http 127.0.0.1:8090 --dir ./hearth_data --public ./demo/public

test:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory all $(UNIT_BINS) asan fuzz-build
	@sh tests/run.sh

FUZZ_TARGET ?= http_parser
FUZZ_SECONDS ?= 60
fuzz: $(B)/fuzz/$(FUZZ_TARGET)_fuzz
	@mkdir -p $(B)/fuzz/corpus-$(FUZZ_TARGET)
	./$(B)/fuzz/$(FUZZ_TARGET)_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-dict=fuzz/$(FUZZ_TARGET).dict -artifact_prefix=fuzz/crashers/ \
		$(B)/fuzz/corpus-$(FUZZ_TARGET) fuzz/corpus/$(FUZZ_TARGET)

bench:
	@sh scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(B)/hearth $(DESTDIR)$(PREFIX)/bin/hearth
	install -m 644 $(B)/libhearth.a $(DESTDIR)$(PREFIX)/lib/libhearth.a
	install -m 644 include/hearth.h $(DESTDIR)$(PREFIX)/include/hearth.h

clean:
	rm -rf $(B)
