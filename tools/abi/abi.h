/* SPDX-License-Identifier: GPL-2.0 */
/* abi.h - helpers shared by the two translation units of tools/abi-check. */
#ifndef ABI_CHECK_H
#define ABI_CHECK_H

#include <stddef.h>

/* A member as an expression, for sizeof and _Generic (never evaluated). */
#define ABI_MEMBER(s, m)	(((struct s *)0)->m)

/*
 * A number for the arithmetic type of an expression, so that a constant
 * written 1u in one header and 1 in the other, or a __u32 member that is
 * __s32 in the other header, does not pass.  Arrays, pointers and structures
 * all give 0: their layout is checked through sizes and offsets instead.
 */
#define ABI_TYPE(x) _Generic((x),					\
	char: 1, signed char: 2, unsigned char: 3,			\
	short: 4, unsigned short: 5, int: 6, unsigned int: 7,		\
	long: 8, unsigned long: 9, long long: 10, unsigned long long: 11, \
	default: 0)

#endif
