/* The Linux errno values the Tide hypercall ABI returns, negated. */
#ifndef GUEST_ERRNO_H
#define GUEST_ERRNO_H

#define EPERM 1
#define EFAULT 14
#define EINVAL 22
#define ENOSYS 38
#define EOPNOTSUPP 95

#endif
