#!/bin/sh
# Runs QEMU and turns isa-debug-exit's status into an ordinary one: Tide
# writes 0 (success) or 1 (failure), QEMU exits with (value << 1) | 1.
"$@"
status=$?
case $status in
1) exit 0 ;;
3) echo "tide reported failure" >&2; exit 1 ;;
*) echo "qemu exited with status $status (Tide did not power off by itself)" >&2; exit "$status" ;;
esac
