/*
 * Error numbers, with Linux's values: the hypercall ABI returns them to
 * guests as negative numbers, and every internal path propagates negative errno values.
 */
#ifndef TIDE_ERRNO_H
#define TIDE_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENXIO 6
#define EAGAIN 11
#define E2BIG 7
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EOPNOTSUPP 95
#define EBADMSG 74
#define ETIMEDOUT 110

#endif
