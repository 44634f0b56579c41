/* The system-call filter of isolated workers (docs/isolation.md): a
 * classic-BPF allowlist of what rendering needs, written by hand with
 * <linux/filter.h> and <linux/seccomp.h>. x86-64 only. */
#ifndef WGV_SERVER_SECCOMP_H
#define WGV_SERVER_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

enum wgv_seccomp_mode {
    /* Calls outside the allowlist end the process (SIGSYS). */
    WGV_SECCOMP_ENFORCE = 0,
    /* They run, and the kernel logs them (dmesg: "type=1326 ... syscall=N"):
     * for finding what a new driver needs, never for production. */
    WGV_SECCOMP_LOG = 1,
};

/* Whether this kernel and architecture can filter system calls. */
bool wgv_seccomp_available(void);

/* Sets no_new_privs and installs the filter on every thread of the calling
 * process; the filter stays for the process's life. Returns false with a
 * reason in err. */
bool wgv_seccomp_install(enum wgv_seccomp_mode mode, char *err, size_t errlen);

#endif
