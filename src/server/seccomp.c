/* The isolated worker's system-call filter (docs/isolation.md, "System
 * calls"). A classic-BPF program, built at run time because two of its rules
 * name the worker's own pid:
 *
 *   1. a call of another architecture (i386 through int 0x80, x32) ends the
 *      process;
 *   2. rules that look at arguments: ioctl (no terminal injection), clone
 *      (threads only), kill/tgkill/rt_*sigqueueinfo (own process only),
 *      prlimit64 (own process only);
 *   3. the calls rendering needs run;
 *   4. a few calls fail with an errno instead of ending the worker, because
 *      libraries probe them and cope (listed in `refused` with the reason);
 *   5. everything else, the explicit `denied` list first, ends the process
 *      (SECCOMP_RET_KILL_PROCESS: SIGSYS, the parent logs it).
 *
 * The lists were collected by running the parity suite, the examples and the
 * wire tests through isolated servers under `strace -f -c` on lavapipe and
 * with the filter in log mode on an NVIDIA H100 (docs/isolation.md). */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__)
bool wgv_seccomp_available(void)
{
    return false;
}

bool wgv_seccomp_install(enum wgv_seccomp_mode mode, char *err, size_t errlen)
{
    (void)mode;
    snprintf(err, errlen, "seccomp: the worker filter is written for x86-64 only");
    return false;
}
#else

#define X32_SYSCALL_BIT 0x40000000u

/* Hot calls first: a worker makes these all the time (ring doorbells, GPU
 * submissions, polling), and the first match ends the walk. */
static const int hot[] = {
    __NR_futex, __NR_read, __NR_write, __NR_ppoll, __NR_poll, __NR_recvfrom,
    __NR_mmap, __NR_munmap, __NR_mprotect, __NR_madvise, __NR_sched_yield,
    __NR_clock_gettime, __NR_clock_nanosleep, __NR_nanosleep, __NR_getpid, __NR_gettid,
};

/* The rest of what rendering needs (Dawn, the Vulkan loader and ICDs, LLVM
 * for lavapipe, the NVIDIA driver, glibc underneath them). */
static const int allowed[] = {
    /* memory */
    __NR_brk, __NR_mremap, __NR_mlock, __NR_munlock, __NR_mincore, __NR_membarrier,
    __NR_memfd_create, __NR_get_mempolicy,
    /* files that are already open, or opened read-mostly by the loader and
     * drivers (ICD manifests, device nodes, /proc and /sys); the worker's
     * uid decides which */
    __NR_open, __NR_openat, __NR_close, __NR_pread64, __NR_pwrite64, __NR_readv, __NR_writev,
    __NR_lseek, __NR_fstat, __NR_stat, __NR_lstat, __NR_newfstatat, __NR_statx, __NR_statfs,
    __NR_fstatfs, __NR_getdents64, __NR_readlink, __NR_readlinkat, __NR_access,
    __NR_faccessat, __NR_faccessat2, __NR_getcwd, __NR_fcntl, __NR_flock, __NR_dup, __NR_dup2,
    __NR_dup3, __NR_pipe2, __NR_ftruncate, __NR_fallocate, __NR_fadvise64, __NR_fsync,
    __NR_fdatasync, __NR_close_range,
    /* the worker hangs up on its guest before it destroys the context */
    __NR_shutdown,
    /* waiting and events */
    __NR_select, __NR_pselect6, __NR_epoll_create1, __NR_epoll_ctl, __NR_epoll_wait,
    __NR_epoll_pwait, __NR_epoll_pwait2, __NR_eventfd2, __NR_timerfd_create,
    __NR_timerfd_settime, __NR_timerfd_gettime, __NR_futex_waitv,
    /* threads and signals (clone has its own rule) */
    __NR_set_robust_list, __NR_get_robust_list, __NR_rseq, __NR_set_tid_address, __NR_exit,
    __NR_exit_group, __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
    __NR_sigaltstack, __NR_rt_sigtimedwait, __NR_rt_sigsuspend, __NR_restart_syscall,
    /* scheduling */
    __NR_sched_getaffinity, __NR_sched_setaffinity, __NR_sched_getparam,
    __NR_sched_getscheduler, __NR_sched_setscheduler, __NR_sched_get_priority_max,
    __NR_sched_get_priority_min, __NR_sched_getattr, __NR_sched_setattr, __NR_getpriority,
    __NR_setpriority, __NR_getcpu,
    /* about the process and the machine */
    __NR_getppid, __NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid, __NR_getresuid,
    __NR_getresgid, __NR_getgroups, __NR_getrlimit, __NR_getrusage, __NR_times, __NR_sysinfo,
    __NR_uname, __NR_prctl, __NR_arch_prctl, __NR_getrandom, __NR_gettimeofday, __NR_time,
    __NR_clock_getres,
};

/* Calls that fail with an errno instead of ending the worker: libraries try
 * them and go on without. */
struct refusal {
    int nr;
    int err;
};
static const struct refusal refused[] = {
    /* glibc's pthread_create tries clone3 first and falls back to clone on
     * ENOSYS; clone's flags can be checked, clone3's (in memory) cannot. */
    {__NR_clone3, ENOSYS},
    /* Helper processes (a driver running nvidia-modprobe, say) and daemon
     * sockets: the worker needs neither after the handshake. */
    {__NR_fork, EPERM},
    {__NR_vfork, EPERM},
    {__NR_socket, EPERM},
    {__NR_socketpair, EPERM},
    {__NR_tkill, EPERM},
    /* Shader caches: drivers create their folders and files and carry on
     * without them when refused. */
    {__NR_mkdir, EPERM},
    {__NR_mkdirat, EPERM},
    {__NR_unlink, EPERM},
    {__NR_unlinkat, EPERM},
    {__NR_rename, EPERM},
    {__NR_renameat, EPERM},
    {__NR_renameat2, EPERM},
    {__NR_link, EPERM},
    {__NR_linkat, EPERM},
    {__NR_symlink, EPERM},
    {__NR_symlinkat, EPERM},
    {__NR_chmod, EPERM},
    {__NR_fchmod, EPERM},
    {__NR_fchmodat, EPERM},
    {__NR_chown, EPERM},
    {__NR_fchown, EPERM},
    {__NR_fchownat, EPERM},
    {__NR_lchown, EPERM},
    {__NR_utimensat, EPERM},
    {__NR_truncate, EPERM},
    {__NR_inotify_init1, EPERM},
};

/* Never needed, and each a classic way out of a sandbox: listed so that no
 * edit of the lists above can let one in unnoticed (wgv_seccomp_install
 * refuses overlaps), and matched before them. The default would end the
 * process for them anyway. */
static const int denied[] = {
    __NR_execve, __NR_execveat, __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
    __NR_connect, __NR_bind, __NR_listen, __NR_accept, __NR_accept4, __NR_sendto,
    __NR_sendmsg, __NR_sendmmsg, __NR_recvmsg, __NR_recvmmsg, __NR_mount, __NR_umount2,
    __NR_pivot_root, __NR_chroot, __NR_kexec_load, __NR_kexec_file_load, __NR_bpf,
    __NR_perf_event_open, __NR_userfaultfd, __NR_init_module, __NR_finit_module,
    __NR_delete_module, __NR_reboot, __NR_swapon, __NR_swapoff, __NR_setns, __NR_unshare,
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register, __NR_keyctl,
    __NR_add_key, __NR_request_key, __NR_setuid, __NR_setgid, __NR_setreuid, __NR_setregid,
    __NR_setresuid, __NR_setresgid, __NR_setgroups, __NR_setfsuid, __NR_setfsgid,
    __NR_capset, __NR_personality, __NR_iopl, __NR_ioperm, __NR_modify_ldt,
    __NR_open_by_handle_at, __NR_name_to_handle_at, __NR_fanotify_init, __NR_quotactl,
    __NR_acct, __NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime, __NR_adjtimex,
    __NR_sethostname, __NR_setdomainname, __NR_vhangup, __NR_pidfd_open, __NR_pidfd_getfd,
    __NR_pidfd_send_signal, __NR_kcmp, __NR_syslog, __NR_move_mount, __NR_fsopen,
    __NR_fsmount, __NR_fsconfig, __NR_fspick, __NR_open_tree, __NR_mount_setattr,
    __NR_memfd_secret, __NR_seccomp, __NR_process_madvise, __NR_mknod, __NR_mknodat,
    __NR_lookup_dcookie, __NR_nfsservctl, __NR_uselib, __NR_ustat, __NR_sysfs,
};

/* Flags glibc's pthread_create passes to clone: a thread shares memory,
 * files, filesystem state and signal handlers; nothing else may come. */
#define CLONE_THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define CLONE_NEVER                                                                    \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |     \
     CLONE_NEWPID | CLONE_NEWNET | CLONE_PTRACE | CLONE_UNTRACED | CLONE_VFORK |       \
     CLONE_PARENT | CLONE_PIDFD)

struct prog {
    struct sock_filter ins[BPF_MAXINSNS];
    unsigned n;
    bool full;
};

static void emit(struct prog *p, struct sock_filter f)
{
    if (p->n < BPF_MAXINSNS)
        p->ins[p->n++] = f;
    else
        p->full = true;
}

#define LD(off) emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define RET(action) emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (action)))
#define JEQ(k, jt, jf) emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (jt), (jf)))
#define ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define NR ((uint32_t)offsetof(struct seccomp_data, nr))

/* `nr` -> action; A must hold the call's number. */
static void rule(struct prog *p, int nr, uint32_t action)
{
    JEQ((uint32_t)nr, 0, 1);
    RET(action);
}

/* `nr` whose argument `arg` (its low 32 bits, all the kernel reads of an
 * int) is `a` or `b` -> allow, otherwise -> `otherwise`. A holds the call's
 * number; it is clobbered only on the way to a return. */
static void rule_arg_in(struct prog *p, int nr, unsigned arg, uint32_t a, uint32_t b, uint32_t otherwise)
{
    JEQ((uint32_t)nr, 0, 5);
    LD(ARG_LO(arg));
    JEQ(a, 1, 0);
    JEQ(b, 0, 1);
    RET(SECCOMP_RET_ALLOW);
    RET(otherwise);
}

static bool listed(const int *list, size_t n, int nr)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == nr)
            return true;
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Each call in at most one list, and none of the hand-ruled ones in any. */
static int first_overlap(void)
{
    static const int ruled[] = {__NR_ioctl, __NR_clone, __NR_kill, __NR_tgkill,
                                __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo, __NR_prlimit64};
    int refused_nr[COUNT(refused)];
    for (size_t i = 0; i < COUNT(refused); i++)
        refused_nr[i] = refused[i].nr;
    struct {
        const int *list;
        size_t n;
    } lists[] = {{hot, COUNT(hot)},
                 {allowed, COUNT(allowed)},
                 {refused_nr, COUNT(refused)},
                 {denied, COUNT(denied)},
                 {ruled, COUNT(ruled)}};
    for (size_t a = 0; a < COUNT(lists); a++)
        for (size_t i = 0; i < lists[a].n; i++) {
            int nr = lists[a].list[i];
            if (listed(lists[a].list + i + 1, lists[a].n - i - 1, nr))
                return nr;
            for (size_t b = a + 1; b < COUNT(lists); b++)
                if (listed(lists[b].list, lists[b].n, nr))
                    return nr;
        }
    return -1;
}

static void build(struct prog *p, enum wgv_seccomp_mode mode, pid_t self)
{
    const uint32_t deny = mode == WGV_SECCOMP_LOG ? SECCOMP_RET_LOG : SECCOMP_RET_KILL_PROCESS;
    const uint32_t eperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);

    /* 1. Only x86-64's own calls. */
    LD((uint32_t)offsetof(struct seccomp_data, arch));
    JEQ(AUDIT_ARCH_X86_64, 1, 0);
    RET(SECCOMP_RET_KILL_PROCESS);
    LD(NR);
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
    RET(SECCOMP_RET_KILL_PROCESS);

    /* 2. Argument rules. ioctl is every GPU driver's interface, so any
     * request passes except the two that push input into a terminal (the
     * worker's stderr may be one). */
    JEQ(__NR_ioctl, 0, 5);
    LD(ARG_LO(1));
    JEQ(TIOCSTI, 2, 0);
    JEQ(TIOCLINUX, 1, 0);
    RET(SECCOMP_RET_ALLOW);
    RET(deny);

    for (size_t i = 0; i < COUNT(hot); i++)
        rule(p, hot[i], SECCOMP_RET_ALLOW);

    /* clone: threads yes (glibc: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|
     * SETTLS|PARENT_SETTID|CHILD_CLEARTID), new processes and namespaces no. */
    JEQ(__NR_clone, 0, 5);
    LD(ARG_LO(0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, CLONE_THREAD_FLAGS | CLONE_NEVER));
    JEQ(CLONE_THREAD_FLAGS, 0, 1);
    RET(SECCOMP_RET_ALLOW);
    RET(eperm);

    /* Signals to this process only (raise, abort and glibc's set*id
     * broadcast all name it); resource limits of this process only. */
    rule_arg_in(p, __NR_kill, 0, (uint32_t)self, (uint32_t)self, eperm);
    rule_arg_in(p, __NR_tgkill, 0, (uint32_t)self, (uint32_t)self, eperm);
    rule_arg_in(p, __NR_rt_sigqueueinfo, 0, (uint32_t)self, (uint32_t)self, eperm);
    rule_arg_in(p, __NR_rt_tgsigqueueinfo, 0, (uint32_t)self, (uint32_t)self, eperm);
    rule_arg_in(p, __NR_prlimit64, 0, 0, (uint32_t)self, eperm);

    /* 5 (first the explicit part), 3, 4, then the default. */
    for (size_t i = 0; i < COUNT(denied); i++)
        rule(p, denied[i], deny);
    for (size_t i = 0; i < COUNT(allowed); i++)
        rule(p, allowed[i], SECCOMP_RET_ALLOW);
    for (size_t i = 0; i < COUNT(refused); i++)
        rule(p, refused[i].nr, SECCOMP_RET_ERRNO | ((uint32_t)refused[i].err & SECCOMP_RET_DATA));
    RET(deny);
}

bool wgv_seccomp_available(void)
{
    /* EINVAL: the kernel was built without seccomp filters. */
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

bool wgv_seccomp_install(enum wgv_seccomp_mode mode, char *err, size_t errlen)
{
    int overlap = first_overlap();
    if (overlap >= 0) {
        snprintf(err, errlen, "seccomp: system call %d is in two lists of the filter", overlap);
        return false;
    }
    static struct prog p; /* 32 KiB: not on a thread's stack */
    memset(&p, 0, sizeof(p));
    build(&p, mode, getpid());
    if (p.full) {
        snprintf(err, errlen, "seccomp: the filter does not fit in %d instructions", BPF_MAXINSNS);
        return false;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return false;
    }
    struct sock_fprog fprog = {.len = (unsigned short)p.n, .filter = p.ins};
    /* TSYNC: threads the backend may already have started get it too. */
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog) != 0) {
        snprintf(err, errlen, "seccomp: installing the filter (%u instructions): %s", p.n,
                 strerror(errno));
        return false;
    }
    return true;
}
#endif
