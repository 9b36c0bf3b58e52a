/*
 * bind_local.c - LD_PRELOAD shim for Bochs: its VNC display listens on
 * 127.0.0.1 instead of every interface.
 *
 * Bochs 2.7's rfb display (gui/rfb.cc) binds INADDR_ANY and walks ports
 * 5900-5949 until one is free; it has no option for the address. pagelab
 * runs Bochs headless on rfb (the only display Debian's `bochs` package has
 * without bochs-x), so without this every `make bochs` and every test run
 * would offer the guest's screen and keyboard to the network. tools/bochs.sh
 * preloads this file; it rewrites an IPv4 bind to the wildcard address into
 * a bind to the loopback address, and says on stderr which port Bochs got,
 * since the port moves when 5900 is taken. Nothing else is changed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    if (!real_bind)
        real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    if (!addr || addr->sa_family != AF_INET || len < sizeof(struct sockaddr_in))
        return real_bind(fd, addr, len);
    struct sockaddr_in local;
    memcpy(&local, addr, sizeof(local));
    if (local.sin_addr.s_addr != htonl(INADDR_ANY))
        return real_bind(fd, addr, len);
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = real_bind(fd, (const struct sockaddr *)&local, sizeof(local));
    if (rc == 0)
        fprintf(stderr, "pagelab: Bochs's VGA screen: vncviewer 127.0.0.1::%u (local only)\n",
                ntohs(local.sin_port));
    return rc;
}
