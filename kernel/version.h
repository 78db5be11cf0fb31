/* The version string: `git describe` at build time (see the Makefile). */
#ifndef TIDE_VERSION_H
#define TIDE_VERSION_H

extern const char tide_version[];

#endif
