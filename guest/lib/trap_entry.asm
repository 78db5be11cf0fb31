; Entry points for the 32 CPU exceptions. Each makes the stack look the same
; (a dummy error code where the CPU pushes none, then the vector), saves the
; general registers with PUSHAD and calls trap_handler(frame), which either
; moves frame->eip to a fixup or never returns. See trap.h and trap.c.

section .text
bits 32

%macro TRAP_NOERR 1
trap_entry_%1:
	push 0
	push %1
	jmp trap_common
%endmacro

%macro TRAP_ERR 1
trap_entry_%1:
	push %1
	jmp trap_common
%endmacro

; vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31

extern trap_handler
trap_common:
	pushad
	cld
	push esp			; struct trap_frame *
	call trap_handler
	add esp, 4
	popad
	add esp, 8			; vector and error code
	iretd

section .rodata
global trap_entries
trap_entries:
%assign i 0
%rep 32
	dd trap_entry_ %+ i
%assign i i + 1
%endrep
