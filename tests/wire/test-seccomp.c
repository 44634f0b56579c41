/* The isolated worker's system-call filter (src/server/seccomp.c), installed
 * in a child process per test: what rendering needs runs, the ways out of a
 * sandbox end the process with SIGSYS, and the probes libraries make get
 * their errno. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "seccomp.h"

/* Runs fn in a child under the filter; returns its wait status. The child
 * exits with fn's result (0 = as expected). */
static int under_filter(enum wgv_seccomp_mode mode, int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char err[256];
        if (!wgv_seccomp_install(mode, err, sizeof(err))) {
            fprintf(stderr, "  %s\n", err);
            _exit(100);
        }
        _exit(fn());
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static bool exited_ok(int st)
{
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    fprintf(stderr, "  child: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return false;
}

static bool killed_by_sigsys(int st)
{
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        return true;
    fprintf(stderr, "  child: %s %d, not SIGSYS\n", WIFEXITED(st) ? "exit" : "signal",
            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return false;
}

static void *thread_main(void *arg)
{
    return arg;
}

static int rendering_calls(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0 || write(fds[1], "x", 1) != 1)
        return 1;
    char c;
    if (read(fds[0], &c, 1) != 1 || close(fds[0]) || close(fds[1]))
        return 2;
    void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ | PROT_EXEC) || munmap(p, 1 << 20))
        return 3;
    pthread_t t;
    void *r = NULL;
    if (pthread_create(&t, NULL, thread_main, (void *)42) || pthread_join(t, &r) || r != (void *)42)
        return 4;
    int mfd = memfd_create("test", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, 4096) || close(mfd))
        return 5;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 6;
    fclose(f);
    if (kill(getpid(), 0) != 0)
        return 7;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 8;
    return 0;
}

static void test_what_rendering_needs_runs(void)
{
    CHECK(exited_ok(under_filter(WGV_SECCOMP_ENFORCE, rendering_calls)));
}

static int status_shows_filter(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 1;
    char line[256];
    int seccomp = -1, nnp = -1;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "Seccomp: %d", &seccomp);
        sscanf(line, "NoNewPrivs: %d", &nnp);
    }
    fclose(f);
    return seccomp == 2 && nnp == 1 ? 0 : 2;
}

static void test_status_shows_filter_mode_and_no_new_privs(void)
{
    CHECK(exited_ok(under_filter(WGV_SECCOMP_ENFORCE, status_shows_filter)));
}

static int do_execve(void)
{
    char *argv[] = {"/bin/true", NULL};
    execve("/bin/true", argv, NULL);
    return 0;
}
static int do_ptrace(void)
{
    syscall(SYS_ptrace, 0, 0, 0, 0);
    return 0;
}
static int do_connect(void)
{
    syscall(SYS_connect, 0, NULL, 0);
    return 0;
}
static int do_sendmsg(void)
{
    syscall(SYS_sendmsg, 0, NULL, 0);
    return 0;
}
static int do_recvmsg(void)
{
    syscall(SYS_recvmsg, 0, NULL, 0);
    return 0;
}
static int do_process_vm_readv(void)
{
    syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0);
    return 0;
}
static int do_bpf(void)
{
    syscall(SYS_bpf, 0, NULL, 0);
    return 0;
}
static int do_mount(void)
{
    syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, NULL);
    return 0;
}
static int do_unshare(void)
{
    syscall(SYS_unshare, 0);
    return 0;
}
static int do_io_uring(void)
{
    syscall(SYS_io_uring_setup, 1, NULL);
    return 0;
}
static int do_setuid(void)
{
    syscall(SYS_setuid, 0);
    return 0;
}
static int do_tiocsti(void)
{
    char c = 'x';
    syscall(SYS_ioctl, -1, TIOCSTI, &c); /* fd -1: harmless if the rule were missing */
    return 0;
}
static int do_unlisted(void)
{
    /* getsid: harmless, but on no list, so the default applies. */
    syscall(SYS_getsid, 0);
    return 0;
}
static int do_x32(void)
{
    syscall(SYS_getpid | 0x40000000);
    return 0;
}

static void test_ways_out_end_the_process(void)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } cases[] = {
        {"execve", do_execve},   {"ptrace", do_ptrace},
        {"connect", do_connect}, {"sendmsg", do_sendmsg},
        {"recvmsg", do_recvmsg}, {"process_vm_readv", do_process_vm_readv},
        {"bpf", do_bpf},         {"mount", do_mount},
        {"unshare", do_unshare}, {"io_uring_setup", do_io_uring},
        {"setuid", do_setuid},   {"ioctl TIOCSTI", do_tiocsti},
        {"getsid (unlisted)", do_unlisted}, {"x32 getpid", do_x32},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_MSG(killed_by_sigsys(under_filter(WGV_SECCOMP_ENFORCE, cases[i].fn)), "%s",
                  cases[i].name);
}

static int probes_get_errno(void)
{
    errno = 0;
    if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EPERM)
        return 1;
    errno = 0;
    if (fork() != -1 || errno != EPERM)
        return 2;
    errno = 0;
    if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
        return 3;
    errno = 0;
    if (mkdir("/tmp/wgv-seccomp-test-never", 0700) != -1 || errno != EPERM)
        return 4;
    /* Other processes are out of reach: signals and limits. */
    errno = 0;
    if (kill(getppid(), 0) != -1 || errno != EPERM)
        return 5;
    errno = 0;
    struct rlimit rl;
    if (prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl) != -1 || errno != EPERM)
        return 6;
    return 0;
}

static void test_probes_fail_with_errno_and_the_worker_goes_on(void)
{
    CHECK(exited_ok(under_filter(WGV_SECCOMP_ENFORCE, probes_get_errno)));
}

static int unlisted_runs(void)
{
    return syscall(SYS_getsid, 0) >= 0 ? 0 : 1;
}

static void test_log_mode_lets_unlisted_calls_run(void)
{
    CHECK(exited_ok(under_filter(WGV_SECCOMP_LOG, unlisted_runs)));
}

/* Whether WGV_ALLOW_SKIP (suite names separated by commas or spaces) names
 * this suite: only then may it be skipped as a whole. */
static bool skip_allowed(const char *suite)
{
    const char *list = getenv("WGV_ALLOW_SKIP");
    size_t n = strlen(suite);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ", ");
        if (len == n && !strncmp(p, suite, n))
            return true;
        p += len + (p[len] != 0);
    }
    return false;
}

int main(void)
{
    if (!wgv_seccomp_available()) {
#if defined(__x86_64__)
        const char *why = "this kernel has no seccomp filters";
#else
        const char *why = "the worker filter is written for x86-64 only";
#endif
        /* Nothing here can run: a failure, unless skipping was allowed
         * (then exit 77, meson's skip). */
        if (skip_allowed("seccomp")) {
            printf("skip seccomp: %s\n", why);
            printf("seccomp: 0 passed, 0 failed, 1 skipped\n");
            return 77;
        }
        printf("FAIL seccomp: %s (WGV_ALLOW_SKIP=seccomp skips it instead)\n", why);
        printf("seccomp: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_what_rendering_needs_runs);
    RUN(test_status_shows_filter_mode_and_no_new_privs);
    RUN(test_ways_out_end_the_process);
    RUN(test_probes_fail_with_errno_and_the_worker_goes_on);
    RUN(test_log_mode_lets_unlisted_calls_run);
    return harness_finish("seccomp");
}
