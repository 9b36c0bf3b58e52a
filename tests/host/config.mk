# tests/host/config.mk - host unit tests of the kernel's boot configuration
# parser (kernel/config_parse.c: pure, no console or paging), compiled with
# the host compiler and sanitizers. Included by the top-level Makefile from
# the repo root; adds its program to HOST_TESTS. Defines no test/all/clean
# targets.

HOST_CC ?= cc
CONFIG_TEST := build/host/test_config
HOST_TESTS += $(CONFIG_TEST)

$(CONFIG_TEST): tests/host/test_config.c kernel/config_parse.c kernel/config.h \
                include/layout.h include/bootinfo.h tests/host/check.h
	@mkdir -p $(@D)
	$(HOST_CC) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra \
	    -Werror -std=gnu11 -Iinclude -Ikernel -o $@ tests/host/test_config.c kernel/config_parse.c
