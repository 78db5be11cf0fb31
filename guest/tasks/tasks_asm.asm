; tasks: the instructions that switch tasks, and the bodies of the tasks.
;
; The main task makes each switch from a routine below with every general
; register and the arithmetic flags set to the pattern in `regs_in`; when
; it runs again it stores what it finds in `regs_out` (a task switch saves
; them in the old TSS and loads them back from it). Labels *_insn and
; *_next mark the switching instruction and the one after it: the EIP the
; CPU saves is one of the two. The tasks themselves (A, B, C, D, E, F, G:
; see tasks.c) are loops around the instruction that leaves them, since a
; task resumes after it the next time it is entered.
;
; Selectors: keep them in step with tasks.c.

SEL_MAIN	equ 0x30
SEL_A		equ 0x38
SEL_B		equ 0x40
SEL_GATE_A	equ 0x60
SEL_BAD_LIMIT	equ 0x78
SEL_NOT_PRESENT	equ 0x80
SEL_MAIN_BUSY	equ SEL_MAIN
SEL_F		equ 0x88
SEL_TSS16	equ 0x98

EFLAGS_NT	equ 0x4000

extern regs_in, regs_out, far_ptr
extern task_a_record, task_b_record, task_c_record, task_d_record, task_e_record
extern task_g_record
extern task_e_error, task_e_esp, task_g_error, resume_regs

section .text
bits 32

; The eight general registers, in TSS order, to the words at %1.
%macro STORE_GPRS 1
	mov [%1 + 0], eax
	mov [%1 + 4], ecx
	mov [%1 + 8], edx
	mov [%1 + 12], ebx
	mov [%1 + 16], esp
	mov [%1 + 20], ebp
	mov [%1 + 24], esi
	mov [%1 + 28], edi
%endmacro

; One routine of the main task: pattern in, the switch, registers out.
%macro SWITCH_FN 2
global %1, %1_insn, %1_next
%1:
	push ebx
	push esi
	push edi
	push ebp
	pushfd
	push dword [regs_in + 32]
	popfd
	mov eax, [regs_in + 0]
	mov ecx, [regs_in + 4]
	mov edx, [regs_in + 8]
	mov ebx, [regs_in + 12]
	mov ebp, [regs_in + 20]
	mov esi, [regs_in + 24]
	mov edi, [regs_in + 28]
%1_insn:
	%2
%1_next:
	STORE_GPRS regs_out
	pushfd
	pop dword [regs_out + 32]
	popfd
	pop ebp
	pop edi
	pop esi
	pop ebx
	ret
%endmacro

SWITCH_FN ts_call_direct, {call SEL_A:0}
SWITCH_FN ts_call_mem, {call far [far_ptr]}
SWITCH_FN ts_call_gate, {call SEL_GATE_A:0}
SWITCH_FN ts_jmp_direct, {jmp SEL_B:0}
SWITCH_FN ts_jmp_mem, {jmp far [far_ptr]}
SWITCH_FN ts_div0, {div ecx}		; #DE through a task gate: a fault
SWITCH_FN ts_load_ds, {mov ds, eax}	; #GP(selector) through a task gate
SWITCH_FN ts_int40, {int 0x40}		; INT n through a task gate
SWITCH_FN ts_int3, {int3}		; #BP, a trap, through a task gate
SWITCH_FN ts_call_f, {call SEL_F:0}	; #TS in the new task, through a task gate
SWITCH_FN ts_call_tss16, {call SEL_TSS16:0}

; The register pattern a task sets before it leaves (its TSS must hold it).
%macro TASK_PATTERN 1
	mov eax, %1 + 0x00
	mov ecx, %1 + 0x11
	mov edx, %1 + 0x22
	mov ebx, %1 + 0x33
	mov ebp, %1 + 0x55
	mov esi, %1 + 0x66
	mov edi, %1 + 0x77
%endmacro

; Where a task resumes: store its registers for tasks.c to compare.
%macro TASK_RESUMED 0
	STORE_GPRS resume_regs
%endmacro

; A: called (CALL, or CALL through a task gate), returns with IRET (NT=1).
global task_a_entry, task_a_iret, task_a_next
task_a_entry:
	call task_a_record
	TASK_PATTERN 0xa0a0a000
task_a_iret:
	iret
task_a_next:
	TASK_RESUMED
	jmp task_a_entry

; B: jumped to, jumps back to the main task.
global task_b_entry, task_b_jmp, task_b_next
task_b_entry:
	call task_b_record
	TASK_PATTERN 0xb0b0b000
task_b_jmp:
	jmp SEL_MAIN:0
task_b_next:
	TASK_RESUMED
	jmp task_b_entry

; C: the task gate of #DE, INT 0x40 and #BP (no error code).
global task_c_entry
task_c_entry:
	call task_c_record
	iret
	jmp task_c_entry

; D: its own CR3 (paging on).
global task_d_entry
task_d_entry:
	call task_d_record
	iret
	jmp task_d_entry

; E: the task gate of #GP: the error code is on its stack.
global task_e_entry
task_e_entry:
	pop dword [task_e_error]
	mov [task_e_esp], esp
	call task_e_record
	iret
	jmp task_e_entry

; F: its TSS names a DS beyond the GDT, so the switch to it raises #TS
; once in F; G, the task gate of #TS, repairs F's TSS to resume here.
global task_f_recover
task_f_recover:
	iret
	jmp task_f_recover

global task_g_entry
task_g_entry:
	pop dword [task_g_error]
	call task_g_record
	iret
	jmp task_g_entry

; IRET with NT=1 whose back-link is not a busy TSS: #TS(back-link) with
; nothing changed. Returns the vector (or -1) through trap_last.
global ts_iret_bad_link
ts_iret_bad_link:
	push ebp
	mov ebp, esp
	pushfd
	or dword [esp], EFLAGS_NT
	popfd
.iret:
	iret				; faults before it pops anything
.fixup:
	pushfd
	and dword [esp], ~EFLAGS_NT
	popfd
	mov esp, ebp
	pop ebp
	ret

; The 16-bit TSS's task: an IRET at a low address (its IP is 16 bits).
global task16_code, task16_code_end
task16_code:
	iret
	jmp task16_code
task16_code_end:

section .guest_extable progbits alloc noexec nowrite align=4
	dd ts_iret_bad_link.iret, ts_iret_bad_link.fixup
