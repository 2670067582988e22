/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ma-deny-setuid PROGRAM [ARG...]: runs PROGRAM under the seccomp filter
 * memadvised.service puts the daemon under for its CAP_SETUID and
 * CAP_SETGID: SystemCallArchitectures=native and SystemCallFilter=~@setuid
 * (setuid, setgid, setreuid, setregid, setresuid, setresgid, setgroups
 * kill the process with SIGSYS, as systemd's filter does; setfsuid,
 * setfsgid and capset stay allowed). The tests run the daemon as the unit
 * does where no systemd runs: setpriv gives it the unit's user,
 * capabilities and no_new_privs, this gives it the filter.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "ma-deny-setuid: add this architecture's AUDIT_ARCH"
#endif

#define DENY(nr)                                                                                   \
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                                                \
      BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)

int
main (int argc, char **argv)
{
  struct sock_filter filter[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
#ifdef __X32_SYSCALL_BIT
    /* x32 shares the architecture value: not native either. */
    BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
    DENY (SYS_setuid),
    DENY (SYS_setgid),
    DENY (SYS_setreuid),
    DENY (SYS_setregid),
    DENY (SYS_setresuid),
    DENY (SYS_setresgid),
    DENY (SYS_setgroups),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };

  if (argc < 2)
    {
      fprintf (stderr, "usage: ma-deny-setuid PROGRAM [ARG...]\n");
      return 2;
    }
  /* NoNewPrivileges=yes, which an unprivileged filter needs anyway. */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
      || syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0)
    {
      fprintf (stderr, "ma-deny-setuid: cannot load the filter: %s\n", strerror (errno));
      return 1;
    }
  execv (argv[1], argv + 1);
  fprintf (stderr, "ma-deny-setuid: %s: %s\n", argv[1], strerror (errno));
  return 127;
}
