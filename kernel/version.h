/* The version string; the Makefile passes the git description. */
#ifndef TIDE_VERSION_H
#define TIDE_VERSION_H

#ifndef TIDE_VERSION
#define TIDE_VERSION "0.1"
#endif

#endif
